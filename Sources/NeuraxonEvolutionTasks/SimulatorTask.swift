// NeuraxonEvolutionTasks — fitness tasks for NeuraxonEvolution in the simulator.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonEvolution
import NeuraxonSimulation

/// A problem with a task's name or settings.
public struct TaskError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A fitness task in the simulator: each evaluation runs the network in the closed loop
/// (simulated sensors → the preset's encoder → network → the preset's decoder → simulated motors,
/// through `SimulationRun`, the code path of `neuraxon sim`) for a short episode on one trial
/// world, and scores what the simulator measured.
///
/// With world families (`families`), trial t is a world of family t mod k (k families, in the
/// order given) drawn from the trial's seed, which changes every generation; validation trial v
/// and held-out trial i are worlds of family v mod k and i mod k drawn from two other seed
/// domains, fixed for the run, so training, validation and held-out worlds never meet.
/// Without families, trials alternate between the task's built-in world (even trials: a starting
/// pose picked and turned by the seed, see `TrialWorlds.builtin`) and a generated world (odd
/// trials: `TrialWorlds.obstacleField` or `lightField`), and held-out trials (`heldOut(_:)`) are
/// generated worlds from another seed domain. The trial's seed also drives the sensor noise and
/// the link.
///
/// Scores (higher is better), from `RunMetrics` over an episode of T seconds:
///
/// - **avoid**: F = d − c·P, with d the distance travelled (m), c the collisions and
///   P = `collisionPenalty` (1 m): move as far as possible without touching anything.
/// - **seek**: F = (T − t_reach) + t_near + (D₀ − D_T)/v_max, in seconds, with t_reach the time
///   the light was first reached (T if never), t_near the time spent within 0.3 m of it, D₀ and
///   D_T the distances from the robot to the light at the start and the end (m), and
///   v_max = 0.3 m/s the robot's top speed; minus `collisionPenalty` s per collision. Reaching
///   the light fast and staying there scores highest; getting closer scores something, so
///   evolution has a slope to climb before any genome reaches the light.
public struct SimulatorTask: FitnessTask {
    public enum Kind: String, Sendable, CaseIterable {
        case avoid, seek
    }

    public let kind: Kind
    public let trials: Int
    /// Simulated seconds per episode.
    public let episodeSeconds: Double
    /// What one collision costs: metres of travel for `avoid`, seconds for `seek`.
    public let collisionPenalty: Double
    /// The hand-wired preset whose mapping (encoder and decoder) the evolved networks use.
    public let preset: RobotPreset
    /// The world families trials are drawn from, in order (empty: the built-in world and
    /// generated fields).
    public let families: [WorldFamily]
    /// Validation trials (families only; 0: none): fixed worlds on which the run chooses the
    /// best genome it keeps.
    public let validationTrials: Int

    /// The families a task of `kind` can train on: every family for avoid, the families with a
    /// light for seek.
    public static func allowedFamilies(_ kind: Kind) -> [WorldFamily] {
        kind == .avoid ? WorldFamily.allCases : [.corridor, .doorways, .lightBehind]
    }

    /// `sim-KIND trials T episode S s`, e.g. `sim-avoid trials 4 episode 10.0 s`: everything a
    /// score depends on, so a checkpoint resumes only with the same task (`init(savedName:)`
    /// reads it back).
    /// With families, followed by `families corridor,clutter validation V`.
    public var name: String {
        let base = "sim-\(kind.rawValue) trials \(trials) episode \(episodeSeconds) s"
        guard !families.isEmpty else { return base }
        return base + " families \(families.map(\.rawValue).joined(separator: ",")) validation \(validationTrials)"
    }

    /// The task a checkpoint was made with, from its saved `name`.
    /// - Throws: `TaskError` when the name is not one a `SimulatorTask` writes.
    public init(savedName: String) throws {
        let words = savedName.split(separator: " ")
        guard words.count == 6 || words.count == 10, words[0].hasPrefix("sim-"), words[1] == "trials", words[3] == "episode", words[5] == "s",
              let kind = Kind(rawValue: String(words[0].dropFirst(4))), let trials = Int(words[2]),
              let seconds = Double(words[4]) else {
            throw TaskError("the checkpoint's task `\(savedName)` is not a simulator task (expected e.g. `sim-avoid trials 4 episode 10.0 s`)")
        }
        var families: [WorldFamily] = [], validation = 0
        if words.count == 10 {
            guard words[6] == "families", words[8] == "validation", let v = Int(words[9]) else {
                throw TaskError("the checkpoint's task `\(savedName)` is not a simulator task (expected e.g. `sim-avoid trials 4 episode 10.0 s families corridor,clutter validation 10`)")
            }
            families = try Self.parseFamilies(String(words[7]))
            validation = v
        }
        try self.init(kind, trials: trials, episodeSeconds: seconds, families: families, validationTrials: validation)
    }

    /// - Parameters:
    ///   - kind: `avoid` (obstacle avoidance) or `seek` (light seeking).
    ///   - trials: episodes per genome and generation, ≥ 1 (default 4: two on the built-in
    ///     world, two on generated ones).
    ///   - episodeSeconds: simulated seconds per episode (default 10 for avoid, 15 for seek).
    ///   - families: the world families to train on (empty: the built-in world and generated
    ///     fields); seek takes only families with a light.
    ///   - validationTrials: fixed validation worlds (families only), ≥ 0.
    /// - Throws: `TaskError` for trials below 1, an episode outside 0.5…600 s, a family seek
    ///   cannot use, a repeated family, or validation trials without families.
    public init(_ kind: Kind, trials: Int = 4, episodeSeconds: Double? = nil, families: [WorldFamily] = [],
                validationTrials: Int = 0) throws {
        guard trials >= 1 else { throw TaskError("trials must be at least 1 (got \(trials))") }
        for family in families where !Self.allowedFamilies(kind).contains(family) {
            throw TaskError("the \(kind.rawValue) task cannot train on \(family.rawValue) worlds (they have no light); its families are \(Self.allowedFamilies(kind).map(\.rawValue).joined(separator: ", "))")
        }
        guard Set(families).count == families.count else { throw TaskError("a family is named twice in \(families.map(\.rawValue).joined(separator: ","))") }
        guard validationTrials >= 0, families.isEmpty ? validationTrials == 0 : true else {
            throw TaskError("validation trials need world families (got \(validationTrials) without families)")
        }
        let seconds = episodeSeconds ?? (kind == .avoid ? 10 : 15)
        guard seconds.isFinite, seconds >= 0.5, seconds <= 600 else {
            throw TaskError("an episode must last 0.5 to 600 simulated seconds (got \(seconds))")
        }
        self.kind = kind
        self.trials = trials
        self.episodeSeconds = seconds
        collisionPenalty = 1
        preset = kind == .avoid ? RobotPreset.avoid : RobotPreset.seek
        self.families = families
        self.validationTrials = validationTrials
    }

    /// Family names separated by commas, e.g. `corridor,clutter`.
    /// - Throws: `TaskError` naming an unknown family and the families there are.
    public static func parseFamilies(_ text: String) throws -> [WorldFamily] {
        try text.split(separator: ",").map { word in
            let name = word.trimmingCharacters(in: .whitespaces)
            guard let family = WorldFamily(rawValue: name) else {
                throw TaskError("`\(name)` is not a world family; the families are \(WorldFamily.names.joined(separator: ", "))")
            }
            return family
        }
    }

    /// The task named `avoid` or `seek`.
    /// - Throws: `TaskError` naming the tasks there are.
    public init(named name: String, trials: Int = 4, episodeSeconds: Double? = nil, families: [WorldFamily] = [],
                validationTrials: Int = 0) throws {
        guard let kind = Kind(rawValue: name) else {
            throw TaskError("unknown task `\(name)`; the tasks are \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try self.init(kind, trials: trials, episodeSeconds: episodeSeconds, families: families, validationTrials: validationTrials)
    }

    /// The built-in world the task trains on (the preset's).
    public var builtinWorld: World {
        kind == .avoid ? World.obstacleCourse : World.lightArena
    }

    /// Trial `trial` of a training evaluation with seed `seed`.
    /// - Throws: `WorldError` if a family's world cannot be drawn from the seed.
    public func training(trial: Int, seed: UInt64) throws -> TrialSetup {
        let worldSeed = TrialWorlds.worldSeed(seed, trial: trial, domain: TrialWorlds.trainingDomain)
        if !families.isEmpty { return try TrialWorlds.family(family(ofTrial: trial), seed: worldSeed) }
        if trial % 2 == 0 { return TrialWorlds.builtin(builtinWorld, seed: worldSeed) }
        return generated(seed: worldSeed)
    }

    /// Held-out trial `index`: a generated world (of family index mod k, with families) drawn
    /// from a seed domain training and validation never use.
    public func heldOut(_ index: Int) throws -> TrialSetup {
        let seed = TrialWorlds.worldSeed(UInt64(truncatingIfNeeded: index), trial: 0, domain: TrialWorlds.heldOutDomain)
        if !families.isEmpty { return try TrialWorlds.family(family(ofTrial: index), seed: seed) }
        return generated(seed: seed)
    }

    /// Validation trial `index` (families only): a world of family index mod k from the
    /// validation seed domain.
    public func validation(_ index: Int) throws -> TrialSetup {
        try TrialWorlds.family(family(ofTrial: index),
                               seed: TrialWorlds.worldSeed(UInt64(truncatingIfNeeded: index), trial: 0, domain: TrialWorlds.validationDomain))
    }

    /// The noise seed of validation trial `index`.
    public func validationNoiseSeed(_ index: Int) -> UInt64 {
        TrialWorlds.worldSeed(UInt64(truncatingIfNeeded: index), trial: 1, domain: TrialWorlds.validationDomain)
    }

    /// The family of trial `index` (training, validation or held-out): family index mod k.
    public func family(ofTrial index: Int) -> WorldFamily {
        families[index % families.count]
    }

    public func validationScore(of network: NeuraxonNetwork, trial: Int) throws -> Double {
        try score(network, on: try validation(trial), noiseSeed: validationNoiseSeed(trial))
    }

    /// The noise seed of held-out trial `index`.
    public func heldOutNoiseSeed(_ index: Int) -> UInt64 {
        TrialWorlds.worldSeed(UInt64(truncatingIfNeeded: index), trial: 1, domain: TrialWorlds.heldOutDomain)
    }

    private func generated(seed: UInt64) -> TrialSetup {
        kind == .avoid ? TrialWorlds.obstacleField(seed: seed) : TrialWorlds.lightField(seed: seed)
    }

    public func fitness(of network: NeuraxonNetwork, trial: Int, seed: UInt64) throws -> Double {
        try score(network, on: try training(trial: trial, seed: seed), noiseSeed: seed)
    }

    /// Runs `network` on `setup` for one episode with the preset's mapping and scores it.
    /// - Throws: `WorldError` for a bad world, `MappingError` when the network's input or output
    ///   count does not fit the preset's mapping (11 inputs, 4 outputs).
    public func score(_ network: NeuraxonNetwork, on setup: TrialSetup, noiseSeed: UInt64) throws -> Double {
        let outcome = try run(network, on: setup, noiseSeed: noiseSeed)
        return score(outcome.metrics, setup: setup, finalPose: outcome.finalPose)
    }

    /// Runs `network` on `setup` for one episode with the preset's mapping.
    public func run(_ network: NeuraxonNetwork, on setup: TrialSetup, noiseSeed: UInt64) throws
        -> (metrics: RunMetrics, finalPose: Pose) {
        let robot = try SimulatedRobot(world: setup.world, seed: noiseSeed, pose: setup.pose)
        let mapping = try Mapping(yaml: preset.mappingYAML, device: DeviceInfo(simulated: robot),
                                  inputCount: network.inputCount, outputCount: network.outputCount)
        let outcome = try SimulationRun.run(robot: robot, network: network, mapping: mapping,
                                            durationSeconds: episodeSeconds)
        return (outcome.metrics, robot.pose)
    }

    /// The score of an episode (see the type's documentation for the equations).
    public func score(_ m: RunMetrics, setup: TrialSetup, finalPose: Pose) -> Double {
        let penalty = collisionPenalty * Double(m.collisions)
        switch kind {
        case .avoid:
            return m.distanceTravelled - penalty
        case .seek:
            let t = episodeSeconds
            guard let light = setup.world.lights.first?.position else { return -penalty }
            let topSpeed = setup.world.robot.wheelRadius * setup.world.robot.maxWheelSpeed
            let progress = (distance(setup.pose.position, light) - distance(finalPose.position, light)) / topSpeed
            return (t - min(m.timeToReachLight ?? t, t)) + m.timeNearLight + progress - penalty
        }
    }

    private func distance(_ a: Vector2, _ b: Vector2) -> Double {
        let dx = a.x - b.x, dy = a.y - b.y
        return (dx * dx + dy * dy).squareRoot()
    }
}

// MARK: Starting populations

extension SimulatorTask {
    /// Where the first generation comes from.
    public enum Ancestry: Sendable, Equatable {
        /// Random genomes of the preset's size (11 input, 15 hidden, 4 output neurons), each
        /// allowed pair wired with probability `randomConnectionProbability`.
        case random
        /// The hand-wired preset of the task and mutants of it.
        case preset
        /// The network file at this path (11 inputs, 4 outputs, embodied dynamics) and mutants of it.
        case file(String)

        /// `random`, `preset`, or a path to a network file.
        public init(_ text: String) {
            switch text {
            case "random": self = .random
            case "preset": self = .preset
            default: self = .file(text)
            }
        }
    }

    /// The connection probability of a random starting genome.
    public static let randomConnectionProbability = 0.15

    /// The first generation, drawn from the run seed.
    /// - Throws: `EvolutionError` for bad settings or a network file that cannot be a genome,
    ///   `TaskError` when its input or output count does not fit the preset's mapping.
    public func initialPopulation(_ ancestry: Ancestry, settings: EvolutionSettings) throws -> [Genome] {
        let p = preset.parameters
        switch ancestry {
        case .random:
            return try EvolutionRun.randomPopulation(
                template: p, inputs: p.numInputNeurons, hidden: p.numHiddenNeurons, outputs: p.numOutputNeurons,
                connectionProbability: Self.randomConnectionProbability, settings: settings)
        case .preset:
            return try EvolutionRun.population(descendingFrom: try Genome(network: preset.network(seed: settings.seed)),
                                               settings: settings)
        case let .file(path):
            let ancestor = try Genome.load(contentsOf: path)
            guard ancestor.inputCount == p.numInputNeurons, ancestor.outputCount == p.numOutputNeurons else {
                throw TaskError("\(path): the network has \(ancestor.inputCount) input and \(ancestor.outputCount) output neurons; the \(kind.rawValue) task's mapping needs \(p.numInputNeurons) and \(p.numOutputNeurons) (start from `preset` or `random`, or from a network of that shape)")
            }
            return try EvolutionRun.population(descendingFrom: ancestor, settings: settings)
        }
    }
}
