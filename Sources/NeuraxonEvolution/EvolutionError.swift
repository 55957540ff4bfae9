// NeuraxonEvolution — Aigarth-style evolution of Neuraxon networks.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

/// Everything that can go wrong in the evolution layer, each case saying where and what to do.
public enum EvolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A genome breaks a rule (wiring, ranges, order); the text names the gene or parameter.
    case invalidGenome(String)
    /// A network that is not in embodied dynamics was offered as a genome.
    case notEmbodied(dynamics: String, file: String? = nil)
    /// A setting is out of range.
    case invalidSettings(field: String, value: String, fix: String)
    /// The fitness task threw while evaluating one individual on one trial.
    case fitnessFailed(generation: Int, individual: Int, trial: Int, message: String)
    /// The fitness task returned NaN or an infinity.
    case fitnessNotFinite(generation: Int, individual: Int, trial: Int, value: Double)
    /// A checkpoint file is damaged or not a checkpoint.
    case invalidCheckpoint(location: String, reason: String)
    /// A checkpoint was made with a different task than the one resuming it.
    case checkpointMismatch(field: String, checkpoint: String, requested: String)
    /// A file could not be read or written.
    case file(path: String, message: String)

    public var description: String {
        switch self {
        case .invalidGenome(let reason):
            "invalid genome: \(reason)"
        case .notEmbodied(let dynamics, let file):
            (file.map { "\($0): " } ?? "") + "the network runs \(dynamics) dynamics; evolution needs embodied dynamics "
                + "(create the starting network with an embodied preset, e.g. `neuraxon net create --preset flowing`)"
        case .invalidSettings(let field, let value, let fix):
            "\(field) = \(value) is not allowed: \(fix)"
        case .fitnessFailed(let generation, let individual, let trial, let message):
            "generation \(generation), individual \(individual), trial \(trial): the fitness task failed: \(message)"
        case .fitnessNotFinite(let generation, let individual, let trial, let value):
            "generation \(generation), individual \(individual), trial \(trial): the fitness task returned \(value); "
                + "a fitness must be a finite number"
        case .invalidCheckpoint(let location, let reason):
            "checkpoint \(location): \(reason); start a new run, or resume from an intact checkpoint"
        case .checkpointMismatch(let field, let checkpoint, let requested):
            "the checkpoint was made with \(field) \(checkpoint), not \(requested); resume with \(field) \(checkpoint)"
        case .file(let path, let message):
            "\(path): \(message)"
        }
    }

    /// The same error, attributed to a file where that helps the reader.
    func located(in path: String) -> EvolutionError {
        switch self {
        case .notEmbodied(let dynamics, nil): .notEmbodied(dynamics: dynamics, file: path)
        case .invalidGenome(let reason): .file(path: path, message: "invalid genome: \(reason)")
        case .invalidCheckpoint(let location, let reason): .invalidCheckpoint(location: "\(path): \(location)", reason: reason)
        default: self
        }
    }
}
