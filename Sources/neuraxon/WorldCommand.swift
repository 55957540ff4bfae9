import ArgumentParser
import Foundation
import Neuraxon
import NeuraxonSimulation

/// `neuraxon world`: make world files.
struct WorldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "world",
        abstract: "Generate simulated worlds.",
        subcommands: [WorldGenerate.self]
    )
}

struct WorldGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Draw a world of a family from a seed and write it as a world file.",
        discussion: """
            Families: corridor (0.4–1 m wide, 2 or 3 turns, a light at the far end), clutter (a room \
            of discs down to 2 cm), doorways (rooms joined by doorways down to 0.35 m, a light in the \
            far room), light-behind (a light hidden behind walls with gaps), arena (an open arena with \
            pillars). The same family and seed always give the same file; every world written loads, \
            starts the robot clear of every wall, and its light, if it has one, can be reached. \
            Docs/SIMULATION.md, "World families", gives each family's parameters.
            """
    )

    @Option(help: ArgumentHelp("The family to draw from: \(WorldFamily.names.joined(separator: ", ")).", valueName: "family"))
    var family: String

    @Option(parsing: .unconditional, help: "The seed the world is drawn from.")
    var seed: UInt64

    @Option(name: .shortAndLong, help: "Where to write the world file (YAML).")
    var output: String

    func validate() throws {
        guard WorldFamily(rawValue: family) != nil else {
            throw ValidationError("--family \(family) is not a world family; choose one of \(WorldFamily.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        var files = FilePlan()
        files.output(output, "-o")
        try files.check()
        let world = try World.generate(WorldFamily(rawValue: family)!, seed: seed)
        let text = world.worldFileText(comment: "neuraxon world generate --family \(family) --seed \(seed)")
        do {
            try AtomicFile.replace(output, with: Array(text.utf8))
        } catch {
            throw CommandError.cannotCreate("cannot write the world file: \(error)")
        }
        let light = world.lights.first.map { String(format: ", a light at (%.2f, %.2f)", $0.position.x, $0.position.y) } ?? ""
        print(String(format: "wrote %@: world %@, %.2f m × %.2f m, %d obstacles%@",
                     output, world.name, world.arenaWidth, world.arenaHeight, world.obstacles.count, light))
    }
}
