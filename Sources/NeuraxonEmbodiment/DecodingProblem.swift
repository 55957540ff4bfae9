import Foundation

/// A `DecodingError` in words for users: the field and what was wrong with it, e.g.
/// "field `version` must be a whole number", never Foundation's debug text.
func describeDecodingProblem(_ error: any Error) -> String {
    guard let error = error as? DecodingError else {
        return "not valid JSON"
    }
    func place(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
    }
    func kind(_ type: Any.Type) -> String {
        switch type {
        case is any BinaryInteger.Type: return "a whole number"
        case is any BinaryFloatingPoint.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            return name.hasPrefix("Array") || name.hasPrefix("[") ? "a list" : "an object"
        }
    }
    switch error {
    case .keyNotFound(let key, let context):
        return "missing field `\(place(context.codingPath + [key]))`"
    case .typeMismatch(let type, let context):
        return context.codingPath.isEmpty ? "expected \(kind(type))" : "field `\(place(context.codingPath))` must be \(kind(type))"
    case .valueNotFound(let type, let context):
        return "field `\(place(context.codingPath))` is null; it must be \(kind(type))"
    case .dataCorrupted(let context):
        return context.codingPath.isEmpty ? "not valid JSON" : "field `\(place(context.codingPath))` has a value that is not allowed"
    @unknown default:
        return "not valid JSON"
    }
}
