import ArgumentParser
import Foundation
import Glibc
import Neuraxon
import NeuraxonEmbodiment

/// `neuraxon bench replay`: record a long synthetic run, then time replaying it.
struct BenchReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Time the replay of a long recording (default: 10 minutes at 200 Hz, 30-neuron network).",
        discussion: "Records --duration seconds of the reference robot at --frequency Hz driven by the 'flowing' preset (5/20/5, "
            + "embodied dynamics, seed 1) from a fixed synthetic sensor script, then replays the recording through "
            + "a fresh copy of that network, comparing every tick. Prints wall and CPU time of the replay alone. "
            + "Target: 10 minutes at 200 Hz in at most 2 s."
    )

    @Option(help: "Seconds of recording.")
    var duration: Double = 600

    @Option(help: "Sensor frames per second, in Hz (`replay --rate` is a pace, a multiple of real time).")
    var frequency: Double = 200

    @Option(help: "Where to write the recording (removed afterwards).")
    var path: String = FileManager.default.temporaryDirectory.appendingPathComponent("neuraxon-bench-replay-\(getpid()).jsonl").path

    func validate() throws {
        guard duration > 0, duration <= 7200 else { throw ValidationError("--duration must be in (0, 7200] seconds") }
        guard frequency >= 1, frequency <= 1000 else { throw ValidationError("--frequency must be 1…1000 Hz") }
    }

    func run() throws {
        var files = FilePlan()
        files.protectedOutput(path, "--path", howToReplace: "the benchmark removes its recording afterwards, so name a file that does not exist yet")
        try files.check()
        defer { unlink(path) }
        var replayCPU = 0.0
        let result = try EmbodimentBenchmarks.replay(seconds: duration, rateHz: frequency, recordingPath: path) {
            // Called twice: to record, then (after the recording is written) to replay.
            replayCPU = processCPUSeconds()
            return try NetworkPreset.flowing.build(seed: 1)
        }
        let cpu = processCPUSeconds() - replayCPU
        print(result)
        print(String(format: "replay CPU time: %.2f s", cpu))
        if !result.identical { throw ExitCode.failure }
    }
}

/// User plus system CPU time of this process, in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
