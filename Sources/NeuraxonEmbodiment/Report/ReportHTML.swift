import Foundation
import NeuraxonSimulation

/// A recording's report as one self-contained HTML file (Docs/REPORTS.md): inline CSS, inline
/// SVG for the path and the time plots, the rasters as PNG images inside the SVG (`data:` URIs),
/// no script and no reference to anything outside the file. The markup is well-formed XML
/// (XHTML syntax, every element closed), so XML tools read it as well as browsers. It names no
/// namespace URI either: an HTML page needs none for inline SVG.
public enum ReportHTML {
    /// Plot size in CSS pixels.
    static let plotWidth = 860.0, plotHeight = 140.0
    static let left = 64.0, right = 12.0, top = 8.0, bottom = 22.0
    /// The path's drawing, at most this wide or high.
    static let worldSize = 560.0
    /// Segments of the path, each in one colour of the time scale.
    static let pathSegments = 64

    /// The report of `data`.
    /// - Parameters:
    ///   - title: what the report is of (the recording's file name).
    ///   - metrics: the run's metrics file as key → value text (e.g. `FILE.metrics.json`), if any.
    public static func render(_ data: ReportData, title: String, metrics: [(String, String)] = []) -> String {
        var m = Markup()
        m.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>")
        m.element("title", text: "Neuraxon run report: \(title)")
        m.raw("<style>\(css)</style></head><body>")
        m.element("h1", text: "Neuraxon run report: \(title)")
        if data.stop != .complete {
            m.open("p", ["class": "warning", "id": "read-stop"])
            m.text(stopText(data))
            m.close("p")
        }
        summary(data, into: &m)
        if !metrics.isEmpty {
            m.element("h2", text: "Metrics")
            m.open("table", ["id": "metrics"])
            for (k, v) in metrics {
                m.open("tr"); m.element("th", text: k); m.element("td", text: v); m.close("tr")
            }
            m.close("table")
        }
        path(data, into: &m)
        let plots = ReportPlots(data)
        m.element("h2", text: "Time plots")
        m.open("p", ["class": "note"])
        m.text(samplingText(data))
        m.close("p")
        for plot in plots.timePlots { timePlot(plot, data, into: &m) }
        for raster in plots.rasters { rasterPlot(raster, data, into: &m) }
        m.raw("</body></html>\n")
        return m.output
    }

    /// What the reader says about where reading stopped, for the page and the command line.
    public static func stopText(_ data: ReportData) -> String {
        switch data.stop {
        case .complete: return "complete"
        case .endedEarly:
            return "The recording has no end record (the run was interrupted): the report shows its \(data.ticks) ticks."
        case .damaged:
            let of = data.recordedTicks.map { " of \($0)" } ?? ""
            return "Reading stopped early, \(data.stop): the report shows the \(data.ticks)\(of) ticks before it."
        }
    }

    static func samplingText(_ data: ReportData) -> String {
        if data.groupSize == 1 { return "Every tick is drawn (\(data.ticks) ticks)." }
        return "Down-sampled: \(data.ticks) ticks in \(data.groupSeconds.count) groups of \(data.groupSize) consecutive ticks; "
            + "a line is each group's mean, the band its minimum to maximum, a raster column its mean state."
    }

    private static func summary(_ data: ReportData, into m: inout Markup) {
        let h = data.header
        var rows: [(String, String)] = [
            ("started", h.startTime),
            ("device", h.device.name + (h.device.firmwareVersion.isEmpty ? "" : " (firmware \(h.device.firmwareVersion))")),
            ("network", (h.network.path.isEmpty ? "(not from a file)" : h.network.path)
                + ", \(h.inputCount) inputs, \(h.outputCount) outputs, dt \(Markup.label(h.dtMillis)) ms"),
            ("network SHA-256", h.network.digest.isEmpty ? "–" : h.network.digest),
            ("network seed", h.network.seed.map(String.init) ?? "–"),
            ("world", data.world?.name ?? (data.worldProblem.map { "unreadable: \($0)" } ?? "none (a run on a robot)")),
            ("ticks", "\(data.ticks)" + (data.recordedTicks.map { $0 != data.ticks ? " of \($0)" : "" } ?? "")),
            ("duration", String(format: "%.3f s", data.seconds)),
            ("network steps", "\(data.steps)"),
            ("loop latency", String(format: "p50 %.0f µs, p99 %.0f µs", data.latencyP50Micros, data.latencyP99Micros)),
            ("counters", "overruns \(data.counters.overruns), late \(data.counters.lateTicks), reading errors \(data.counters.readingErrors), "
                + "clock resets \(data.counters.clockResets), dropped frames \(data.counters.droppedFrames), record drops \(data.counters.recordDrops)"),
            ("events", data.events.isEmpty ? "none" : data.events.map { "\($0.kind.rawValue) at tick \($0.tick)" }.joined(separator: ", ")),
            ("neuron states", data.neurons.map { "recorded (\($0.rows) neurons)" } ?? "not recorded"),
            ("end", data.stop == .complete ? "complete" : stopText(data)),
        ]
        if data.poses > 0 {
            rows.append(("distance travelled", String(format: "%.3f m (over every recorded pose)", data.distance)))
            rows.append(("contacts", "\(data.contactCount)"))
        }
        m.element("h2", text: "Summary")
        m.open("table", ["id": "summary"])
        for (k, v) in rows {
            m.open("tr"); m.element("th", text: k); m.element("td", text: v); m.close("tr")
        }
        m.close("table")
    }

    private static func path(_ data: ReportData, into m: inout Markup) {
        guard let b = ReportPlots.bounds(data) else { return }
        m.element("h2", text: data.world == nil ? "Path" : "Path in the world")
        let scale = worldSize / max(b.x1 - b.x0, b.y1 - b.y0)
        let (w, h) = ((b.x1 - b.x0) * scale + 20, (b.y1 - b.y0) * scale + 20)
        func x(_ v: Double) -> String { Markup.number(10 + (v - b.x0) * scale) }
        func y(_ v: Double) -> String { Markup.number(10 + (b.y1 - v) * scale) }
        m.open("svg", ["id": "world", "width": Markup.number(w), "height": Markup.number(h),
                       "viewBox": "0 0 \(Markup.number(w)) \(Markup.number(h))", "data-path-points": "\(data.path.count)",
                       "data-contacts": "\(data.contacts.count)"])
        if let world = data.world {
            m.empty("rect", ["class": "arena", "x": x(0), "y": y(world.arenaHeight), "width": Markup.number(world.arenaWidth * scale),
                             "height": Markup.number(world.arenaHeight * scale)])
            for o in world.obstacles {
                switch o {
                case let .segment(from, to):
                    m.empty("line", ["class": "obstacle wall", "x1": x(from.x), "y1": y(from.y), "x2": x(to.x), "y2": y(to.y)])
                case let .box(center, size, angle):
                    let points = ReportPlots.corners(center: center, size: size, angle: angle).map { "\(x($0.x)),\(y($0.y))" }
                    m.empty("polygon", ["class": "obstacle", "points": points.joined(separator: " ")])
                case let .circle(center, radius):
                    m.empty("circle", ["class": "obstacle", "cx": x(center.x), "cy": y(center.y), "r": Markup.number(radius * scale)])
                }
            }
            for light in world.lights {
                m.empty("circle", ["class": "near-light", "cx": x(light.position.x), "cy": y(light.position.y), "r": Markup.number(world.nearLightRadius * scale)])
                m.open("circle", ["class": "light", "cx": x(light.position.x), "cy": y(light.position.y), "r": "6"])
                m.element("title", text: "light, intensity \(Markup.label(light.intensity))")
                m.close("circle")
            }
        }
        let points = data.path
        if !points.isEmpty {
            let total = max(points.last!.seconds, 1e-9)
            let perSegment = max(1, (points.count + pathSegments - 1) / pathSegments)
            var k = 0
            while k < points.count {
                let end = min(points.count - 1, k + perSegment)
                let slice = points[k...end]
                m.empty("polyline", ["class": "path", "stroke": ReportPlots.timeColor(points[k].seconds / total).hex,
                                     "points": slice.map { "\(x($0.x)),\(y($0.y))" }.joined(separator: " ")])
                k += perSegment
            }
            m.open("circle", ["class": "start", "cx": x(points[0].x), "cy": y(points[0].y), "r": "5"])
            m.element("title", text: "start")
            m.close("circle")
            for c in data.contacts {
                m.open("circle", ["class": "contact", "cx": x(c.x), "cy": y(c.y), "r": "3.5"])
                m.element("title", text: String(format: "contact at %.2f s", c.seconds))
                m.close("circle")
            }
        }
        m.close("svg")
        m.open("p", ["class": "note"])
        m.text("The path is coloured by time from dark blue (start) through teal to yellow (end); the green disc is the start, red discs are contacts (the bumper pressed)"
               + (data.contactCount > data.contacts.count ? ", the first \(data.contacts.count) of \(data.contactCount) shown" : "")
               + (data.world == nil ? "." : "; grey shapes are walls and obstacles, yellow discs are lights with their near-light radius dashed."))
        m.close("p")
    }

    private static func timePlot(_ plot: ReportPlots.TimePlot, _ data: ReportData, into m: inout Markup) {
        m.open("figure", ["class": "plot", "data-plot": plot.id])
        m.element("figcaption", text: plot.title)
        let innerW = plotWidth - left - right, innerH = plotHeight - top - bottom
        let total = max(data.seconds, 1e-9)
        m.open("svg", ["width": Markup.number(plotWidth), "height": Markup.number(plotHeight),
                       "viewBox": "0 0 \(Markup.number(plotWidth)) \(Markup.number(plotHeight))"])
        m.empty("rect", ["class": "frame", "x": Markup.number(left), "y": Markup.number(top), "width": Markup.number(innerW), "height": Markup.number(innerH)])
        guard let (lo, hi) = ReportPlots.yRange(plot) else {
            m.element("text", ["x": Markup.number(left + 8), "y": Markup.number(top + innerH / 2)], text: "no values")
            m.close("svg"); m.close("figure")
            return
        }
        func px(_ g: Int) -> String { Markup.number(left + data.groupSeconds[g] / total * innerW) }
        func py(_ v: Double) -> String { Markup.number(top + (hi - v) / (hi - lo) * innerH) }
        for (s, color) in plot.lines {
            var runs: [[Int]] = [[]]
            for g in s.mean.indices where g < data.groupSeconds.count {
                if s.mean[g].isFinite { runs[runs.count - 1].append(g) } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
            }
            for run in runs where !run.isEmpty {
                if data.groupSize > 1 {
                    let upper = run.map { "\(px($0)),\(py(s.maximum[$0]))" }
                    let lower = run.reversed().map { "\(px($0)),\(py(s.minimum[$0]))" }
                    m.empty("polygon", ["class": "band", "fill": color.hex, "points": (upper + lower).joined(separator: " ")])
                }
                m.empty("polyline", ["class": "line", "stroke": color.hex, "data-series": s.name,
                                     "points": run.map { "\(px($0)),\(py(s.mean[$0]))" }.joined(separator: " ")])
            }
        }
        m.element("text", ["class": "axis", "x": Markup.number(left - 4), "y": Markup.number(top + 10), "text-anchor": "end"], text: Markup.label(hi))
        m.element("text", ["class": "axis", "x": Markup.number(left - 4), "y": Markup.number(top + innerH), "text-anchor": "end"], text: Markup.label(lo))
        m.element("text", ["class": "axis", "x": Markup.number(left), "y": Markup.number(plotHeight - 6)], text: "0 s")
        m.element("text", ["class": "axis", "x": Markup.number(plotWidth - right), "y": Markup.number(plotHeight - 6), "text-anchor": "end"],
                  text: String(format: "%.2f s", data.seconds))
        if plot.lines.count > 1 {
            var lx = left + 8
            for (s, color) in plot.lines {
                // A style, not a `fill` attribute: the page's CSS for text would override an attribute.
                m.element("text", ["class": "legend", "x": Markup.number(lx), "y": Markup.number(top + 12), "style": "fill:\(color.hex)"], text: s.name)
                lx += 16 + 7 * Double(s.name.count)
            }
        }
        m.close("svg")
        m.close("figure")
    }

    private static func rasterPlot(_ plot: ReportPlots.RasterPlot, _ data: ReportData, into m: inout Markup) {
        let r = plot.raster
        m.open("figure", ["class": "raster", "data-plot": plot.id, "data-rows": "\(r.rows)", "data-columns": "\(r.groups)"])
        m.element("figcaption", text: plot.title + " (red +1, white 0, blue −1)")
        let innerW = plotWidth - left - right
        let rowHeight = r.rows <= 40 ? 10.0 : max(0.5, min(4, 600 / Double(max(1, r.rows))))
        let innerH = max(1, Double(r.rows) * rowHeight)
        let height = top + innerH + bottom
        m.open("svg", ["width": Markup.number(plotWidth), "height": Markup.number(height),
                       "viewBox": "0 0 \(Markup.number(plotWidth)) \(Markup.number(height))"])
        if r.groups > 0, r.rows > 0 {
            let png = r.image(cellWidth: 1, cellHeight: 1).pngData()
            m.empty("image", ["x": Markup.number(left), "y": Markup.number(top), "width": Markup.number(innerW), "height": Markup.number(innerH),
                              "preserveAspectRatio": "none", "style": "image-rendering:pixelated",
                              "href": "data:image/png;base64," + Data(png).base64EncodedString()])
        }
        m.empty("rect", ["class": "frame", "x": Markup.number(left), "y": Markup.number(top), "width": Markup.number(innerW), "height": Markup.number(innerH)])
        if r.rows <= 40 {
            for (k, label) in r.labels.enumerated() {
                m.element("text", ["class": "axis", "x": Markup.number(left - 4), "y": Markup.number(top + (Double(k) + 0.85) * rowHeight), "text-anchor": "end"], text: label)
            }
        } else {
            m.element("text", ["class": "axis", "x": Markup.number(left - 4), "y": Markup.number(top + 10), "text-anchor": "end"], text: "0")
            m.element("text", ["class": "axis", "x": Markup.number(left - 4), "y": Markup.number(top + innerH), "text-anchor": "end"], text: "\(r.rows - 1)")
        }
        m.element("text", ["class": "axis", "x": Markup.number(left), "y": Markup.number(height - 6)], text: "0 s")
        m.element("text", ["class": "axis", "x": Markup.number(plotWidth - right), "y": Markup.number(height - 6), "text-anchor": "end"],
                  text: String(format: "%.2f s", data.seconds))
        m.close("svg")
        m.close("figure")
    }

    static let css = """
    body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:900px}\
    h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}\
    table{border-collapse:collapse}th,td{text-align:left;padding:2px 10px 2px 0;vertical-align:top}th{font-weight:600}\
    td{font-variant-numeric:tabular-nums;word-break:break-all}\
    .warning{background:#fff3cd;border:1px solid #e0b000;padding:6px 10px}.note{color:#555;font-size:.9em}\
    figure{margin:0 0 10px 0}figcaption{font-weight:600;font-size:.95em}\
    svg text{font:11px system-ui,sans-serif;fill:#444}svg text.legend{font-weight:600}\
    .frame{fill:none;stroke:#999;stroke-width:1}.line{fill:none;stroke-width:1.3}.band{opacity:.25;stroke:none}\
    .arena{fill:#fafafa;stroke:#333;stroke-width:2}.obstacle{fill:#bbb;stroke:#666;stroke-width:1}\
    .wall{stroke:#555;stroke-width:3}.light{fill:#ffd700;stroke:#b59a00}\
    .near-light{fill:none;stroke:#d4b000;stroke-dasharray:4 3}.path{fill:none;stroke-width:2;stroke-linejoin:round}\
    .start{fill:#2ca02c;stroke:#fff}.contact{fill:#d62728;stroke:#fff;stroke-width:1}
    """
}
