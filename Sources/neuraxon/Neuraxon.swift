import ArgumentParser

/// The `neuraxon` command: a thin layer that parses arguments, wires the library targets
/// together and prints. All logic lives in the libraries, where tests can reach it.
@main
struct NeuraxonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neuraxon",
        abstract: "A trinary neural network that drives a serial-attached robot.",
        version: NeuraxonVersion.description,
        subcommands: [
            // In the order a user meets them: simulate, drive a robot, look back, then tools.
            SimCommand.self,
            WorldCommand.self,
            RunCommand.self,
            ReplayCommand.self,
            ViewCommand.self,
            LogCommand.self,
            ReportCommand.self,
            DevicesCommand.self,
            ProbeCommand.self,
            RobotCommand.self,
            NetCommand.self,
            EvolveCommand.self,
            BenchCommand.self,
            DemoCommand.self,
            EvaluateCommand.self,
        ]
    )

    /// Parses the command line, then runs the command. A mistake on the command line (found
    /// while parsing or in a command's `validate()`) gets ArgumentParser's message and usage, exit
    /// status 64; an error while the command runs gets `error: …` and its own exit status
    /// (`ErrorReport`), with no usage banner.
    static func main() {
        let command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            var command = command
            try command.run()
        } catch {
            // `--help` and `help` run ArgumentParser's own command, which ends by throwing its own
            // (internal) error types: those keep ArgumentParser's handling.
            if ErrorReport.isArgumentParserOwn(error) { exit(withError: error) }
            ErrorReport.exit(with: error)
        }
    }
}
