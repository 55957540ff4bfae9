import Foundation
import Neuraxon
import NeuraxonSimulation

/// Turns a recording (its header, then ticks and events in order) into MCAP bytes on the
/// topics of `RecordingTopics`. The owner writes out `takeOutput()` whenever it likes; a tick's
/// messages always land in one chunk.
struct RecordingMCAPEncoder {
    private var writer: MCAPWriter
    private var channels: [String: UInt16] = [:]
    private let header: RecordingHeader
    private let simulated: Bool
    private var scratch = JSONOutput()

    /// Starts the file: schemas and channels, the header as metadata, the network file and the
    /// mapping as attachments, and for a simulated run the world as one scene update.
    /// - Parameters:
    ///   - networkFile: the network file's bytes, attached as `network.json` when given.
    ///   - chunkBytes: a chunk is closed once its records reach this size.
    init(header: RecordingHeader, networkFile: [UInt8]?, chunkBytes: Int) throws(RecordingError) {
        self.header = header
        writer = MCAPWriter(chunkBytes: chunkBytes)
        var world: World?
        if let text = header.world {
            do { world = try World.parse(yaml: text, source: "the recording's world") } catch {
                throw RecordingError(path: "the recording's header", "its world cannot be read: \(error)")
            }
        }
        simulated = world != nil
        let headerJSON: String
        do { headerJSON = String(decoding: try header.jsonLine(), as: UTF8.self) } catch {
            throw RecordingError(path: "the recording's header", "cannot be encoded: \(error)")
        }
        for (topic, name, schema) in RecordingTopics.schemas(simulated: simulated) {
            let id = writer.addSchema(name: name, encoding: "jsonschema", data: Array(schema.utf8))
            channels[topic] = writer.addChannel(topic: topic, schema: id, messageEncoding: "json")
        }
        writer.addMetadata(name: RecordingTopics.metadataName, [
            ("firmware", header.device.firmwareVersion), ("board", header.device.name),
            ("network_path", header.network.path), ("network_digest", header.network.digest),
            ("start_time", header.startTime), ("mapping", header.mapping), ("header", headerJSON),
        ])
        if let networkFile {
            writer.addAttachment(name: "network.json", mediaType: "application/json", data: networkFile, logTime: 0, createTime: 0)
        }
        writer.addAttachment(name: "mapping.yaml", mediaType: "application/yaml", data: Array(header.mapping.utf8), logTime: 0, createTime: 0)
        if let world { addWorld(world) }
    }

    mutating func takeOutput() -> [UInt8] { writer.takeOutput() }

    /// Messages added so far.
    var messageCount: Int { writer.messagesAdded }

    /// Closes the open chunk so that what was added so far survives a cut.
    mutating func closeChunk() { writer.closeChunk() }

    /// Closes the file (data end, summary, footer).
    mutating func finish() { writer.finish() }

    private mutating func message(_ topic: String, _ time: UInt64, _ write: (inout JSONOutput) -> Void) {
        scratch.bytes.removeAll(keepingCapacity: true)
        write(&scratch)
        let bytes = scratch.bytes
        writer.addMessage(channel: channels[topic]!, logTime: time, publishTime: time) { $0.append(contentsOf: bytes) }
    }

    mutating func add(_ t: TickRecord) {
        let time = t.timestampMicros &* 1000
        let sensors = header.device.sensors, actuators = header.device.actuators, valueNames = header.valueNames
        message(RecordingTopics.sensors, time) { o in
            o.raw("{\"tick\":"); o.int(t.tick); o.raw(",\"t_us\":"); o.int(t.timestampMicros); o.raw(",\"seq\":"); o.int(t.sequence)
            o.raw(",\"raw\":{")
            for k in 0..<min(t.raw.count, sensors.count) {
                if k > 0 { o.raw(",") }
                o.string(sensors[k].name); o.raw(":"); o.int(t.raw[k])
            }
            o.raw("},\"values\":{")
            for (k, v) in t.values.enumerated() where k < valueNames.count {
                if k > 0 { o.raw(",") }
                o.string(valueNames[k]); o.raw(":"); o.double(v)
            }
            o.raw("}}")
        }
        message(RecordingTopics.inputs, time) { o in
            o.raw("{\"tick\":"); o.int(t.tick); o.raw(",\"inputs\":"); o.array(t.inputs) { $0.int($1.rawValue) }; o.raw("}")
        }
        message(RecordingTopics.outputs, time) { o in
            o.raw("{\"tick\":"); o.int(t.tick); o.raw(",\"steps\":"); o.int(t.steps)
            o.raw(",\"outputs\":"); o.array(t.outputs) { $0.int($1.rawValue) }; o.raw("}")
        }
        message(RecordingTopics.setpoints, time) { o in
            o.raw("{\"tick\":"); o.int(t.tick); o.raw(",\"setpoints\":{")
            for k in 0..<min(t.setpoints.count, actuators.count) {
                if k > 0 { o.raw(",") }
                o.string(actuators[k].name); o.raw(":"); o.int(t.setpoints[k])
            }
            o.raw("}}")
        }
        message(RecordingTopics.modulators, time) { o in
            o.raw("{\"tick\":"); o.int(t.tick)
            for (k, m) in Neuromodulator.allCases.enumerated() where k < t.modulators.count {
                o.raw(","); o.string(m.rawValue); o.raw(":"); o.double(t.modulators[k])
            }
            o.raw("}")
        }
        message(RecordingTopics.link, time) { o in
            o.raw("{\"tick\":"); o.int(t.tick); o.raw(",\"seq\":"); o.int(t.sequence)
            o.raw(",\"host_ns\":"); o.int(t.hostReceiveNanos); o.raw(",\"sent_ns\":"); o.int(t.hostSendNanos)
            o.raw(",\"latency_us\":")
            if t.hostSendNanos > 0, t.hostSendNanos >= t.hostReceiveNanos { o.double(Double(t.hostSendNanos - t.hostReceiveNanos) / 1000) } else { o.raw("null") }
            let c = t.counters
            o.raw(",\"counters\":{\"overruns\":"); o.int(c.overruns); o.raw(",\"late\":"); o.int(c.lateTicks)
            o.raw(",\"reading_errors\":"); o.int(c.readingErrors); o.raw(",\"clock_resets\":"); o.int(c.clockResets)
            o.raw(",\"dropped\":"); o.int(c.droppedFrames); o.raw(",\"record_drops\":"); o.int(c.recordDrops); o.raw("}}")
        }
        if simulated, let p = t.pose {
            let (qz, qw) = (sin(p.heading / 2), cos(p.heading / 2))
            message(RecordingTopics.pose, time) { o in
                o.raw("{\"timestamp\":"); Self.time(&o, time); o.raw(",\"frame_id\":\"world\",\"pose\":{\"position\":")
                Self.vector(&o, p.x, p.y, 0); o.raw(",\"orientation\":"); Self.quaternion(&o, qz, qw); o.raw("}}")
            }
            message(RecordingTopics.transform, time) { o in
                o.raw("{\"timestamp\":"); Self.time(&o, time)
                o.raw(",\"parent_frame_id\":\"world\",\"child_frame_id\":\"robot\",\"translation\":"); Self.vector(&o, p.x, p.y, 0)
                o.raw(",\"rotation\":"); Self.quaternion(&o, qz, qw); o.raw("}")
            }
        }
        if writer.chunkIsFull { writer.closeChunk() }
    }

    mutating func add(_ e: RecordingEvent) {
        message(RecordingTopics.events, e.timestampMicros &* 1000) { o in
            o.raw("{\"event\":"); o.string(e.kind.rawValue); o.raw(",\"tick\":"); o.int(e.tick); o.raw(",\"t_us\":"); o.int(e.timestampMicros)
            if let m = e.modulator, let level = e.level {
                o.raw(",\"modulator\":"); o.string(m.rawValue); o.raw(",\"level\":"); o.double(level)
            }
            e.appendClamp(to: &o)
            o.raw("}")
        }
    }

    // MARK: foxglove pieces

    private static func time(_ o: inout JSONOutput, _ nanos: UInt64) {
        o.raw("{\"sec\":"); o.int(nanos / 1_000_000_000); o.raw(",\"nsec\":"); o.int(nanos % 1_000_000_000); o.raw("}")
    }

    private static func vector(_ o: inout JSONOutput, _ x: Double, _ y: Double, _ z: Double) {
        o.raw("{\"x\":"); o.double(x); o.raw(",\"y\":"); o.double(y); o.raw(",\"z\":"); o.double(z); o.raw("}")
    }

    private static func quaternion(_ o: inout JSONOutput, _ z: Double, _ w: Double) {
        o.raw("{\"x\":0,\"y\":0,\"z\":"); o.double(z); o.raw(",\"w\":"); o.double(w); o.raw("}")
    }

    private static func pose(_ o: inout JSONOutput, _ x: Double, _ y: Double, _ z: Double, angle: Double = 0) {
        o.raw("{\"position\":"); vector(&o, x, y, z); o.raw(",\"orientation\":"); quaternion(&o, sin(angle / 2), cos(angle / 2)); o.raw("}")
    }

    private static func color(_ o: inout JSONOutput, _ r: Double, _ g: Double, _ b: Double, _ a: Double = 1) {
        o.raw("{\"r\":"); o.double(r); o.raw(",\"g\":"); o.double(g); o.raw(",\"b\":"); o.double(b); o.raw(",\"a\":"); o.double(a); o.raw("}")
    }

    /// A box of `size` (x, y, z) centred at (x, y, z), turned by `angle` about z.
    private static func cube(_ o: inout JSONOutput, at c: (Double, Double, Double), size: (Double, Double, Double), angle: Double,
                             rgb: (Double, Double, Double), alpha: Double = 1) {
        o.raw("{\"pose\":"); pose(&o, c.0, c.1, c.2, angle: angle); o.raw(",\"size\":"); vector(&o, size.0, size.1, size.2)
        o.raw(",\"color\":"); color(&o, rgb.0, rgb.1, rgb.2, alpha); o.raw("}")
    }

    private static func entity(_ o: inout JSONOutput, id: String, frame: String, frameLocked: Bool,
                               cubes: [(inout JSONOutput) -> Void], cylinders: [(inout JSONOutput) -> Void],
                               spheres: [(inout JSONOutput) -> Void], arrows: [(inout JSONOutput) -> Void]) {
        o.raw("{\"timestamp\":{\"sec\":0,\"nsec\":0},\"frame_id\":"); o.string(frame); o.raw(",\"id\":"); o.string(id)
        o.raw(",\"lifetime\":{\"sec\":0,\"nsec\":0},\"frame_locked\":"); o.raw(frameLocked ? "true" : "false")
        o.raw(",\"metadata\":[],\"arrows\":"); o.array(arrows) { $1(&$0) }
        o.raw(",\"cubes\":"); o.array(cubes) { $1(&$0) }
        o.raw(",\"spheres\":"); o.array(spheres) { $1(&$0) }
        o.raw(",\"cylinders\":"); o.array(cylinders) { $1(&$0) }
        o.raw(",\"lines\":[],\"triangles\":[],\"texts\":[],\"models\":[]}")
    }

    /// The world as one scene update at time 0: the floor, the arena's walls, the obstacles
    /// and the lights in the `world` frame, and the robot's body in its own frame.
    private mutating func addWorld(_ w: World) {
        let height = 0.1, thickness = 0.02
        let wall = (0.55, 0.55, 0.6), obstacle = (0.45, 0.35, 0.3)
        var cubes: [(inout JSONOutput) -> Void] = [
            { Self.cube(&$0, at: (w.arenaWidth / 2, w.arenaHeight / 2, -0.001), size: (w.arenaWidth, w.arenaHeight, 0.002), angle: 0, rgb: (0.9, 0.9, 0.85)) },
            { Self.cube(&$0, at: (w.arenaWidth / 2, 0, height / 2), size: (w.arenaWidth, thickness, height), angle: 0, rgb: wall) },
            { Self.cube(&$0, at: (w.arenaWidth / 2, w.arenaHeight, height / 2), size: (w.arenaWidth, thickness, height), angle: 0, rgb: wall) },
            { Self.cube(&$0, at: (0, w.arenaHeight / 2, height / 2), size: (thickness, w.arenaHeight, height), angle: 0, rgb: wall) },
            { Self.cube(&$0, at: (w.arenaWidth, w.arenaHeight / 2, height / 2), size: (thickness, w.arenaHeight, height), angle: 0, rgb: wall) },
        ]
        var cylinders: [(inout JSONOutput) -> Void] = []
        for o in w.obstacles {
            switch o {
            case let .segment(from, to):
                let (dx, dy) = (to.x - from.x, to.y - from.y)
                cubes.append { Self.cube(&$0, at: ((from.x + to.x) / 2, (from.y + to.y) / 2, height / 2), size: ((dx * dx + dy * dy).squareRoot(), thickness, height),
                                         angle: atan2(dy, dx), rgb: obstacle) }
            case let .box(center, size, angle):
                cubes.append { Self.cube(&$0, at: (center.x, center.y, height / 2), size: (size.x, size.y, height), angle: angle, rgb: obstacle) }
            case let .circle(center, radius):
                cylinders.append { o in
                    o.raw("{\"pose\":"); Self.pose(&o, center.x, center.y, height / 2); o.raw(",\"size\":"); Self.vector(&o, 2 * radius, 2 * radius, height)
                    o.raw(",\"bottom_scale\":1,\"top_scale\":1,\"color\":"); Self.color(&o, obstacle.0, obstacle.1, obstacle.2); o.raw("}")
                }
            }
        }
        let spheres: [(inout JSONOutput) -> Void] = w.lights.map { light in
            { Self.cube(&$0, at: (light.position.x, light.position.y, 0.15), size: (0.06, 0.06, 0.06), angle: 0, rgb: (1, 0.85, 0.1)) }
        }
        let r = w.robot.bodyRadius
        let body: (inout JSONOutput) -> Void = { o in
            o.raw("{\"pose\":"); Self.pose(&o, 0, 0, 0.03); o.raw(",\"size\":"); Self.vector(&o, 2 * r, 2 * r, 0.06)
            o.raw(",\"bottom_scale\":1,\"top_scale\":1,\"color\":"); Self.color(&o, 0.2, 0.45, 0.85); o.raw("}")
        }
        let heading: (inout JSONOutput) -> Void = { o in
            o.raw("{\"pose\":"); Self.pose(&o, 0, 0, 0.07); o.raw(",\"shaft_length\":"); o.double(r); o.raw(",\"shaft_diameter\":0.01")
            o.raw(",\"head_length\":"); o.double(r / 2); o.raw(",\"head_diameter\":0.03,\"color\":"); Self.color(&o, 0.9, 0.2, 0.2); o.raw("}")
        }
        message(RecordingTopics.world, 0) { o in
            o.raw("{\"deletions\":[],\"entities\":[")
            Self.entity(&o, id: "world", frame: RecordingTopics.worldFrame, frameLocked: false, cubes: cubes, cylinders: cylinders, spheres: spheres, arrows: [])
            o.raw(",")
            Self.entity(&o, id: "robot", frame: RecordingTopics.robotFrame, frameLocked: true, cubes: [], cylinders: [body], spheres: [], arrows: [heading])
            o.raw("]}")
        }
        writer.closeChunk()
    }
}
