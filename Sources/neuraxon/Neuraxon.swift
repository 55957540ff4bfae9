import ArgumentParser

/// The `neuraxon` command: a thin layer that parses arguments, wires the library targets
/// together and prints. All logic lives in the libraries, where tests can reach it.
@main
struct NeuraxonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neuraxon",
        abstract: "A trinary neural network that drives a serial-attached robot.",
        subcommands: [
            // In the order a user meets them: simulate, drive a robot, look back, then tools.
            SimCommand.self,
            RunCommand.self,
            ReplayCommand.self,
            LogCommand.self,
            DevicesCommand.self,
            ProbeCommand.self,
            NetCommand.self,
            EvolveCommand.self,
            BenchCommand.self,
            DemoCommand.self,
        ]
    )
}
