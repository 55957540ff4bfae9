import Foundation

/// Reads a whole text file as UTF-8.
func readTextFile(_ path: String) throws -> String {
    try String(contentsOfFile: path, encoding: .utf8)
}
