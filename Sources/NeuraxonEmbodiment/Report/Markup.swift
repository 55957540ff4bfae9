import Foundation

/// Builds HTML and SVG text. Every piece of text that comes from a recording (channel names,
/// paths, world names, messages) goes through `text(_:)` or an attribute, which escape it, so
/// a hostile name can neither break the markup nor inject an element.
struct Markup {
    private(set) var output = ""

    /// Text with `&`, `<`, `>`, `"` and `'` replaced by entities; control characters other
    /// than tab and newline (not allowed in XML) replaced by U+FFFD.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n": out.unicodeScalars.append(c)
            default:
                if c.value < 0x20 || c.value == 0x7f || (0xfffe...0xffff).contains(c.value) {
                    out += "\u{fffd}"
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out
    }

    /// A number for coordinates: at most two decimals, no exponent.
    static func number(_ x: Double) -> String {
        guard x.isFinite else { return "0" }
        let r = (x * 100).rounded() / 100
        if r == r.rounded(), abs(r) < 1e15 { return String(Int64(r)) }
        return String(format: "%.2f", r)
    }

    /// A value for a label: up to four significant digits.
    static func label(_ x: Double) -> String {
        guard x.isFinite else { return "–" }
        if x == x.rounded(), abs(x) < 1e9 { return String(Int64(x)) }
        return String(format: "%.4g", x)
    }

    /// Appends markup written by this program (never recording text).
    mutating func raw(_ s: String) { output += s }

    /// Appends text, escaped.
    mutating func text(_ s: String) { output += Self.escape(s) }

    /// Opens `<name a="v" …>` with escaped attribute values.
    mutating func open(_ name: String, _ attributes: KeyValuePairs<String, String> = [:]) {
        output += "<" + name
        for (k, v) in attributes { output += " \(k)=\"\(Self.escape(v))\"" }
        output += ">"
    }

    /// Writes `<name a="v" …/>`.
    mutating func empty(_ name: String, _ attributes: KeyValuePairs<String, String> = [:]) {
        output += "<" + name
        for (k, v) in attributes { output += " \(k)=\"\(Self.escape(v))\"" }
        output += "/>"
    }

    mutating func close(_ name: String) { output += "</\(name)>" }

    /// `<name …>text</name>` with the text escaped.
    mutating func element(_ name: String, _ attributes: KeyValuePairs<String, String> = [:], text t: String) {
        open(name, attributes)
        text(t)
        close(name)
    }
}
