import Foundation

/// A point or direction in the plane, in metres. The world's x axis points east, y north.
public struct Vector2: Sendable, Equatable, Hashable {
    public var x: Double
    public var y: Double

    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }

    public static let zero = Vector2(0, 0)

    /// The unit vector at `angle` radians counter-clockwise from the x axis.
    public init(angle: Double) {
        self.init(cos(angle), sin(angle))
    }

    public static func + (a: Vector2, b: Vector2) -> Vector2 { Vector2(a.x + b.x, a.y + b.y) }
    public static func - (a: Vector2, b: Vector2) -> Vector2 { Vector2(a.x - b.x, a.y - b.y) }
    public static func * (a: Vector2, k: Double) -> Vector2 { Vector2(a.x * k, a.y * k) }
    public static func += (a: inout Vector2, b: Vector2) { a = a + b }

    /// The dot product a·b.
    public func dot(_ b: Vector2) -> Double { x * b.x + y * b.y }
    /// The z component of the cross product a×b.
    public func cross(_ b: Vector2) -> Double { x * b.y - y * b.x }
    /// The Euclidean length |a|.
    public var length: Double { (x * x + y * y).squareRoot() }
    /// This vector turned by `angle` radians counter-clockwise: (x cos − y sin, x sin + y cos).
    public func rotated(by angle: Double) -> Vector2 {
        rotated(byUnit: Vector2(angle: angle))
    }

    /// This vector turned by the angle of the unit vector `u` = (cos, sin).
    @inline(__always)
    func rotated(byUnit u: Vector2) -> Vector2 {
        Vector2(x * u.x - y * u.y, x * u.y + y * u.x)
    }
}

/// Where the robot is: its centre in metres and its heading in radians, counter-clockwise from
/// the world's x axis.
public struct Pose: Sendable, Equatable, Hashable {
    public var position: Vector2
    public var heading: Double

    public init(x: Double, y: Double, heading: Double) {
        position = Vector2(x, y)
        self.heading = heading
    }

    public var x: Double { position.x }
    public var y: Double { position.y }
}

/// A straight wall piece from `a` to `a + edge`, prepared for distance and ray queries.
struct WallSegment: Sendable {
    let a: Vector2
    let edge: Vector2
    let inverseLengthSquared: Double

    init(from a: Vector2, to b: Vector2) {
        self.a = a
        edge = b - a
        let l2 = edge.dot(edge)
        inverseLengthSquared = l2 > 0 ? 1 / l2 : 0
    }

    /// The point of the segment closest to `p`: a + clamp(((p − a)·e)/|e|², 0, 1) e.
    @inline(__always)
    func closestPoint(to p: Vector2) -> Vector2 {
        let t = min(max((p - a).dot(edge) * inverseLengthSquared, 0), 1)
        return a + edge * t
    }

    /// The distance along the unit ray o + t·u (0 ≤ t < `limit`) to the segment, or `nil` if
    /// it misses or is no nearer than `limit`. Solves o + t u = a + s e for t and 0 ≤ s ≤ 1:
    /// with D = u × e and w = a − o, t = (w × e)/D and s = (w × u)/D.
    @inline(__always)
    func rayDistance(origin o: Vector2, direction u: Vector2, limit: Double) -> Double? {
        let denominator = u.cross(edge)
        let w = a - o
        let tD = w.cross(edge), sD = w.cross(u)
        if denominator > 1e-12 {
            guard tD >= 0, tD < limit * denominator, sD >= 0, sD <= denominator else { return nil }
        } else if denominator < -1e-12 {
            guard tD <= 0, tD > limit * denominator, sD <= 0, sD >= denominator else { return nil }
        } else {
            return nil
        }
        return tD / denominator
    }
}

/// A round obstacle, prepared for distance and ray queries.
struct WallCircle: Sendable {
    let center: Vector2
    let radius: Double

    /// The distance along the unit ray o + t·u (t ≥ 0) to the circle's edge, or `nil` if it
    /// misses: the smallest t ≥ 0 with |o + t u − c| = r.
    @inline(__always)
    func rayDistance(origin o: Vector2, direction u: Vector2) -> Double? {
        let f = o - center
        let b = f.dot(u)
        let c = f.dot(f) - radius * radius
        let discriminant = b * b - c
        if discriminant < 0 { return nil }
        let root = discriminant.squareRoot()
        let near = -b - root
        if near >= 0 { return near }
        let far = -b + root
        return far >= 0 ? far : nil
    }
}
