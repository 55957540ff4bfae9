/// A growable column of plain values in one heap block that the step reads through a raw
/// pointer: no bounds checks, no copy-on-write, no reference counting inside the hot loops.
///
/// The block always has `Column.padding` initialised elements beyond `count`, so vector code
/// may load and store whole lanes past the end. Capacity grows by doubling, and only when an
/// append finds the block full; removing keeps the block. All unsafe pointer handling of the
/// network's storage lives in this type.
final class Column<Element: BitwiseCopyable> {
    /// Elements always allocated and initialised past `count`.
    static var padding: Int { 8 }

    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count: Int
    /// Elements that fit before the block must grow (excluding the padding).
    private(set) var capacity: Int
    /// The value new and spare elements hold.
    private let filler: Element

    /// A column of `count` copies of `value`, with room for at least `capacity` elements.
    init(repeating value: Element, count: Int, capacity: Int = 0) {
        filler = value
        self.capacity = max(1, count, capacity)
        self.count = count
        base = .allocate(capacity: self.capacity + Self.padding)
        base.initialize(repeating: value, count: self.capacity + Self.padding)
    }

    /// A column holding `values` (spare elements hold `filler`).
    convenience init(_ values: [Element], filler: Element, capacity: Int = 0) {
        self.init(repeating: filler, count: 0, capacity: max(values.count, capacity))
        values.withUnsafeBufferPointer { if let src = $0.baseAddress { base.update(from: src, count: values.count) } }
        count = values.count
    }

    deinit { base.deallocate() }

    @inline(__always) subscript(index: Int) -> Element {
        get { base[index] }
        set { base[index] = newValue }
    }

    /// Makes room for at least `minimumCapacity` elements.
    /// - Complexity: O(count) when it reallocates.
    func reserve(_ minimumCapacity: Int) {
        guard minimumCapacity > capacity else { return }
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: minimumCapacity + Self.padding)
        grown.initialize(repeating: filler, count: minimumCapacity + Self.padding)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = minimumCapacity
    }

    /// - Complexity: amortised O(1).
    @inline(__always) func append(_ value: Element) {
        if count == capacity { reserve(capacity * 2) }
        base[count] = value
        count += 1
    }

    /// Sets every element to `value`.
    func fill(_ value: Element) { base.update(repeating: value, count: count) }

    /// Keeps the elements whose flag in `keep` is true, in order.
    /// - Complexity: O(count).
    func compact(keep: UnsafePointer<Bool>) {
        var j = 0
        for i in 0..<count where keep[i] {
            base[j] = base[i]
            j += 1
        }
        count = j
    }

    func removeAll() { count = 0 }

    var array: [Element] { Array(UnsafeBufferPointer(start: base, count: count)) }
}
