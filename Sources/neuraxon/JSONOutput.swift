import Foundation

/// Prints `object` (dictionaries, arrays, strings, numbers, booleans) as one JSON document on
/// standard output, keys sorted, so `--json` output is stable and easy for scripts to read.
func printJSON(_ object: Any) {
    guard JSONSerialization.isValidJSONObject(object),
          let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
        printError("error: the report could not be written as JSON")
        return
    }
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}
