import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The network file: the reference's JSON layout, which the reference's `load_network` reads,
/// plus one extra top-level key, `"extensions"`, that the reference ignores and that carries
/// what it does not save: the dynamics switches, the seed and the random generator's state, each
/// neuron's autoreceptor, each synapse's resting weights, and free-form metadata. With it,
/// save → load → run continues exactly where the saved run stopped.
///
/// See Docs/MODEL.md ("The file format") for the layout field by field.
public enum NetworkFile {
    /// The value of `extensions.format`.
    public static let extensionFormat = "neuraxon-robotics"
    /// The value of `extensions.version` this code writes; it reads this version and older.
    public static let extensionVersion = 1
}

/// Why a network file could not be read or written, and where.
public struct NetworkFileError: Error, Sendable, CustomStringConvertible {
    /// The file.
    public let file: String
    /// Where in the file: a path such as `synapses[12].w_fast`, empty for the whole file.
    public let location: String
    /// 1-based line and column when known.
    public let line: Int?
    public let column: Int?
    public let message: String

    public var description: String {
        var place = file
        if let line { place += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        return location.isEmpty ? "\(place): \(message)" : "\(place): \(location): \(message)"
    }
}

extension NeuraxonNetwork {
    // MARK: Saving

    /// The file's JSON text for this network.
    public func fileText() -> String {
        typealias Item = JSONWriter.Item
        var parameterItems: [(String, Item)] = []
        for field in NetworkParameters.fields {
            switch field.kind {
            case .text(let path): parameterItems.append((field.key, .string(parameters[keyPath: path])))
            case .integer(let path): parameterItems.append((field.key, .integer(parameters[keyPath: path])))
            case .real(let path): parameterItems.append((field.key, .real(parameters[keyPath: path])))
            }
        }
        func neurons(_ ids: Range<Int>, _ role: NeuronRole) -> Item {
            .array(ids.map { id in
                .object([("id", .integer(id)), ("type", .string(role.rawValue)),
                         ("membrane_potential", .real(potential[id])), ("trinary_state", .integer(Int(state[id]))),
                         ("adaptation", .real(adaptation[id])), ("health", .real(health[id])),
                         ("is_active", .bool(active[id]))])
            })
        }
        let live = liveSynapseIndices
        let synapseItems: [Item] = live.map { k in
            .object([("pre_id", .integer(Int(synPre[k]))), ("post_id", .integer(Int(synPost[k]))),
                     ("w_fast", .real(wFast[k])), ("w_slow", .real(wSlow[k])), ("w_meta", .real(wMeta[k])),
                     ("is_silent", .bool(silent[k])), ("is_modulatory", .bool(modulatory[k])),
                     ("integrity", .real(integrity[k])),
                     ("synapse_type", .string((SynapseKind(rawValue: kind[k]) ?? .ionotropicSlow).fileName))])
        }
        var extensions: [(String, Item)] = [
            ("format", .string(NetworkFile.extensionFormat)),
            ("version", .integer(NetworkFile.extensionVersion)),
            ("dynamics", .object([("held_inputs", .bool(dynamics.heldInputs)),
                                  ("resting_weights", .bool(dynamics.restingWeights)),
                                  ("norepinephrine_gain", .bool(dynamics.norepinephrineGain))])),
            ("seed", seed.map { .integer(Int(bitPattern: UInt(truncatingIfNeeded: $0))) } ?? .null),
            ("random_state", .object([("words", .array(randomState.stateWords.map { .integer(Int($0)) })),
                                      ("position", .integer(randomState.statePosition))])),
            ("autoreceptor", .reals(autoreceptor.array)),
        ]
        if dynamics.restingWeights {
            extensions.append(("resting_weights", .object([("fast", .reals(live.map { restFast[$0] })),
                                                           ("slow", .reals(live.map { restSlow[$0] })),
                                                           ("meta", .reals(live.map { restMeta[$0] }))])))
        }
        extensions.append(("metadata", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        let root: Item = .object([
            ("parameters", .object(parameterItems)),
            ("neurons", .object([("input", neurons(0..<inputCount, .input)),
                                 ("hidden", neurons(inputCount..<firstOutputId, .hidden)),
                                 ("output", neurons(firstOutputId..<neuronCount, .output))])),
            ("synapses", .array(synapseItems)),
            ("neuromodulators", .object(Neuromodulator.allCases.map { ($0.rawValue, .real(levels[$0.index])) })),
            ("time", .real(time)),
            ("step_count", .integer(stepCount)),
            ("extensions", .object(extensions)),
        ])
        return JSONWriter.render(root)
    }

    /// Saves the network to `path` atomically: the text goes to a temporary file in the same
    /// folder, is flushed to disk, and is renamed over `path`, so a crash never leaves a
    /// half-written file.
    public func save(to path: String) throws(NetworkFileError) {
        do {
            try AtomicFile.replace(path, with: Array(fileText().utf8))
        } catch {
            throw NetworkFileError(file: error.path, location: "", line: nil, column: nil, message: error.message)
        }
    }

    // MARK: Loading

    /// Loads a network file: one this project saved (everything restored, including the random
    /// generator) or one the reference saved (V, s, adaptation, health, activity, synapses,
    /// neuromodulators, time and step count restored; the autoreceptor starts at 0, and the
    /// random generator, which such a file does not carry, is seeded with `seed`, 0 by default).
    ///
    /// Parameters outside their ranges are kept and listed in `loadWarnings`. Anything else
    /// wrong (bad JSON, a missing or mistyped field, NaN or Infinity, an id out of range, a
    /// synapse that breaks the wiring rules, an unknown parameter) throws an error naming the
    /// place in the file.
    public static func load(contentsOf path: String, seed: UInt64? = nil) throws(NetworkFileError) -> NeuraxonNetwork {
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw NetworkFileError(file: path, location: "", line: nil, column: nil,
                                   message: "cannot read the file (\(describe(error)))")
        }
        return try load(bytes: bytes, file: path, seed: seed)
    }

    /// Loads a network from the file's bytes; `file` names it in errors.
    public static func load(bytes: [UInt8], file: String = "<network>", seed: UInt64? = nil) throws(NetworkFileError) -> NeuraxonNetwork {
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw NetworkFileError(file: file, location: "", line: error.line, column: error.column,
                                   message: "not valid JSON: \(error.message)")
        }
        var reader = NetworkFileReader(file: file)
        return try reader.read(root, seed: seed)
    }
}

private func describe(_ error: any Error) -> String {
    if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    return ns.localizedDescription
}

