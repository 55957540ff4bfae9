import ArgumentParser
import Foundation
import Neuraxon

/// `neuraxon net`: create, inspect and run network files.
struct NetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "net",
        abstract: "Create, inspect and run Neuraxon network files.",
        subcommands: [NetCreate.self, NetInfo.self, NetRun.self]
    )
}

struct NetCreate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Build a network from a preset and parameters, and save it.",
        discussion: "Presets: " + NetworkPreset.all.map { "\($0.name) (\($0.summary))" }.joined(separator: "; ")
            + ". Parameters use the file's names, e.g. --param num_hidden_neurons=50 --param dt=0.5."
    )

    @Option(help: "Preset to start from.")
    var preset: String = "reference"

    @Option(name: .customLong("param"), help: ArgumentHelp("Set a parameter.", valueName: "KEY=VALUE"))
    var params: [String] = []

    @Option(parsing: .unconditional, help: "Integer seed of the random generator (Python's random.seed).")
    var seed: UInt64 = 0

    @Option(help: "reference or embodied (default: the preset's).")
    var dynamics: String?

    @Option(name: .shortAndLong, help: "Where to save the network.")
    var output: String

    func validate() throws {
        guard NetworkPreset.named(preset) != nil else {
            throw ValidationError("unknown preset '\(preset)'; the presets are: \(NetworkPreset.all.map(\.name).joined(separator: ", "))")
        }
        if let dynamics, dynamics != "reference", dynamics != "embodied" {
            throw ValidationError("--dynamics takes 'reference' or 'embodied', not '\(dynamics)'")
        }
    }

    func run() throws {
        var files = FilePlan()
        files.output(output, "-o")
        try files.check()
        let base = NetworkPreset.named(preset)!
        var parameters = base.parameters
        for assignment in params {
            guard let eq = assignment.firstIndex(of: "=") else {
                throw CommandError.usage("--param takes KEY=VALUE, got '\(assignment)'")
            }
            do {
                parameters = try parameters.setting(String(assignment[..<eq]), to: String(assignment[assignment.index(after: eq)...]))
            } catch {
                throw CommandError.usage("--param \(assignment): \(error)")
            }
        }
        let chosen = dynamics.map { $0 == "embodied" ? Dynamics.embodied : Dynamics.reference } ?? base.dynamics
        let net: NeuraxonNetwork
        do {
            net = try NeuraxonNetwork(parameters: parameters, dynamics: chosen, seed: seed)
        } catch {
            throw CommandError.usage("\(error)")
        }
        net.metadata["preset"] = base.name
        try net.save(to: output)
        print("saved \(output): \(net.inputCount)/\(net.hiddenCount)/\(net.outputCount) neurons, \(net.synapseCount) synapses, \(chosen.name) dynamics, seed \(seed)")
    }
}

struct NetInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Sizes, synapses by type, neuromodulators, time and a health summary.")

    @Argument(help: "A network file.")
    var file: String

    @Flag(help: "Print the summary as one JSON object instead of text.")
    var json = false

    func run() throws {
        let net = try loadNetwork(file).network
        for warning in net.loadWarnings { printError("warning: \(warning)") }
        let s = net.summary()
        var notes: [String] = []
        if s.fadingSynapses > 0 { notes.append("\(s.fadingSynapses) synapses are fading (|w_fast|, |w_slow| < 0.01) and will be pruned") }
        if s.neuronsNearDeath > 0 { notes.append("\(s.neuronsNearDeath) neurons have low health") }
        if s.activeNeurons < net.neuronCount { notes.append("\(net.neuronCount - s.activeNeurons) neurons have died") }
        if s.synapses == 0 { notes.append("no synapses: nothing reaches the outputs") }
        if json {
            printJSON(Self.report(net, file: file, summary: s, notes: notes))
            return
        }
        print("network      \(net.parameters.networkName) (\(file))")
        print("dynamics     \(net.dynamics.name) (held inputs \(onOff(net.dynamics.heldInputs)), resting weights \(onOff(net.dynamics.restingWeights)), norepinephrine gain \(onOff(net.dynamics.norepinephrineGain)))")
        print("neurons      \(s.inputs) input, \(s.hidden) hidden, \(s.outputs) output; \(s.activeNeurons) active")
        let kinds = SynapseKind.allCases.map { "\(s.synapsesByKind[$0] ?? 0) \($0.fileName)" }.joined(separator: ", ")
        print("synapses     \(s.synapses): \(kinds)")
        let levels = Neuromodulator.allCases.map { "\($0.rawValue) \(String(format: "%.4f", net.level(of: $0)))" }.joined(separator: ", ")
        print("modulators   \(levels)")
        print("time         \(net.time) ms after \(net.stepCount) steps of \(net.dt) ms")
        print("seed         \(net.seed.map(String.init) ?? "unknown")")
        let firing = NeuronRole.allCases.map { r in "\(r.rawValue) +\(s.firing[r]?.plus ?? 0)/−\(s.firing[r]?.minus ?? 0)" }.joined(separator: ", ")
        print("firing now   \(firing)")
        print("health       " + (notes.isEmpty ? "ok" : notes.joined(separator: "; ")))
    }

    /// What the text shows, as one JSON object (`--json`).
    static func report(_ net: NeuraxonNetwork, file: String, summary s: NetworkSummary, notes: [String]) -> [String: Any] {
        var object: [String: Any] = [
            "file": file,
            "name": net.parameters.networkName,
            "dynamics": [
                "name": net.dynamics.name, "held_inputs": net.dynamics.heldInputs,
                "resting_weights": net.dynamics.restingWeights, "norepinephrine_gain": net.dynamics.norepinephrineGain,
            ] as [String: Any],
            "neurons": ["input": s.inputs, "hidden": s.hidden, "output": s.outputs, "active": s.activeNeurons],
            "synapses": ["total": s.synapses]
                .merging(SynapseKind.allCases.map { ($0.fileName, s.synapsesByKind[$0] ?? 0) }) { a, _ in a },
            "modulators": Dictionary(uniqueKeysWithValues: Neuromodulator.allCases.map { ($0.rawValue, net.level(of: $0)) }),
            "time_ms": net.time,
            "step_count": net.stepCount,
            "dt_ms": net.dt,
            "firing": Dictionary(uniqueKeysWithValues: NeuronRole.allCases.map { r in
                (r.rawValue, ["plus": s.firing[r]?.plus ?? 0, "minus": s.firing[r]?.minus ?? 0])
            }),
            "health": notes,
            "warnings": net.loadWarnings.map { "\($0)" },
        ]
        object["seed"] = net.seed.map { NSNumber(value: $0) } ?? NSNull()
        return object
    }

    private func onOff(_ b: Bool) -> String { b ? "on" : "off" }
}

struct NetRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a network for N steps, continuing its random generator from the file.",
        discussion: "SCHEDULE is JSON Lines: {\"step\": 0, \"inputs\": [1,-1,0], \"external\": {\"7\": 0.5}, \"modulate\": {\"dopamine\": 0.8}} "
            + "or {\"steps\": [first, last], ...}; see Docs/MODEL.md. TRACE gets one JSON object per step. "
            + "Ctrl-C, SIGTERM and SIGHUP stop after the current step: the trace is complete up to it, -o saves the "
            + "network as it is then (and says so), and the exit status is 130, 143 or 129."
    )

    @Argument(help: "A network file.")
    var file: String

    @Option(parsing: .unconditional, help: "Number of steps.")
    var steps: Int

    @Option(help: ArgumentHelp("What to apply before steps (JSON Lines).", valueName: "SCHEDULE"))
    var inputs: String?

    @Option(help: ArgumentHelp("Write every step's states, potentials and neuromodulators (JSON Lines).", valueName: "TRACE.jsonl"))
    var trace: String?

    @Option(name: .shortAndLong, help: "Save the network after the run.")
    var output: String?

    func validate() throws {
        guard steps >= 0 else { throw ValidationError("--steps must be 0 or more") }
    }

    func run() throws {
        let stop = StopSignals()
        var files = FilePlan()
        files.input(file, "the network file")
        files.input(inputs, "the schedule")
        files.output(trace, "--trace")
        files.output(output, "-o")
        try files.check()
        let net = try loadNetwork(file).network
        for warning in net.loadWarnings { printError("warning: \(warning)") }
        var schedule = StepSchedule()
        if let inputs {
            let text = try InputFile.text(inputs, what: "the schedule")
            do { schedule = try StepSchedule.parse(text, neuronCount: net.neuronCount) } catch {
                throw CommandError.dataError("\(inputs): \(error)")
            }
        }
        var traceHandle: FileHandle?
        if let trace {
            guard FileManager.default.createFile(atPath: trace, contents: nil), let h = FileHandle(forWritingAtPath: trace) else {
                throw CommandError.cannotCreate("cannot create --trace \(trace): check that its folder exists and is writable")
            }
            traceHandle = h
        }
        var buffer = ""
        let progress = ProgressLine(total: steps, unit: "steps")
        var done = 0
        for step in 0..<steps {
            if stop.isRequested { break }
            let external = schedule.apply(before: step, to: net)
            if external.isEmpty { net.simulateStep() } else { net.simulateStep(externalCurrents: external) }
            if let traceHandle {
                buffer += net.traceLine()
                buffer += "\n"
                if buffer.utf8.count > 1 << 20 { traceHandle.write(Data(buffer.utf8)); buffer = "" }
            }
            done = step + 1
            progress.update(done)
        }
        progress.finish()
        if let traceHandle { traceHandle.write(Data(buffer.utf8)); try traceHandle.close() }
        if let output { try net.save(to: output) }
        let outputs = net.outputStates().map(\.description).joined(separator: " ")
        if let cause = stop.cause {
            print("\(cause) after \(done) of \(steps) steps: t = \(net.time) ms, \(net.synapseCount) synapses, outputs \(outputs)")
            if let output { print("saved the network as it is after step \(done) to \(output)") }
        } else {
            print("ran \(steps) steps: t = \(net.time) ms, \(net.synapseCount) synapses, outputs \(outputs)")
        }
        try stop.exitIfStopped()
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
