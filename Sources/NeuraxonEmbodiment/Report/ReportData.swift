import Foundation
import Neuraxon
import NeuraxonSimulation

/// What a report shows of a recording, read in one pass and down-sampled so that a report of a
/// one-hour run stays a few megabytes.
///
/// **Down-sampling rule.** Ticks are taken in file order and put in consecutive groups of
/// `groupSize` ticks, where `groupSize` is the smallest power of two for which the recording
/// has at most `maxPoints` groups (so a recording of up to `maxPoints` ticks keeps every tick).
/// A time plot draws one point per group: the mean of the group's values, with a band from
/// their minimum to their maximum, at the group's first tick's time. The trit rasters draw one
/// column per group, coloured by the group's mean state. The path keeps each group's first
/// pose. Contacts (a bumper reading going from 0 to another value) are all kept, up to
/// `maxContacts`.
///
/// Memory grows with the number of groups and channels, never with the run's length.
public struct ReportData: Sendable {
    /// A time series down-sampled by the rule above.
    public struct Series: Sendable {
        public var name: String
        /// The unit of the values, or "" when they have none.
        public var unit: String
        /// Per group: the mean, minimum and maximum of the finite values (NaN when none was).
        public var mean: [Double] = []
        public var minimum: [Double] = []
        public var maximum: [Double] = []
        fileprivate var count: [Int] = []

        init(name: String, unit: String) {
            self.name = name
            self.unit = unit
        }

        fileprivate mutating func add(_ x: Double, group: Int) {
            if group == mean.count {
                mean.append(.nan); minimum.append(.nan); maximum.append(.nan); count.append(0)
            }
            guard x.isFinite else { return }
            let n = count[group]
            mean[group] = n == 0 ? x : mean[group] + (x - mean[group]) / Double(n + 1)
            minimum[group] = n == 0 ? x : min(minimum[group], x)
            maximum[group] = n == 0 ? x : max(maximum[group], x)
            count[group] = n + 1
        }

        /// Merges groups 2k and 2k+1 into group k.
        fileprivate mutating func halve() {
            let groups = mean.count
            var m: [Double] = [], lo: [Double] = [], hi: [Double] = [], c: [Int] = []
            var k = 0
            while k < groups {
                let j = min(k + 1, groups - 1)
                let (a, b) = (count[k], j == k ? 0 : count[j])
                let total = a + b
                c.append(total)
                if total == 0 {
                    m.append(.nan); lo.append(.nan); hi.append(.nan)
                } else {
                    let ma = a > 0 ? mean[k] : 0, mb = b > 0 ? mean[j] : 0
                    m.append((ma * Double(a) + mb * Double(b)) / Double(total))
                    lo.append(a == 0 ? minimum[j] : b == 0 ? minimum[k] : min(minimum[k], minimum[j]))
                    hi.append(a == 0 ? maximum[j] : b == 0 ? maximum[k] : max(maximum[k], maximum[j]))
                }
                k += 2
            }
            (mean, minimum, maximum, count) = (m, lo, hi, c)
        }
    }

    /// Trit states over time, down-sampled: per group and row, the mean state (−1…1).
    public struct Raster: Sendable {
        public var rows: Int
        /// Row labels, top to bottom.
        public var labels: [String]
        /// `sums[group * rows + row]`: the sum of the row's states over the group's ticks.
        var sums: [Int32] = []
        var counts: [Int32] = []

        init(labels: [String]) {
            self.rows = labels.count
            self.labels = labels
        }

        public var groups: Int { counts.count }

        /// The mean state of `row` in `group`, −1…1; 0 for a group without ticks.
        public func mean(group: Int, row: Int) -> Double {
            let n = counts[group]
            return n == 0 ? 0 : Double(sums[group * rows + row]) / Double(n)
        }

        fileprivate mutating func add(_ states: [Trit], group: Int) {
            if group == counts.count {
                counts.append(0)
                sums.append(contentsOf: repeatElement(0, count: rows))
            }
            counts[group] += 1
            let base = group * rows
            for (r, s) in states.prefix(rows).enumerated() { sums[base + r] += Int32(s.rawValue) }
        }

        fileprivate mutating func halve() {
            var s: [Int32] = [], c: [Int32] = []
            var k = 0
            while k < groups {
                let j = k + 1 < groups ? k + 1 : -1
                c.append(counts[k] + (j >= 0 ? counts[j] : 0))
                for r in 0..<rows { s.append(sums[k * rows + r] + (j >= 0 ? sums[j * rows + r] : 0)) }
                k += 2
            }
            (sums, counts) = (s, c)
        }
    }

    /// A point of the robot's path or a contact: where, and when (s from the first tick).
    public struct PathPoint: Sendable, Equatable {
        public var x: Double
        public var y: Double
        public var seconds: Double
    }

    public var header: RecordingHeader
    /// The world the simulated run took place in; nil for a run on a robot (or a world text
    /// that no longer reads, see `worldProblem`).
    public var world: World?
    /// Why the header's world could not be read, if it could not.
    public var worldProblem: String?
    /// The most groups a plot keeps (see the rule above).
    public let maxPoints: Int
    public let maxContacts: Int
    /// Ticks per group: a power of two.
    public private(set) var groupSize = 1
    /// The ticks read.
    public private(set) var ticks = 0
    public private(set) var steps = 0
    /// Ticks that carried a pose.
    public private(set) var poses = 0
    /// Events other than `end`, with their tick.
    public private(set) var events: [RecordingEvent] = []
    /// Where reading stopped.
    public private(set) var stop: ReadStop = .complete
    /// The `end` record's tick count (read at the file's end when reading stopped early).
    public private(set) var recordedTicks: Int?
    /// Firmware time of each group's first tick, s from the recording's first tick.
    public private(set) var groupSeconds: [Double] = []
    /// Firmware time from the first to the last tick, s.
    public private(set) var seconds = 0.0
    /// The counters of the last tick.
    public private(set) var counters = TickCounters()
    /// Per sensor channel: raw readings, in the channel's unit.
    public private(set) var raw: [Series]
    /// Per mapped sensor entry: calibrated values.
    public private(set) var values: [Series]
    public private(set) var setpoints: [Series]
    public private(set) var modulators: [Series]
    /// Sensor frame received → command sent, µs; only ticks that carry both host times.
    public private(set) var latency: Series
    public private(set) var inputs: Raster
    public private(set) var outputs: Raster
    /// Every neuron's state, when the recording holds them.
    public private(set) var neurons: Raster?
    /// Each group's first pose.
    public private(set) var path: [PathPoint] = []
    /// Where a contact started (kept up to `maxContacts`), and how many there were.
    public private(set) var contacts: [PathPoint] = []
    public private(set) var contactCount = 0
    /// The path's length over every recorded pose, m.
    public private(set) var distance = 0.0
    /// Latency quantiles over every tick, µs.
    public private(set) var latencyP50Micros = 0.0
    public private(set) var latencyP99Micros = 0.0

    /// Reads the recording at `path` to its end or to where it is damaged (`stop`).
    /// - Throws: `RecordingError` when the file cannot be opened or has no valid header.
    public init(path: String, maxPoints: Int = 1024, maxContacts: Int = 2000) throws(RecordingError) {
        let reader = try RecordingReader(path: path)
        try self.init(reader: reader, maxPoints: maxPoints, maxContacts: maxContacts)
    }

    public init(reader: RecordingReader, maxPoints: Int = 1024, maxContacts: Int = 2000) throws(RecordingError) {
        let h = reader.header
        header = h
        self.maxPoints = max(2, maxPoints)
        self.maxContacts = max(0, maxContacts)
        if let text = h.world {
            do { world = try World.parse(yaml: text, source: "the recording's world") } catch {
                worldProblem = "\(error)"
            }
        }
        raw = h.device.sensors.map { Series(name: $0.name, unit: $0.unit.symbol) }
        values = h.valueNames.map { Series(name: $0, unit: "") }
        setpoints = h.device.actuators.map { Series(name: $0.name, unit: $0.unit.symbol) }
        modulators = Neuromodulator.allCases.map { Series(name: $0.rawValue, unit: "") }
        latency = Series(name: "latency", unit: "µs")
        inputs = Raster(labels: (0..<h.inputCount).map { "in \($0)" })
        outputs = Raster(labels: (0..<h.outputCount).map { "out \($0)" })
        let bumpers = h.device.sensors.indices.filter { h.device.sensors[$0].name.lowercased().contains("bump") }
        var bumped = false
        var firstMicros: UInt64?
        var lastPose: RecordedPose?
        var histogram = LatencyHistogram()
        while let entry = reader.next() {
            switch entry {
            case let .event(e):
                if e.kind == .end { recordedTicks = e.tick } else if e.kind != .link { events.append(e) }
            case let .tick(t):
                if ticks > 0, ticks % groupSize == 0, ticks / groupSize == self.maxPoints { halve() }
                let group = ticks / groupSize
                let first = firstMicros ?? t.timestampMicros
                firstMicros = first
                let time = Double(Int64(bitPattern: t.timestampMicros &- first)) / 1e6
                if group == groupSeconds.count { groupSeconds.append(time) }
                seconds = time
                ticks += 1
                steps += t.steps
                counters = t.counters
                for k in raw.indices { raw[k].add(k < t.raw.count ? Double(t.raw[k]) : .nan, group: group) }
                for k in values.indices { values[k].add(k < t.values.count ? t.values[k] : .nan, group: group) }
                for k in setpoints.indices { setpoints[k].add(k < t.setpoints.count ? Double(t.setpoints[k]) : .nan, group: group) }
                for k in modulators.indices { modulators[k].add(k < t.modulators.count ? t.modulators[k] : .nan, group: group) }
                if t.hostReceiveNanos > 0, t.hostSendNanos >= t.hostReceiveNanos {
                    let nanos = t.hostSendNanos - t.hostReceiveNanos
                    histogram.record(nanos: nanos)
                    latency.add(Double(nanos) / 1000, group: group)
                } else {
                    latency.add(.nan, group: group)
                }
                inputs.add(t.inputs, group: group)
                outputs.add(t.outputs, group: group)
                if let states = t.neurons {
                    if neurons == nil, group == 0 { neurons = Raster(labels: (0..<states.count).map { "neuron \($0)" }) }
                    neurons?.add(states, group: group)
                }
                if let p = t.pose {
                    if path.count == group { path.append(PathPoint(x: p.x, y: p.y, seconds: time)) }
                    if let q = lastPose { distance += ((p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y)).squareRoot() }
                    lastPose = p
                    poses += 1
                }
                let contact = bumpers.contains { $0 < t.raw.count && t.raw[$0] != 0 }
                if contact, !bumped {
                    contactCount += 1
                    if contacts.count < self.maxContacts, let p = t.pose { contacts.append(PathPoint(x: p.x, y: p.y, seconds: time)) }
                }
                bumped = contact
            }
        }
        if let n = neurons, n.groups != groupSeconds.count { neurons = nil }  // states missing on some ticks
        latencyP50Micros = histogram.quantileMicros(0.5)
        latencyP99Micros = histogram.quantileMicros(0.99)
        stop = reader.stop ?? .complete
        if recordedTicks == nil, case .damaged = stop { recordedTicks = reader.endRecordAtFileEnd()?.tick }
    }

    /// Doubles the group size: merges each pair of groups.
    private mutating func halve() {
        groupSize *= 2
        for k in raw.indices { raw[k].halve() }
        for k in values.indices { values[k].halve() }
        for k in setpoints.indices { setpoints[k].halve() }
        for k in modulators.indices { modulators[k].halve() }
        latency.halve()
        inputs.halve()
        outputs.halve()
        neurons?.halve()
        groupSeconds = stride(from: 0, to: groupSeconds.count, by: 2).map { groupSeconds[$0] }
        // A pose-less group stands between posed ones only in a hand-made file; keep the rule simple:
        // every other kept pose, which is each new group's first pose when every tick has one.
        path = stride(from: 0, to: path.count, by: 2).map { path[$0] }
    }

    /// How many groups a recording of `ticks` ticks is drawn with: ⌈ticks / groupSize⌉ for the
    /// smallest power-of-two `groupSize` that gives at most `maxPoints` (the rule above).
    public static func groups(ticks: Int, maxPoints: Int) -> (groups: Int, groupSize: Int) {
        var size = 1
        while (ticks + size - 1) / size > maxPoints { size *= 2 }
        return ((ticks + size - 1) / size, size)
    }
}
