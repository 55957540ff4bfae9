import Neuraxon

/// Reads a whole text file as UTF-8; `what` names it in errors, e.g. "the mapping file".
/// - Throws: `FileProblem`: a missing file, a folder, an unreadable or a binary file, each with
///   its own message naming the file.
func readTextFile(_ path: String, what: String) throws(FileProblem) -> String {
    try InputFile.text(path, what: what)
}
