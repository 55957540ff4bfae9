import Neuraxon
#if canImport(Glibc)
import Glibc
#endif

/// Every synapse of the network at one tick, as the view draws them. The arrays are sized
/// when the table is made and only written element by element afterwards, so filling a table
/// allocates nothing; a network that grows past `capacity` synapses is copied up to it
/// (`total` says how many there were).
public struct SynapseTable: Sendable {
    /// The tick after which the synapses were copied.
    public var tick = 0
    /// Synapses copied (at most `capacity`).
    public var count = 0
    /// Synapses the network had.
    public var total = 0
    /// Each synapse's presynaptic and postsynaptic neuron id.
    public var pre: [Int32]
    public var post: [Int32]
    /// Each synapse's fast, slow and meta weight (dimensionless).
    public var wFast: [Float]
    public var wSlow: [Float]
    public var wMeta: [Float]
    /// Each synapse's flags: 1 silent, 2 modulatory.
    public var flags: [UInt8]

    public var capacity: Int { pre.count }

    public init(capacity: Int) {
        pre = [Int32](repeating: 0, count: capacity)
        post = [Int32](repeating: 0, count: capacity)
        wFast = [Float](repeating: 0, count: capacity)
        wSlow = [Float](repeating: 0, count: capacity)
        wMeta = [Float](repeating: 0, count: capacity)
        flags = [UInt8](repeating: 0, count: capacity)
    }

    /// Copies the network's synapses (the tick thread); allocates nothing.
    mutating func fill(from network: NeuraxonNetwork, tick: Int) {
        self.tick = tick
        total = network.synapseCount
        let capacity = self.capacity
        var n = 0
        pre.withUnsafeMutableBufferPointer { pre in
            post.withUnsafeMutableBufferPointer { post in
                wFast.withUnsafeMutableBufferPointer { wFast in
                    wSlow.withUnsafeMutableBufferPointer { wSlow in
                        wMeta.withUnsafeMutableBufferPointer { wMeta in
                            flags.withUnsafeMutableBufferPointer { flags in
                                network.forEachSynapse { a, b, f, s, m, silent, modulatory in
                                    guard n < capacity else { return }
                                    pre[n] = Int32(a); post[n] = Int32(b)
                                    wFast[n] = Float(f); wSlow[n] = Float(s); wMeta[n] = Float(m)
                                    flags[n] = (silent ? 1 : 0) | (modulatory ? 2 : 0)
                                    n += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        count = n
    }

    /// The table as the page's `synapses` message (Docs/VIEW.md, "Messages").
    func json() -> String {
        var j = JSONText()
        j.raw("{\"type\":\"synapses\",\"tick\":"); j.int(tick)
        j.raw(",\"total\":"); j.int(total)
        j.raw(",\"synapses\":[")
        for k in 0..<count {
            if k > 0 { j.raw(",") }
            j.raw("["); j.int(pre[k]); j.raw(","); j.int(post[k]); j.raw(",")
            j.number(Double(wFast[k]), digits: 3); j.raw(","); j.number(Double(wSlow[k]), digits: 3); j.raw(",")
            j.number(Double(wMeta[k]), digits: 3)
            j.raw(","); j.int(flags[k] & 1); j.raw(","); j.int((flags[k] >> 1) & 1); j.raw("]")
        }
        j.raw("]}")
        return j.text
    }
}

/// A triple buffer of synapse tables between the tick thread (which copies the network's
/// synapses into its own table at a low rate and publishes it) and the view's sender (which
/// takes the newest published table). Neither waits for the other beyond an O(1) lock; an
/// unread table is replaced by a newer one.
public final class SynapseBoard: @unchecked Sendable {
    private let tables: UnsafeMutablePointer<SynapseTable>
    private var mutex = pthread_mutex_t()
    private var producer = 0, latest = 1, consumer = 2   // indices into tables; latest guarded by mutex
    private var fresh = false                            // guarded by mutex

    /// - Parameter capacity: synapses a table holds (the rest of a larger network is not drawn).
    public init(capacity: Int) {
        tables = .allocate(capacity: 3)
        for i in 0..<3 { (tables + i).initialize(to: SynapseTable(capacity: capacity)) }
        pthread_mutex_init(&mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(&mutex)
        tables.deinitialize(count: 3)
        tables.deallocate()
    }

    /// Producer: copies the network's synapses and publishes them. Allocates nothing.
    func publish(from network: NeuraxonNetwork, tick: Int) {
        tables[producer].fill(from: network, tick: tick)
        pthread_mutex_lock(&mutex)
        swap(&producer, &latest)
        fresh = true
        pthread_mutex_unlock(&mutex)
    }

    /// Consumer: the newest table published since the last call, as the page's message, or nil.
    public func takeMessage() -> String? {
        pthread_mutex_lock(&mutex)
        guard fresh else {
            pthread_mutex_unlock(&mutex)
            return nil
        }
        swap(&consumer, &latest)
        fresh = false
        pthread_mutex_unlock(&mutex)
        return tables[consumer].json()
    }
}
