import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonSimulation
import NeuraxonTransport
import NeuraxonView
import XCTest

/// A simulated run with its view attached, as `neuraxon sim --view` wires it: the tap on the
/// loop, the server on a free loopback port, the run on its own thread at the wall-clock pace.
final class LiveSimulation: @unchecked Sendable {
    let network: NeuraxonNetwork
    let robot: SimulatedRobot
    let mapping: Mapping
    /// Synapses when the run started (structural plasticity changes the count as it runs).
    let startSynapseCount: Int
    let tap: ViewTap
    let server: ViewServer
    let stop = StopRequest()
    let recordingPath: String
    private let done = DispatchSemaphore(value: 0)
    private(set) var outcome: SimulationOutcome?

    /// Every synapse of the network each time the tap copied them, by tick (when asked for).
    let witness: SynapseWitness?

    init(folder: String, seconds: Double = 60, witnessSynapses: Bool = false) throws {
        let preset = RobotPreset.named("seek")!
        let world = try World.named(preset.world)
        robot = try SimulatedRobot(world: world, seed: 1)
        network = try preset.network(seed: 1)
        mapping = try Mapping(yaml: preset.mappingYAML, device: DeviceInfo(simulated: robot),
                              inputCount: network.inputCount, outputCount: network.outputCount)
        startSynapseCount = network.synapseCount
        recordingPath = folder + "/run.jsonl"
        let recorder = try Recorder(path: recordingPath, header: RecordingHeader(mapping: mapping, network: NetworkIdentity(seed: 1), dtMillis: network.dt),
                                    waitWhenFull: true)
        tap = ViewTap(mapping: mapping, network: network, robot: robot)
        witness = witnessSynapses ? SynapseWitness(tap: tap, network: network) : nil
        let observer: any TickObserver = witness ?? tap
        let scene = Scene.json(mode: "live", controls: true, title: "sim seek in light, seed 1", device: mapping.device,
                               valueNames: mapping.encoders.map(\.channel), inputCount: network.inputCount,
                               outputCount: network.outputCount, network: network, world: world)
        var options = ViewServerOptions()
        options.port = 0
        server = try ViewServer(options: options, feed: LiveFeed(tap: tap, scene: scene, stopRequest: stop))
        try server.start()
        Thread { [self] in
            outcome = try? SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: seconds,
                                             recorder: recorder, realtime: true, stopRequest: stop, observer: observer)
            done.signal()
        }.start()
    }

    /// Stops the run and the server; returns once the recording is complete.
    func finish() {
        stop.request()
        done.wait()
        done.signal()
        server.stop()
    }
}

/// The tap, and beside it the network's own synapses (`NeuraxonNetwork.synapses()`) at every
/// tick after which the tap copied them for the page, to compare the page's drawing with.
final class SynapseWitness: TickObserver, @unchecked Sendable {
    let tap: ViewTap
    let network: NeuraxonNetwork
    private let lock = NSLock()
    private var seen: [Int: [Synapse]] = [:]

    init(tap: ViewTap, network: NeuraxonNetwork) {
        self.tap = tap
        self.network = network
    }

    func synapses(atTick tick: Int) -> [Synapse]? { lock.withLock { seen[tick] } }

    func beforeTick<N: ControlledNetwork>(_ core: ControlCore<N>, recorder: Recorder?) { tap.beforeTick(core, recorder: recorder) }

    func afterTick<N: ControlledNetwork>(_ core: ControlCore<N>, frame: SensorFrame, latencyNanos: UInt64) {
        tap.afterTick(core, frame: frame, latencyNanos: latencyNanos)
        let tick = core.counters.ticks - 1
        if tap.lastSynapseCopyTick == tick {
            let now = network.synapses()
            lock.withLock { seen[tick] = now }
        }
    }
}

func temporaryFolder() throws -> String {
    let path = NSTemporaryDirectory() + "neuraxon-view-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

final class BrowserViewTests: XCTestCase {
    /// The page loads offline from our server and Debian's three.js, connects its WebSocket,
    /// draws the network's neurons and synapses and the robot where the recording has it, and
    /// its dopamine slider changes dopamine in the running simulation.
    func testLiveSimulationInTheBrowser() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try LiveSimulation(folder: folder, witnessSynapses: true)
        defer { run.finish() }
        let browser = try Chromium()
        defer { browser.close() }
        try browser.navigate(run.server.url)
        try browser.waitUntil("window.neuraxonView !== undefined && neuraxonView.connected && neuraxonView.ticksReceived > 20 && neuraxonView.drawnPose !== null", timeout: 60)

        XCTAssertEqual(try browser.evaluate("neuraxonView.neuronsDrawn") as? Int, run.network.neuronCount)
        // The synapses drawn are the start's until the first refresh arrives, then those of the
        // tick they were copied at (structural plasticity changes the count).
        let drawnSynapses = try XCTUnwrap(try browser.evaluate("JSON.stringify([neuraxonView.synapsesDrawn, neuraxonView.synapsesTick])") as? String)
        let pair = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(drawnSynapses.utf8)) as? [Any])
        let expected = try (pair[1] as? Int).map { try XCTUnwrap(run.witness?.synapses(atTick: $0)).count } ?? run.startSynapseCount
        XCTAssertEqual(pair[0] as? Int, expected)
        XCTAssertGreaterThan(run.startSynapseCount, 0)

        // The robot as drawn, with the tick it was drawn for.
        let drawn = try XCTUnwrap(try browser.evaluate("JSON.stringify({tick: neuraxonView.drawnTick, pose: neuraxonView.drawnPose})") as? String)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(drawn.utf8)) as? [String: Any])
        let drawnTick = try XCTUnwrap(object["tick"] as? Int)
        let drawnPose = try XCTUnwrap(object["pose"] as? [Double])

        // Move the dopamine slider as a person would (the input event the page listens to).
        let level = 0.77
        _ = try browser.evaluate("(() => { const s = document.getElementById('mod-dopamine'); s.value = \(level); s.dispatchEvent(new Event('input')); return true })()")
        try browser.waitUntil("neuraxonView.lastTick.modulators[0] > 0.5", timeout: 30)
        // Clamp input 0 at +1 with its button (released → +1) as a person would.
        _ = try browser.evaluate("(() => { document.getElementById('clamp-input-0').click(); return true })()")
        try browser.waitUntil("neuraxonView.lastTick.inputs[0] === '+' && neuraxonView.clamps[0] === 1", timeout: 30)
        Thread.sleep(forTimeInterval: 1)
        let shot = try browser.screenshot()
        try shot.write(to: URL(fileURLWithPath: screenshotFolder() + "/live-sim.png"))
        XCTAssertEqual(browser.pageErrors, [])
        run.finish()

        // The recording: the drawn pose is the recorded pose of that tick; dopamine jumped to the level.
        let reader = try RecordingReader(path: run.recordingPath)
        var ticks: [TickRecord] = []
        while let t = reader.nextTick() { ticks.append(t) }
        let recorded = try XCTUnwrap(ticks.first { $0.tick == drawnTick }?.pose, "tick \(drawnTick) is not in the recording")
        XCTAssertEqual(drawnPose[0], recorded.x, accuracy: 1e-4)
        XCTAssertEqual(drawnPose[1], recorded.y, accuracy: 1e-4)
        XCTAssertEqual(drawnPose[2], recorded.heading, accuracy: 1e-4)
        XCTAssertEqual(run.tap.appliedControls, 2)
        let clampReader = try RecordingReader(path: run.recordingPath)
        var clamps: [RecordingEvent] = []
        while let entry = clampReader.next() { if case let .event(e) = entry, e.kind == .clamp { clamps.append(e) } }
        XCTAssertEqual(clamps.map(\.input), [0])
        XCTAssertEqual(clamps.map(\.clampedState), [.excitatory])
        let held = ticks.filter { $0.tick >= (clamps.first?.tick ?? .max) }
        XCTAssertFalse(held.isEmpty)
        XCTAssertTrue(held.allSatisfy { $0.inputs[0] == .excitatory }, "input 0 was not held at +1 after the clamp")
        let dopamine = ticks.map { $0.modulators[Neuromodulator.dopamine.index] }
        let first = try XCTUnwrap(dopamine.firstIndex { abs($0 - level) < 0.02 }, "no recorded tick has dopamine \(level)")
        XCTAssertGreaterThan(first, 0)
        XCTAssertGreaterThan(abs(dopamine[first - 1] - dopamine[first]), 0.05, "dopamine was already \(level) before the slider moved")
    }

    /// The page redraws the synapses as plasticity changes them: once the run has gone on, the
    /// drawn synapses are those the network itself had after the tick they were copied at
    /// (count, ends and weights), coloured by the sign of their weight, and their weights are
    /// no longer those the run started with.
    func testTheSynapsesFollowPlasticity() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try LiveSimulation(folder: folder, witnessSynapses: true)
        defer { run.finish() }
        let start = run.network.synapses()
        let browser = try Chromium()
        defer { browser.close() }
        try browser.navigate(run.server.url)
        // The first copy is of tick 0; wait for one made seconds later.
        try browser.waitUntil("window.neuraxonView !== undefined && neuraxonView.synapsesTick !== null && neuraxonView.synapsesTick > 400", timeout: 60)
        let text = try XCTUnwrap(try browser.evaluate("""
            JSON.stringify({tick: neuraxonView.synapsesTick, total: neuraxonView.synapsesTotal, drawn: neuraxonView.synapsesDrawn,
                            colours: neuraxonView.synapseColours, synapses: neuraxonView.scene.network.synapses})
            """) as? String)
        let page = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let tick = try XCTUnwrap(page["tick"] as? Int)
        let drawn = try XCTUnwrap(page["synapses"] as? [[Double]])
        let colours = try XCTUnwrap(page["colours"] as? [String: Int])
        let own = try XCTUnwrap(run.witness?.synapses(atTick: tick), "the tap copied no synapses at tick \(tick)")

        XCTAssertEqual(page["drawn"] as? Int, own.count)
        XCTAssertEqual(page["total"] as? Int, own.count)
        XCTAssertEqual(drawn.count, own.count)
        for (d, s) in zip(drawn, own) {
            XCTAssertEqual(Int(d[0]), s.pre)
            XCTAssertEqual(Int(d[1]), s.post)
            XCTAssertEqual(d[2], s.wFast, accuracy: 1e-3 * max(1, abs(s.wFast)))
            XCTAssertEqual(d[3], s.wSlow, accuracy: 1e-3 * max(1, abs(s.wSlow)))
            XCTAssertEqual(d[4], s.wMeta, accuracy: 1e-3 * max(1, abs(s.wMeta)))
            XCTAssertEqual(d[5] == 1, s.isSilent)
            XCTAssertEqual(d[6] == 1, s.isModulatory)
        }
        // Colours as drawn (fast weight chosen): green positive, red negative, grey silent, violet modulatory.
        let plain = own.filter { !$0.isSilent && !$0.isModulatory }
        XCTAssertEqual(colours["silent"], own.filter(\.isSilent).count)
        XCTAssertEqual(colours["modulatory"], own.filter { !$0.isSilent && $0.isModulatory }.count)
        XCTAssertEqual(colours["positive"], plain.filter { Float($0.wFast) >= 0 }.count)
        XCTAssertEqual(colours["negative"], plain.filter { Float($0.wFast) < 0 }.count)
        // Plasticity changed the weights since the start: what is drawn is not the start's network.
        let changed = zip(start, own).filter { $0.pre == $1.pre && $0.post == $1.post && abs($0.wFast - $1.wFast) > 1e-3 }.count
        XCTAssertTrue(changed > 0 || start.count != own.count, "no weight changed between tick 0 and tick \(tick)")
        XCTAssertEqual(browser.pageErrors, [])
    }

    /// Frames per second of the page in software rendering for a 30- and a 1200-neuron network
    /// (the figures in Docs/PERFORMANCE.md); screenshots of both.
    func testFrameRatesInSoftwareRendering() throws {
        for (inputs, hidden, name) in [(5, 20, "30-neurons"), (100, 1000, "1200-neurons")] {
            var p = NetworkParameters()
            p.numInputNeurons = inputs
            p.numHiddenNeurons = hidden
            p.numOutputNeurons = inputs
            let network = try NeuraxonNetwork(parameters: p, seed: 7)
            let world = try World.named("obstacles")
            let mapping = try RobotPreset.named("seek")!.mapping()
            let scene = Scene.json(mode: "live", controls: true, title: name, device: mapping.device,
                                   valueNames: mapping.encoders.map(\.channel), inputCount: mapping.inputCount,
                                   outputCount: mapping.outputCount, network: network, world: world)
            let tap = ViewTap(mapping: mapping, network: network, robot: nil)
            var options = ViewServerOptions()
            options.port = 0
            let server = try ViewServer(options: options, feed: LiveFeed(tap: tap, scene: scene, stopRequest: StopRequest()))
            try server.start()
            defer { server.stop() }
            let browser = try Chromium()
            defer { browser.close() }
            try browser.navigate(server.url)
            try browser.waitUntil("window.neuraxonView !== undefined && neuraxonView.connected && neuraxonView.neuronsDrawn === \(network.neuronCount) && neuraxonView.frames > 3", timeout: 60)
            XCTAssertEqual(try browser.evaluate("neuraxonView.synapsesDrawn") as? Int, network.synapseCount)
            let f0 = try XCTUnwrap(try browser.evaluate("neuraxonView.frames") as? Int)
            let t0 = Date()
            Thread.sleep(forTimeInterval: 5)
            let f1 = try XCTUnwrap(try browser.evaluate("neuraxonView.frames") as? Int)
            let fps = Double(f1 - f0) / Date().timeIntervalSince(t0)
            print(String(format: "view frame rate, %@ (%d synapses), software rendering: %.1f frames/s", name, network.synapseCount, fps))
            XCTAssertGreaterThan(fps, 0.2, "the page stopped drawing")
            try browser.screenshot().write(to: URL(fileURLWithPath: screenshotFolder() + "/\(name).png"))
        }
    }
}

final class PlaygroundBrowserTests: XCTestCase {
    /// The playground builds a network from a preset and a changed parameter, holds an input by
    /// hand, moves dopamine, runs, and saves the network, all from the page.
    func testThePlaygroundBuildsRunsAndSaves() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let saved = folder + "/playground.json"
        let feed = try PlaygroundFeed(preset: "flowing", seed: 1, savePath: saved)
        var options = ViewServerOptions()
        options.port = 0
        let server = try ViewServer(options: options, feed: feed)
        try server.start()
        defer { server.stop() }
        let browser = try Chromium()
        defer { browser.close() }
        try browser.navigate(server.url)
        try browser.waitUntil("window.neuraxonView !== undefined && neuraxonView.connected && neuraxonView.neuronsDrawn > 0", timeout: 60)
        func click(_ id: String) throws {
            _ = try browser.evaluate("(() => { document.getElementById('\(id)').click(); return true })()")
        }
        // Build: 12 hidden neurons instead of the preset's.
        _ = try browser.evaluate("(() => { const i = document.querySelector('#pg-params input[data-key=num_hidden_neurons]'); i.value = '12'; return true })()")
        try click("pg-build")
        try browser.waitUntil("neuraxonView.scene.network.hidden === 12 && neuraxonView.neuronsDrawn === neuraxonView.scene.network.input + 12 + neuraxonView.scene.network.output", timeout: 30)
        // Hold input 0 at +1, move dopamine, run.
        try click("pg-input-0")
        try browser.waitUntil("neuraxonView.lastTick !== null && neuraxonView.lastTick.inputs[0] === '+'", timeout: 30)
        _ = try browser.evaluate("(() => { const s = document.getElementById('mod-dopamine'); s.value = 0.9; s.dispatchEvent(new Event('input')); return true })()")
        try browser.waitUntil("neuraxonView.lastTick.modulators[0] > 0.85", timeout: 30)
        try click("pg-run")
        try browser.waitUntil("neuraxonView.lastTick.tick > 50", timeout: 60)
        try click("pg-pause")
        try click("pg-save")
        try browser.waitUntil("neuraxonView.infos.some((m) => m.startsWith('saved'))", timeout: 30)
        try browser.screenshot().write(to: URL(fileURLWithPath: screenshotFolder() + "/playground.png"))
        XCTAssertEqual(browser.pageErrors, [])

        let network = try NeuraxonNetwork.load(contentsOf: saved)
        XCTAssertEqual(network.hiddenCount, 12)
        XCTAssertGreaterThan(network.stepCount, 50)
        XCTAssertEqual(network.metadata["preset"], "flowing")
    }
}
