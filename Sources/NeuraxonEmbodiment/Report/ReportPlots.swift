import Foundation
import NeuraxonSimulation

/// The plots of a report, drawn the same way as inline SVG (`ReportHTML`) and as PNG images
/// (`ReportPNG`): one source for what each plot holds.
public struct ReportPlots: Sendable {
    /// A time plot: one or more down-sampled series over the run's time.
    public struct TimePlot: Sendable {
        /// A name safe in a file name: letters, digits, `-` and `_` only.
        public var id: String
        public var title: String
        public var lines: [(series: ReportData.Series, color: PNGImage.Color)]
    }

    /// A trit raster: rows of neurons over time.
    public struct RasterPlot: Sendable {
        public var id: String
        public var title: String
        public var raster: ReportData.Raster
    }

    public var timePlots: [TimePlot] = []
    public var rasters: [RasterPlot] = []

    static let palette: [PNGImage.Color] = [
        .init(31, 119, 180), .init(214, 39, 40), .init(44, 160, 44), .init(255, 127, 14),
        .init(148, 103, 189), .init(140, 86, 75), .init(227, 119, 194), .init(23, 190, 207),
    ]
    static let lineColor = PNGImage.Color(31, 119, 180)

    public init(_ data: ReportData) {
        for (k, s) in data.raw.enumerated() {
            timePlots.append(TimePlot(id: "raw-\(k)-" + Self.fileSafe(s.name), title: "raw \(s.name)" + Self.unit(s.unit), lines: [(s, Self.lineColor)]))
        }
        for (k, s) in data.values.enumerated() {
            timePlots.append(TimePlot(id: "value-\(k)-" + Self.fileSafe(s.name), title: "calibrated \(s.name)", lines: [(s, Self.lineColor)]))
        }
        for (k, s) in data.setpoints.enumerated() {
            timePlots.append(TimePlot(id: "setpoint-\(k)-" + Self.fileSafe(s.name), title: "setpoint \(s.name)" + Self.unit(s.unit), lines: [(s, Self.palette[1])]))
        }
        timePlots.append(TimePlot(id: "neuromodulators", title: "neuromodulators (0…1)",
                                  lines: data.modulators.enumerated().map { ($1, Self.palette[$0 % Self.palette.count]) }))
        timePlots.append(TimePlot(id: "latency", title: "loop latency, sensor frame received → command sent (µs)",
                                  lines: [(data.latency, Self.palette[4])]))
        var io = data.inputs
        io.append(data.outputs)
        rasters.append(RasterPlot(id: "trits", title: "input and output trits", raster: io))
        if let neurons = data.neurons {
            rasters.append(RasterPlot(id: "neurons", title: "every neuron's state", raster: neurons))
        }
    }

    private static func unit(_ u: String) -> String { u.isEmpty ? "" : " (\(u))" }

    /// `s` with every character but ASCII letters, digits, `-` and `_` replaced by `_`.
    static func fileSafe(_ s: String) -> String {
        let kept = s.unicodeScalars.map { c -> Character in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_") ? Character(c) : "_"
        }
        return String(kept.prefix(60))
    }

    /// The colour of a mean trit state m (−1…1): white at 0, red toward +1, blue toward −1.
    static func tritColor(_ m: Double) -> PNGImage.Color {
        let t = min(1, abs(m))
        let target: (Double, Double, Double) = m >= 0 ? (200, 30, 30) : (30, 70, 200)
        func mix(_ c: Double) -> UInt8 { UInt8((255 + (c - 255) * t).rounded()) }
        return PNGImage.Color(mix(target.0), mix(target.1), mix(target.2))
    }

    /// The path's colour at fraction f (0…1) of the run: dark blue → teal → yellow.
    static func timeColor(_ f: Double) -> PNGImage.Color {
        let stops: [(Double, Double, Double)] = [(68, 1, 84), (33, 145, 140), (253, 231, 37)]
        let x = min(1, max(0, f)) * 2
        let k = min(1, Int(x))
        let t = x - Double(k)
        let (a, b) = (stops[k], stops[k + 1])
        return PNGImage.Color(UInt8(a.0 + (b.0 - a.0) * t), UInt8(a.1 + (b.1 - a.1) * t), UInt8(a.2 + (b.2 - a.2) * t))
    }

    /// The range a plot's y axis spans: over every finite minimum and maximum, widened when flat.
    static func yRange(_ plot: TimePlot) -> (Double, Double)? {
        var lo = Double.infinity, hi = -Double.infinity
        for (s, _) in plot.lines {
            for v in s.minimum where v.isFinite { lo = min(lo, v) }
            for v in s.maximum where v.isFinite { hi = max(hi, v) }
        }
        guard lo.isFinite, hi.isFinite else { return nil }
        if hi - lo < 1e-9 { return (lo - 1, hi + 1) }
        return (lo, hi)
    }

    /// The world's rectangle to draw (the arena, or the path's bounds with a margin).
    static func bounds(_ data: ReportData) -> (x0: Double, y0: Double, x1: Double, y1: Double)? {
        if let w = data.world { return (0, 0, w.arenaWidth, w.arenaHeight) }
        guard !data.path.isEmpty else { return nil }
        let xs = data.path.map(\.x), ys = data.path.map(\.y)
        let margin = max(0.1, 0.05 * max(xs.max()! - xs.min()!, ys.max()! - ys.min()!))
        return (xs.min()! - margin, ys.min()! - margin, xs.max()! + margin, ys.max()! + margin)
    }

    /// The corners of a box obstacle.
    static func corners(center: Vector2, size: Vector2, angle: Double) -> [Vector2] {
        let (hx, hy) = (size.x / 2, size.y / 2)
        return [Vector2(-hx, -hy), Vector2(hx, -hy), Vector2(hx, hy), Vector2(-hx, hy)].map { center + $0.rotated(by: angle) }
    }
}

extension ReportData.Raster {
    /// This raster with `other`'s rows below its own (both must have the same groups).
    mutating func append(_ other: ReportData.Raster) {
        var s: [Int32] = []
        s.reserveCapacity(groups * (rows + other.rows))
        for g in 0..<groups {
            s.append(contentsOf: sums[(g * rows)..<((g + 1) * rows)])
            if g < other.groups { s.append(contentsOf: other.sums[(g * other.rows)..<((g + 1) * other.rows)]) }
            else { s.append(contentsOf: repeatElement(0, count: other.rows)) }
        }
        sums = s
        rows += other.rows
        labels += other.labels
    }

    /// The raster as an image: one column of `cellWidth` pixels per group, one row of
    /// `cellHeight` pixels per neuron (the first row on top).
    func image(cellWidth: Int, cellHeight: Int) -> PNGImage {
        var image = PNGImage(width: max(1, groups) * cellWidth, height: max(1, rows) * cellHeight)
        for g in 0..<groups {
            for r in 0..<rows {
                let m = mean(group: g, row: r)
                if m == 0 { continue }
                image.fill(x0: g * cellWidth, y0: r * cellHeight, x1: (g + 1) * cellWidth, y1: (r + 1) * cellHeight, ReportPlots.tritColor(m))
            }
        }
        return image
    }
}
