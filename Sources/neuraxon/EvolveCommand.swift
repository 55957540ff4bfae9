// `neuraxon evolve` links NeuraxonEvolution and NeuraxonEvolutionTasks: MIT with the Aigarth
// licence restrictions (no military or dual-use applications); see Sources/NeuraxonEvolution/NOTICE.

import ArgumentParser
import Dispatch
import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonEvolution
import NeuraxonEvolutionTasks
import NeuraxonSimulation

/// `neuraxon evolve`: evolves a controller for a task in the simulator, with a checkpoint after
/// every generation, and optionally judges it on held-out worlds.
struct EvolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evolve",
        abstract: "Evolve a controller for a task in the simulator (Aigarth-style mutation and selection).",
        discussion: """
            Tasks: avoid (obstacle avoidance: distance travelled, 1 m off per collision) and seek (light \
            seeking: reach the light fast and stay near it). Each genome runs in the closed loop with the \
            task's preset mapping on several worlds and seeds per generation. A checkpoint is written after \
            every generation (default OUTPUT.checkpoint.json); Ctrl-C, SIGTERM and SIGHUP stop after the \
            current generation (a second one quits at once), save the best so far, exit with status 130, \
            143 or 129, and --resume continues with nothing lost. An existing checkpoint is never replaced \
            without --resume or --force. The result is an ordinary network file; its mapping is \
            saved next to it (OUTPUT without .json, plus .mapping.yaml). --held-out N then compares it with \
            the hand-wired preset and random networks of the same size on N worlds never used in training. \
            With --families, the trials are generated worlds of those families, the best is chosen on fixed \
            validation worlds after the elite is scored again on fresh trials, and --held-out N reports \
            training, validation and held-out scores per family (also in OUTPUT.families.json). \
            Licence: the evolution layer and what it produces carry the Aigarth restrictions \
            (Sources/NeuraxonEvolution/NOTICE). See Docs/EVOLUTION.md.
            """
    )

    @Option(help: "The task: avoid or seek.")
    var task: String

    @Option(parsing: .unconditional, help: "Genomes per generation.")
    var population: Int = 24

    @Option(parsing: .unconditional, help: "Generations to run in all (default 30; with --resume, a new total that extends the run).")
    var generations: Int?

    @Option(parsing: .unconditional, help: "Seed of the run (starting population, breeding, trial worlds and noise).")
    var seed: UInt64 = 1

    @Option(name: [.customShort("o"), .long], help: "Where to save the best network (JSON).")
    var output: String

    @Flag(help: "Continue from the checkpoint (population, seed and generations so far come from it).")
    var resume = false

    @Flag(help: "Start a new run even if the checkpoint exists, replacing it (without --force, an existing checkpoint is refused).")
    var force = false

    @Option(help: "Append one JSON line per generation to this file.")
    var log: String?

    @Option(help: "The checkpoint file (default: OUTPUT.checkpoint.json).")
    var checkpoint: String?

    @Option(help: "The first generation: random, preset, or a network file to descend from.")
    var from: String = "random"

    @Option(parsing: .unconditional, help: "Trials (worlds and seeds) per genome and generation (default 4; with --resume, the checkpoint's).")
    var trials: Int?

    @Option(parsing: .unconditional, help: "Simulated seconds per trial (default: 10 for avoid, 15 for seek; with --resume, the checkpoint's).")
    var episode: Double?

    @Option(parsing: .unconditional, help: "Threads that evaluate (default: one per core).")
    var workers: Int?

    @OptionGroup(title: "Where evaluations run") var cluster: ExecutorOptions

    @Option(parsing: .unconditional, help: "After the run, judge the best network, the preset and random networks on this many held-out worlds (with --families: this many worlds per set, spread over the families).")
    var heldOut: Int = 0

    @Option(help: ArgumentHelp("Train on worlds of these families, in this order (avoid: any of \(WorldFamily.names.joined(separator: ", ")); seek: those with a light).", valueName: "family,family,…"))
    var families: String?

    @Option(parsing: .unconditional, help: "With --families: fixed validation worlds on which the saved best is chosen (default: 4 per family; with --resume, the checkpoint's).")
    var validation: Int?

    @Option(parsing: .unconditional, help: "How many of each generation's fittest genomes are scored again on fresh trials (and the validation worlds) before one may become the best (default 3, at most the population); 0 keeps the fittest of any generation on its own trials.")
    var eliteReevaluation: Int?

    func validate() throws {
        guard SimulatorTask.Kind(rawValue: task) != nil else {
            throw ValidationError("--task must be one of \(SimulatorTask.Kind.allCases.map(\.rawValue).joined(separator: ", ")), e.g. --task avoid")
        }
        guard population >= 2 else { throw ValidationError("--population must be at least 2, e.g. --population 24") }
        if let generations, generations < 1 { throw ValidationError("--generations must be at least 1, e.g. --generations 30") }
        if let trials, trials < 1 { throw ValidationError("--trials must be at least 1, e.g. --trials 4") }
        guard heldOut >= 0 else { throw ValidationError("--held-out must be 0 or more") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if resume && force { throw ValidationError("--resume continues the checkpoint and --force replaces it: give one of them") }
        if let families {
            do { _ = try SimulatorTask(named: task, trials: 1, families: try SimulatorTask.parseFamilies(families)) } catch let error as TaskError {
                throw ValidationError("--families: \(error.description)")
            }
        }
        if let validation {
            guard families != nil else { throw ValidationError("--validation needs --families, e.g. --families corridor,clutter --validation 10") }
            guard validation >= 0 else { throw ValidationError("--validation must be 0 or more, e.g. --validation 10") }
        }
        if let eliteReevaluation, eliteReevaluation < 0 || eliteReevaluation > population {
            throw ValidationError("--elite-reevaluation must be 0 to the population (\(population)), e.g. --elite-reevaluation 3")
        }
        if let episode, !(episode.isFinite && episode >= 0.5 && episode <= 600) {
            throw ValidationError("--episode must be 0.5 to 600 simulated seconds, e.g. --episode 10")
        }
    }

    func run() throws {
        let stop = StopSignals(notice: "stopping after this generation's checkpoint", secondQuits: true)
        let checkpointPath = checkpoint ?? output + ".checkpoint.json"
        var files = FilePlan()
        if case .file(let path) = SimulatorTask.Ancestry(from) { files.input(path, "the --from network file") }
        if resume {
            files.input(checkpointPath, "the checkpoint to resume")
        } else if force {
            files.output(checkpointPath, "the checkpoint")
        } else {
            files.protectedOutput(checkpointPath, "the checkpoint",
                                  howToReplace: "continue that run with --resume, pass --force to start over and replace it, or choose another -o or --checkpoint")
        }
        files.output(output, "-o")
        files.output(Self.mappingPath(for: output), "the mapping saved beside -o")
        files.output(log, "--log")
        if families != nil && heldOut > 0 { files.output(Self.reportPath(for: output), "the per-family report saved beside -o") }
        try files.check()
        if case .file(let path) = SimulatorTask.Ancestry(from) { _ = try loadNetwork(path) }  // bad content: exit 65, before any work
        let familyList = try families.map(SimulatorTask.parseFamilies) ?? []
        var task = try SimulatorTask(named: self.task, trials: trials ?? (familyList.isEmpty ? 4 : 2 * familyList.count),
                                     episodeSeconds: episode, families: familyList,
                                     validationTrials: familyList.isEmpty ? 0 : validation ?? 4 * familyList.count)
        var evaluator = Evaluator(workers: workers)
        let backend = cluster.slurmSettings(defaultWorkDirectory: output + ".slurm").map { _ in
            ExecutorEvaluation(cluster.make(defaultWorkDirectory: output + ".slurm", workers: workers))
        }
        evaluator.backend = backend
        let run: EvolutionRun
        if resume {
            // Trials and episode length come from the checkpoint unless given (a mismatch is refused).
            if trials == nil, episode == nil, validation == nil {
                let saved = try SimulatorTask(savedName: EvolutionRun.loadCheckpoint(checkpointPath).taskName)
                if saved.kind == task.kind { task = saved }
            }
            run = try EvolutionRun.resume(checkpointPath: checkpointPath, task: task, evaluator: evaluator,
                                          logPath: log, generations: generations)
            say("resuming \(task.name) at generation \(run.state.generation) of \(run.state.settings.generations) from \(checkpointPath)")
        } else {
            var settings = EvolutionSettings(seed: seed, populationSize: population, generations: generations ?? 30)
            settings.selection.method = .tournament(size: 3)
            settings.eliteReevaluation = eliteReevaluation ?? min(3, population)
            let first = try task.initialPopulation(SimulatorTask.Ancestry(from), settings: settings)
            run = try EvolutionRun(settings: settings, task: task, initialPopulation: first, evaluator: evaluator,
                                   checkpointPath: checkpointPath, logPath: log)
            say("evolving \(task.name): elite of \(settings.eliteReevaluation) re-evaluated, population \(population), \(settings.generations) generations, \(task.trials) trials of \(task.episodeSeconds) s, seed \(seed), from \(from), \(backend?.executor.summary ?? "\(evaluator.workers) workers")")
        }

        let evolve = {
            try run.run(progress: { s in
                say(Self.progressLine(s, of: run.state.settings.generations))
            }, shouldContinue: { !stop.isRequested })
        }
        if let backend { try backend.rethrow(evolve) } else { try evolve() }

        if run.state.best != nil {
            try run.saveBest(to: output)
            let mappingPath = Self.mappingPath(for: output)
            try Data(task.preset.mappingYAML.utf8).write(to: URL(fileURLWithPath: mappingPath), options: .atomic)
            let kept = task.validationTrials > 0 ? "validation score" : run.state.settings.eliteReevaluation > 0 ? "score on fresh trials" : "fitness"
            say(String(format: "best: %@ %.3f in generation %d, saved to %@ (mapping: %@)",
                         kept, run.state.bestFitness ?? 0, run.state.bestGeneration ?? 0, output, mappingPath))
            say("try it: neuraxon sim --network \(output) --mapping \(mappingPath) --world \(task.preset.world)")
        }
        if !run.isFinished {
            say("\(stop.cause ?? "stopped") after generation \(run.state.generation) of \(run.state.settings.generations); continue with the same command and --resume")
            throw ExitStatus.code(stop.exitStatus ?? ExitStatus.stopped(by: SIGINT))
        }
        try stop.exitIfStopped()
        // The comparison saves nothing: a signal may end it at once.
        stop.release()
        if heldOut > 0 {
            if task.families.isEmpty { try compare(task: task, best: output) } else { try report(task: task, best: output) }
        }
    }

    /// The evolved network, the preset and random networks of the preset's size, per family, on
    /// training, validation and held-out worlds; the table is printed and written as JSON next
    /// to the output (OUTPUT without .json, plus .families.json).
    private func report(task: SimulatorTask, best: String) throws {
        say("per-family scores: \(heldOut) training and held-out worlds, \(task.validationTrials > 0 ? task.validationTrials : heldOut) validation worlds, \(task.episodeSeconds) s each (mean ± standard error; reached the light)")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: best)))
        _ = try NeuraxonNetwork.load(bytes: bytes, file: best)
        let preset = task.preset
        var report = FamilyReport(task: task.name)
        try report.add("evolved", task: task, count: heldOut, workers: workers) { _ in try NeuraxonNetwork.load(bytes: bytes, file: best) }
        try report.add("preset \(preset.name)", task: task, count: heldOut, workers: workers) { i in try preset.network(seed: UInt64(i) + 1) }
        try report.add("random", task: task, count: heldOut, workers: workers) { i in try preset.randomNetwork(seed: UInt64(i) + 1) }
        say(report.table())
        let path = Self.reportPath(for: output)
        try Data(try report.json()).write(to: URL(fileURLWithPath: path), options: .atomic)
        say("written to \(path)")
    }

    /// OUTPUT.json → OUTPUT.families.json.
    static func reportPath(for output: String) -> String {
        (output.hasSuffix(".json") ? String(output.dropLast(5)) : output) + ".families.json"
    }

    /// The evolved network, the preset and random networks of the preset's size, on the same
    /// held-out trials.
    private func compare(task: SimulatorTask, best: String) throws {
        say("held-out comparison: \(heldOut) generated worlds and seeds never used in training, \(task.episodeSeconds) s each")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: best)))
        let evolved = try NeuraxonNetwork.load(bytes: bytes, file: best).parameters
        let preset = task.preset
        let rows = [
            try HeldOut.judge("evolved (\((best as NSString).lastPathComponent))", task: task, count: heldOut, workers: workers) { _ in
                try NeuraxonNetwork.load(bytes: bytes, file: best)
            },
            try HeldOut.judge("preset \(preset.name) (hand-wired)", task: task, count: heldOut, workers: workers) { i in
                try preset.network(seed: UInt64(i) + 1)
            },
            try HeldOut.judge("random, same size (\(evolved.neuronCount) neurons)", task: task, count: heldOut, workers: workers) { i in
                try Self.randomNetwork(like: evolved, seed: UInt64(i) + 1)
            },
            try HeldOut.judge("random, preset size (\(preset.parameters.neuronCount) neurons)", task: task, count: heldOut, workers: workers) { i in
                try preset.randomNetwork(seed: UInt64(i) + 1)
            },
        ]
        for row in rows { say(HeldOut.describe(row, task: task)) }
        for other in rows.dropFirst() {
            let d = HeldOut.paired(rows[0], other)
            say(String(format: "evolved − %@: %+.3f ± %.3f per trial, better on %d of %d", other.controller, d.mean, d.standardError, d.wins, heldOut))
        }
    }

    /// A randomly wired network with these sizes and constants (wired with their connection probability).
    static func randomNetwork(like parameters: NetworkParameters, seed: UInt64) throws -> NeuraxonNetwork {
        try NeuraxonNetwork(parameters: parameters, dynamics: .embodied, seed: seed)
    }

    /// OUTPUT.json → OUTPUT.mapping.yaml.
    static func mappingPath(for output: String) -> String {
        (output.hasSuffix(".json") ? String(output.dropLast(5)) : output) + ".mapping.yaml"
    }

    static func progressLine(_ s: GenerationStatistics, of total: Int) -> String {
        let left = Int(s.estimatedSecondsLeft.rounded())
        let eta = left >= 60 ? "\(left / 60) min \(left % 60) s" : "\(left) s"
        return String(format: "generation %d/%d  best %.3f  mean %.3f  worst %.3f  (best so far %.3f)  %.0f evaluations/s  %@ left",
                      s.generation + 1, total, s.best, s.mean, s.worst, s.bestSoFar, s.evaluationsPerSecond, eta)
    }
}

/// Writes a line to standard output at once (unbuffered, so progress shows through a pipe too).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
