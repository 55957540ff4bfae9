import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import Testing

/// The file descriptors this process has open (the entries of `/proc/self/fd`).
private func openFileDescriptors() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
}

/// A run ends and lets go of everything it held: a program that runs many loops, recordings and
/// replays in one process (evolution, batches, a test suite) must not keep their threads' objects,
/// pipes and files alive.
@Suite struct ResourceReleaseTests {
    @Test("a finished control loop lets go of itself, its body and its recorder")
    func aFinishedLoopIsReleased() throws {
        weak var loopLeft: ControlLoop<ScriptedBody, ProbeNetwork>?
        weak var bodyLeft: ScriptedBody?
        weak var recorderLeft: Recorder?
        let folder = TemporaryFolder()
        do {
            let body = ScriptedBody(count: 50, periodMicros: 5000, readings: sweepReadings)
            let recorder = try Recorder(path: folder.file("run.jsonl"),
                                        header: RecordingHeader(mapping: referenceMapping, network: NetworkIdentity(), dtMillis: 1))
            let loop = try ControlLoop(body: body, network: ProbeNetwork(), mapping: referenceMapping, recorder: recorder)
            loopLeft = loop
            bodyLeft = body
            recorderLeft = recorder
            loop.start()
            #expect(loop.wait() == .finished)
        }
        // The threads let go as they end, just after the loop says it finished.
        let deadline = Date().addingTimeInterval(10)
        while (loopLeft != nil || bodyLeft != nil || recorderLeft != nil) && Date() < deadline { usleep(1000) }
        #expect(loopLeft == nil, "the control loop is kept alive after its run")
        #expect(bodyLeft == nil, "the body is kept alive after its run")
        #expect(recorderLeft == nil, "the recorder is kept alive after its run")
    }

    @Test("a hundred recorded runs and their replays leave no file descriptor open")
    func runsLeaveNoDescriptorsOpen() throws {
        let folder = TemporaryFolder()
        let path = folder.file("run.jsonl")
        func oneRun() throws {
            let recorder = try Recorder(path: path, header: RecordingHeader(mapping: referenceMapping, network: NetworkIdentity(), dtMillis: 1))
            let loop = try ControlLoop(body: ScriptedBody(count: 20, periodMicros: 5000, readings: sweepReadings),
                                       network: ProbeNetwork(), mapping: referenceMapping, recorder: recorder)
            loop.start()
            loop.wait()
            _ = try Replay.run(reader: try RecordingReader(path: path), network: ProbeNetwork(), mapping: referenceMapping)
        }
        try oneRun()   // lets lazily made, process-wide things be made once
        usleep(100_000)
        let before = openFileDescriptors()
        for _ in 0..<100 { try oneRun() }
        // Each run's stop request holds a pipe (two descriptors): kept alive, 100 runs leave 200
        // open. Tests running at the same time open and close some of their own, hence the margin.
        var after = openFileDescriptors()
        let deadline = Date().addingTimeInterval(10)
        while after > before + 100 && Date() < deadline { usleep(10_000); after = openFileDescriptors() }
        #expect(after <= before + 100, "\(after - before) more descriptors open after 100 runs")
    }
}
