import Foundation
import Neuraxon
import NeuraxonSimulation

/// How a recording maps onto MCAP topics (Docs/LOG-FORMAT.md, "MCAP"): every message is JSON
/// with a JSON Schema; log and publish times are the firmware's (or the simulation's) time.
///
/// Each tick becomes one message on each of the six `/neuraxon/…` tick topics, all carrying the
/// tick's number, written together and never split across chunks, so the tick record can be
/// put back together exactly from them. Events go on `/neuraxon/events`, the link's counters
/// and round trip (about once a second) on `/neuraxon/link_status`. A simulated run also
/// has the robot's pose (`/sim/pose`, `/tf`) each tick and its world (`/sim/world`) once.
enum RecordingTopics {
    static let sensors = "/neuraxon/sensors"
    static let inputs = "/neuraxon/inputs"
    static let outputs = "/neuraxon/outputs"
    static let setpoints = "/neuraxon/setpoints"
    static let modulators = "/neuraxon/modulators"
    static let link = "/neuraxon/link"
    static let events = "/neuraxon/events"
    /// The link's counters and round trip, about once a second (`link` records).
    static let linkStatus = "/neuraxon/link_status"
    static let pose = "/sim/pose"
    static let transform = "/tf"
    static let world = "/sim/world"

    /// The tick topics, in the order a tick's messages are written.
    static let tickTopics = [sensors, inputs, outputs, setpoints, modulators, link]

    /// The metadata record holding the recording's header.
    static let metadataName = "neuraxon.recording"
    /// The frame the world is drawn in, and the robot's frame.
    static let worldFrame = "world"
    static let robotFrame = "robot"

    /// (topic, schema name, JSON Schema) of every topic.
    static func schemas(simulated: Bool) -> [(topic: String, name: String, schema: String)] {
        var out: [(String, String, String)] = [
            (sensors, "neuraxon.Sensors", object([
                ("tick", integer), ("t_us", integer), ("seq", integer),
                ("raw", #"{"type":"object","description":"raw reading by sensor channel name, in the channel's unit","additionalProperties":{"type":"integer"}}"#),
                ("values", #"{"type":"object","description":"calibrated value by value name; null when the reading was bad","additionalProperties":{"type":["number","null"]}}"#),
            ])),
            (inputs, "neuraxon.InputTrits", object([("tick", integer), ("inputs", trits)])),
            (outputs, "neuraxon.OutputTrits", object([("tick", integer), ("steps", integer), ("outputs", trits)])),
            (setpoints, "neuraxon.Setpoints", object([
                ("tick", integer),
                ("setpoints", #"{"type":"object","description":"setpoint sent by actuator channel name, in the channel's unit","additionalProperties":{"type":"integer"}}"#),
            ])),
            (modulators, "neuraxon.Neuromodulators", object([
                ("tick", integer), ("dopamine", number), ("serotonin", number), ("acetylcholine", number), ("norepinephrine", number),
            ])),
            (link, "neuraxon.Link", object([
                ("tick", integer), ("seq", integer), ("host_ns", integer), ("sent_ns", integer),
                ("latency_us", #"{"type":["number","null"],"description":"sensor-to-command time on the host, µs (sent_ns − host_ns); null when nothing was sent"}"#),
                ("counters", object([("overruns", integer), ("late", integer), ("reading_errors", integer),
                                     ("clock_resets", integer), ("dropped", integer), ("record_drops", integer)])),
            ])),
            (events, "neuraxon.Event", #"{"type":"object","properties":{"event":{"type":"string","enum":["link_lost","link_restored","end","modulate","failsafe","failsafe_cleared","reconnect","stop","clamp"]},"tick":{"type":"integer"},"t_us":{"type":"integer"},"modulator":{"type":"string","enum":["dopamine","serotonin","acetylcholine","norepinephrine"],"description":"modulate only"},"level":{"type":"number","minimum":0,"maximum":1,"description":"modulate only"},"failsafe":{"type":"string","description":"failsafe and failsafe_cleared: the board's failsafe state as its STATUS named it (idle, active, timeout, stopped)"},"failsafe_trips":{"type":"integer","description":"failsafe and failsafe_cleared: the board's failsafe_trips counter"},"uptime_ms":{"type":"integer","description":"failsafe and failsafe_cleared: the board's uptime, ms"},"board_id":{"type":"string","description":"reconnect: the board's unique id, hex"},"device":{"type":"string","description":"reconnect: the device the board answered on"},"after_ms":{"type":"number","description":"reconnect: time from the loss to the new handshake, ms"},"signal":{"type":"integer","description":"stop: the signal that asked for it (2 SIGINT, 15 SIGTERM, 1 SIGHUP), 0 from inside the program (the view's STOP button)"},"input":{"type":"integer","minimum":0,"description":"clamp: the input neuron held or released, 0 first"},"state":{"type":["integer","string"],"description":"clamp: the state the input is held at (-1, 0 or 1), or \"released\""}},"required":["event","tick","t_us"]}"#),
            (linkStatus, "neuraxon.LinkStatus", object([
                ("tick", integer), ("t_us", integer),
                ("counters", object(["frames_received", "frames_sent", "bytes_received", "bytes_sent", "sensor_frames", "commands_sent",
                                     "pings_sent", "pongs_received", "dropped_frames", "stale_frames", "crc_errors", "malformed_frames",
                                     "rejected_frames", "board_errors", "link_losses", "reconnects"].map { ($0, integer) })),
                ("round_trip", object([
                    ("count", integer),
                    ("last_ms", #"{"type":["number","null"],"description":"the latest PING to PONG round trip, ms; null before the first"}"#),
                    ("p50_ms", #"{"type":["number","null"],"description":"median of the latest 128 round trips, ms"}"#),
                    ("p99_ms", #"{"type":["number","null"],"description":"99th percentile of the latest 128 round trips, ms"}"#),
                ])),
            ])),
        ]
        if simulated {
            out.append((pose, "foxglove.PoseInFrame", object([("timestamp", time), ("frame_id", string), ("pose", poseSchema)])))
            out.append((transform, "foxglove.FrameTransform", object([
                ("timestamp", time), ("parent_frame_id", string), ("child_frame_id", string), ("translation", vector3), ("rotation", quaternion),
            ])))
            out.append((world, "foxglove.SceneUpdate", sceneUpdateSchema))
        }
        return out
    }

    // MARK: JSON Schema pieces (foxglove.* follow https://docs.foxglove.dev/docs/visualization/message-schemas)

    static let integer = #"{"type":"integer"}"#
    static let number = #"{"type":"number"}"#
    static let string = #"{"type":"string"}"#
    static let boolean = #"{"type":"boolean"}"#
    static let trits = #"{"type":"array","items":{"type":"integer","enum":[-1,0,1]}}"#
    static let time = object([("sec", integer), ("nsec", integer)])
    static let vector3 = object([("x", number), ("y", number), ("z", number)])
    static let quaternion = object([("x", number), ("y", number), ("z", number), ("w", number)])
    static let poseSchema = object([("position", vector3), ("orientation", quaternion)])
    static let color = object([("r", number), ("g", number), ("b", number), ("a", number)])

    static func object(_ properties: [(String, String)]) -> String {
        "{\"type\":\"object\",\"properties\":{" + properties.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",")
            + "},\"required\":[" + properties.map { "\"\($0.0)\"" }.joined(separator: ",") + "]}"
    }

    static func array(_ items: String) -> String { "{\"type\":\"array\",\"items\":\(items)}" }

    static var sceneUpdateSchema: String {
        let cube = object([("pose", poseSchema), ("size", vector3), ("color", color)])
        let cylinder = object([("pose", poseSchema), ("size", vector3), ("bottom_scale", number), ("top_scale", number), ("color", color)])
        let line = object([("type", #"{"type":"integer","enum":[0,1,2],"description":"0 line strip, 1 line loop, 2 line list"}"#),
                           ("pose", poseSchema), ("thickness", number), ("scale_invariant", boolean), ("points", array(vector3)),
                           ("color", color), ("colors", array(color)), ("indices", array(integer))])
        let arrow = object([("pose", poseSchema), ("shaft_length", number), ("shaft_diameter", number), ("head_length", number),
                            ("head_diameter", number), ("color", color)])
        let entity = object([
            ("timestamp", time), ("frame_id", string), ("id", string), ("lifetime", time), ("frame_locked", boolean),
            ("metadata", array(object([("key", string), ("value", string)]))),
            ("arrows", array(arrow)), ("cubes", array(cube)), ("spheres", array(cube)), ("cylinders", array(cylinder)),
            ("lines", array(line)), ("triangles", #"{"type":"array"}"#), ("texts", #"{"type":"array"}"#), ("models", #"{"type":"array"}"#),
        ])
        let deletion = object([("timestamp", time), ("type", integer), ("id", string)])
        return object([("deletions", array(deletion)), ("entities", array(entity))])
    }
}
