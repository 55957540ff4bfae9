import Foundation
import Neuraxon
import NeuraxonSimulation

/// A report's plots as PNG images, for papers (`neuraxon report --png DIR`, Docs/REPORTS.md).
///
/// A time plot carries its y range and time span as numbers in a small pixel font; titles are
/// not drawn: each file's name says what it shows, and `index.txt` beside them lists every file
/// with its title, y range and time span. Each file is written atomically.
public enum ReportPNG {
    /// Time plots' size in pixels.
    public static let plotWidth = 1200, plotHeight = 300
    /// The path image is at most this wide or high, in pixels.
    public static let worldSize = 900
    /// Rasters are about this wide; each column is a whole number of pixels.
    public static let rasterWidth = 1200

    /// One image to write: its file name, what it shows, and its PNG bytes.
    public struct Image: Sendable {
        public var fileName: String
        public var title: String
        public var png: [UInt8]
        public var width: Int
        public var height: Int
    }

    /// Every plot of `data` as an image, in the order the report shows them.
    public static func images(_ data: ReportData) -> [Image] {
        var out: [Image] = []
        if let world = worldImage(data) { out.append(world) }
        let plots = ReportPlots(data)
        for plot in plots.timePlots {
            let range = ReportPlots.yRange(plot)
            let image = timePlot(plot, data, range: range)
            let what = range.map { "y from \(Markup.label($0.0)) to \(Markup.label($0.1))" } ?? "no values"
            out.append(Image(fileName: plot.id + ".png", title: "\(plot.title); \(what); time 0 to \(String(format: "%.3f", data.seconds)) s",
                             png: image.pngData(), width: image.width, height: image.height))
        }
        for raster in plots.rasters {
            let r = raster.raster
            let cellWidth = max(1, rasterWidth / max(1, r.groups))
            let cellHeight = max(1, min(8, 600 / max(1, r.rows)))
            let image = r.image(cellWidth: cellWidth, cellHeight: cellHeight)
            out.append(Image(fileName: raster.id + ".png",
                             title: "\(raster.title): \(r.rows) rows top to bottom, \(r.groups) columns over 0 to \(String(format: "%.3f", data.seconds)) s; red +1, white 0, blue -1",
                             png: image.pngData(), width: image.width, height: image.height))
        }
        return out
    }

    /// An image folder or file that could not be written.
    public struct WriteError: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    /// Writes `images` and their `index.txt` into `folder` (created if missing).
    /// - Throws: `WriteError` naming the folder or file that could not be written.
    public static func write(_ images: [Image], to folder: String) throws(WriteError) {
        var isFolder: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw WriteError(path: folder, message: "cannot create the folder: check its parent exists and is writable")
            }
        } else if !isFolder.boolValue {
            throw WriteError(path: folder, message: "is a file, not a folder: give --png a folder")
        }
        var index = ""
        do {
            for image in images {
                try AtomicFile.replace(folder + "/" + image.fileName, with: image.png)
                index += "\(image.fileName)\t\(image.width)×\(image.height)\t\(image.title)\n"
            }
            try AtomicFile.replace(folder + "/index.txt", with: Array(index.utf8))
        } catch {
            throw WriteError(path: error.path, message: error.message)
        }
    }

    private static func timePlot(_ plot: ReportPlots.TimePlot, _ data: ReportData, range: (Double, Double)?) -> PNGImage {
        var image = PNGImage(width: plotWidth, height: plotHeight)
        // Room on the left for the y range and below for the time span, in the image's pixel font.
        let (l, r, t, b) = (8.0 + Double(labelWidth), Double(plotWidth) - 8, 8.0, Double(plotHeight) - 22)
        let frame = PNGImage.Color(150, 150, 150)
        image.line(l, t, r, t, frame); image.line(l, b, r, b, frame)
        image.line(l, t, l, b, frame); image.line(r, t, r, b, frame)
        let ink = PNGImage.Color(60, 60, 60)
        image.text("0s", x: Int(l), y: Int(b) + 6, ink)
        let end = String(format: "%.2fs", data.seconds)
        image.text(end, x: Int(r) - PNGImage.textWidth(end), y: Int(b) + 6, ink)
        guard let (lo, hi) = range else { return image }
        let (top, bottom) = (axisLabel(hi), axisLabel(lo))
        image.text(top, x: Int(l) - 6 - PNGImage.textWidth(top), y: Int(t), ink)
        image.text(bottom, x: Int(l) - 6 - PNGImage.textWidth(bottom), y: Int(b) - 10, ink)
        let total = max(data.seconds, 1e-9)
        func x(_ g: Int) -> Double { l + data.groupSeconds[g] / total * (r - l) }
        func y(_ v: Double) -> Double { t + (hi - v) / (hi - lo) * (b - t) }
        for (s, color) in plot.lines {
            if data.groupSize > 1 {
                let light = PNGImage.Color(UInt8(255 - (255 - Int(color.r)) / 4), UInt8(255 - (255 - Int(color.g)) / 4), UInt8(255 - (255 - Int(color.b)) / 4))
                for g in s.mean.indices where g < data.groupSeconds.count && s.minimum[g].isFinite {
                    image.line(x(g), y(s.minimum[g]), x(g), y(s.maximum[g]), light)
                }
            }
            var previous: Int?
            for g in s.mean.indices where g < data.groupSeconds.count {
                guard s.mean[g].isFinite else { previous = nil; continue }
                if let p = previous { image.line(x(p), y(s.mean[p]), x(g), y(s.mean[g]), color, thickness: 2) }
                else { image.disc(x(g), y(s.mean[g]), radius: 1, color) }
                previous = g
            }
        }
        return image
    }

    /// Pixels left of a time plot's frame for its y labels: nine characters of the pixel font.
    static let labelWidth = PNGImage.textWidth("-0.000e+00") + 8

    /// A y-axis label in the pixel font's characters: up to four significant digits.
    static func axisLabel(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e7 { return String(Int64(x)) }
        return String(format: "%.4g", x)
    }

    private static func worldImage(_ data: ReportData) -> Image? {
        guard let bounds = ReportPlots.bounds(data) else { return nil }
        let scale = Double(worldSize - 20) / max(bounds.x1 - bounds.x0, bounds.y1 - bounds.y0)
        let width = Int(((bounds.x1 - bounds.x0) * scale).rounded()) + 20, height = Int(((bounds.y1 - bounds.y0) * scale).rounded()) + 20
        var image = PNGImage(width: width, height: height)
        func x(_ v: Double) -> Double { 10 + (v - bounds.x0) * scale }
        func y(_ v: Double) -> Double { 10 + (bounds.y1 - v) * scale }
        let grey = PNGImage.Color(120, 120, 120), dark = PNGImage.Color(50, 50, 50)
        if let world = data.world {
            let corners = [(0.0, 0.0), (world.arenaWidth, 0), (world.arenaWidth, world.arenaHeight), (0, world.arenaHeight), (0, 0)]
            for k in 0..<4 { image.line(x(corners[k].0), y(corners[k].1), x(corners[k + 1].0), y(corners[k + 1].1), dark, thickness: 3) }
            for o in world.obstacles {
                switch o {
                case let .segment(from, to):
                    image.line(x(from.x), y(from.y), x(to.x), y(to.y), dark, thickness: 3)
                case let .box(center, size, angle):
                    let c = ReportPlots.corners(center: center, size: size, angle: angle)
                    // Filled by scan: every pixel inside the rotated rectangle.
                    let (hx, hy) = (size.x / 2, size.y / 2)
                    let xs = c.map { x($0.x) }, ys = c.map { y($0.y) }
                    for py in Int(ys.min()!)...Int(ys.max()!.rounded(.up)) {
                        for px in Int(xs.min()!)...Int(xs.max()!.rounded(.up)) {
                            let world = Vector2(bounds.x0 + (Double(px) - 10) / scale, bounds.y1 - (Double(py) - 10) / scale) - center
                            let local = world.rotated(by: -angle)
                            if abs(local.x) <= hx, abs(local.y) <= hy { image.set(px, py, PNGImage.Color(190, 190, 190)) }
                        }
                    }
                    for k in 0..<4 { image.line(xs[k], ys[k], xs[(k + 1) % 4], ys[(k + 1) % 4], grey) }
                case let .circle(center, radius):
                    image.disc(x(center.x), y(center.y), radius: radius * scale, PNGImage.Color(190, 190, 190))
                }
            }
            for light in world.lights {
                let steps = 90
                for k in stride(from: 0, to: steps, by: 2) {
                    let (a0, a1) = (Double(k) / Double(steps) * 2 * .pi, Double(k + 1) / Double(steps) * 2 * .pi)
                    let rr = world.nearLightRadius
                    image.line(x(light.position.x + rr * cos(a0)), y(light.position.y + rr * sin(a0)),
                               x(light.position.x + rr * cos(a1)), y(light.position.y + rr * sin(a1)), PNGImage.Color(212, 176, 0))
                }
                image.disc(x(light.position.x), y(light.position.y), radius: 7, PNGImage.Color(255, 215, 0))
            }
        }
        let points = data.path
        let total = max(points.last?.seconds ?? 0, 1e-9)
        for k in points.indices.dropFirst() {
            image.line(x(points[k - 1].x), y(points[k - 1].y), x(points[k].x), y(points[k].y),
                       ReportPlots.timeColor(points[k - 1].seconds / total), thickness: 2)
        }
        if let first = points.first { image.disc(x(first.x), y(first.y), radius: 6, PNGImage.Color(44, 160, 44)) }
        for c in data.contacts { image.disc(x(c.x), y(c.y), radius: 4, PNGImage.Color(214, 39, 40)) }
        return Image(fileName: "path.png",
                     title: (data.world.map { "path in world \($0.name)" } ?? "path")
                        + String(format: ", x from %.3f to %.3f m, y from %.3f to %.3f m; coloured dark blue (start) to yellow (end); green start, red contacts", bounds.x0, bounds.x1, bounds.y0, bounds.y1),
                     png: image.pngData(), width: image.width, height: image.height)
    }
}
