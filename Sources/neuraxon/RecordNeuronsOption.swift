import ArgumentParser

/// The rule `--record-neurons` follows on every command that records.
enum RecordNeuronsOption {
    /// `--record-neurons` needs a JSON Lines recording to put the states in.
    static func check(record: String?) throws {
        guard let record else {
            throw ValidationError("--record-neurons adds to a recording: give one with --record FILE.jsonl")
        }
        if record.lowercased().hasSuffix(".mcap") {
            throw ValidationError("--record-neurons needs a JSON Lines recording; an MCAP recording has no topic for neuron states: record to a .jsonl file, or leave --record-neurons out")
        }
    }
}
