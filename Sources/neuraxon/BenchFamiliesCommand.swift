import ArgumentParser
import Foundation
import NeuraxonEmbodiment
import NeuraxonSimulation

/// `neuraxon bench families`: a robot preset and random networks of its size on many generated
/// worlds of every family, in simulated time.
struct BenchFamiliesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "families",
        abstract: "Run a robot preset and a random-network baseline on generated worlds of every family and print a table per family.",
        discussion: "Worlds FAMILY-1 … FAMILY-N (neuraxon world generate), each from its start for --duration simulated "
            + "seconds; the world seed also seeds the noise and the network. Columns: collisions per simulated minute, "
            + "mean time in contact and stuck per run, stuck as a share of the run, mean time going nowhere per run "
            + "and as a share of the run, mean net displacement, coverage, "
            + "and for families with a light the mean progress toward it (metres and share of the start distance) and "
            + "the share of runs that reached it. With --check, compares the preset's rows with the pass thresholds "
            + "(PresetStandard) and exits with status 1 if any is missed. Docs/SIMULATION.md gives the measured tables."
    )

    @Option(help: "The robot preset: avoid or seek.")
    var preset: String

    @Option(parsing: .unconditional, help: "Worlds per family (seeds 1…N).")
    var worlds: Int = 50

    @Option(name: .customLong("duration"), parsing: .unconditional, help: "Simulated seconds per world.")
    var seconds: Double = 60

    @Option(help: "Only these families, comma-separated (default: all).")
    var families: String?

    @Flag(help: "Run the preset only, without the random-network baseline.")
    var noBaseline = false

    @Flag(help: "Check the preset's rows against the pass thresholds; exit status 1 if any is missed.")
    var check = false

    @Option(parsing: .unconditional, help: "Threads that run worlds (default 1; results do not depend on it).")
    var workers: Int = 1

    func validate() throws {
        guard RobotPreset.named(preset) != nil else {
            throw ValidationError("--preset must be one of \(RobotPreset.all.map(\.name).joined(separator: ", ")), e.g. --preset avoid")
        }
        guard worlds >= 1 else { throw ValidationError("--worlds must be at least 1, e.g. --worlds 50") }
        guard seconds.isFinite, seconds >= 1, seconds <= 3600 else { throw ValidationError("--duration must be 1 to 3600 simulated seconds, e.g. --duration 60") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        _ = try chosenFamilies()
    }

    func chosenFamilies() throws -> [WorldFamily] {
        guard let families else { return WorldFamily.allCases }
        return try families.split(separator: ",").map { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let family = WorldFamily(rawValue: trimmed) else {
                throw ValidationError("--families: `\(trimmed)` is not a family; the families are \(WorldFamily.names.joined(separator: ", "))")
            }
            return family
        }
    }

    func run() throws {
        let preset = RobotPreset.named(self.preset)!
        let controllers: [FamilyBench.Controller] = noBaseline ? [.preset] : [.preset, .random]
        print("preset \(preset.name): \(worlds) worlds per family, \(seconds) simulated s each")
        print(FamilyBench.header)
        var problems: [String] = []
        for family in try chosenFamilies() {
            for controller in controllers {
                let row = try FamilyBench.measure(preset, controller, family: family, worlds: worlds, seconds: seconds, workers: workers)
                print(FamilyBench.describe(row))
                if controller == .preset { problems += PresetStandard.of(preset, on: family).failures(row) }
            }
        }
        guard check else { return }
        if problems.isEmpty {
            print("every family passes the thresholds")
        } else {
            for p in problems { print("below threshold: \(p)") }
            throw ExitStatus.code(ExitStatus.failure)
        }
    }
}
