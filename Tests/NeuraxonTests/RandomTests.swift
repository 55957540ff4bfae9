import Testing
@testable import Neuraxon

/// CPython's `random` module, draw for draw (values printed by Python 3.11).
@Suite struct RandomTests {
    @Test("random, uniform, choice and getrandbits match CPython", arguments: [
        (UInt64(0), 0.8444218515250481, 0.2579544029403025, 13, 0, UInt32(1_112_038_970)),
        (1, 0.13436424411240122, 0.3474337369372327, 24, 0, 1_095_513_148),
        (42, 0.6394267984578837, -0.47498924477733306, 8, 1, 958_682_846),
        (4_294_967_301, 0.15727238718789782, -0.21751336835380009, 19, 6, 62_377_729),
        (9_223_372_036_854_788_153, 0.30477471939133105, -0.28756783042139566, 21, 2, 1_029_862_469),
    ])
    func matchesCPython(seed: UInt64, random: Double, uniform: Double, choice30: Int, choice7: Int, bits: UInt32) {
        var rng = PythonRandom(seed: seed)
        #expect(rng.random() == random)
        #expect(rng.uniform(-0.5, 0.5) == uniform)
        #expect(rng.randomBelow(30) == choice30)
        #expect(rng.randomBelow(7) == choice7)
        #expect(rng.nextUInt32() == bits)
    }

    @Test("A saved state continues the same sequence")
    func stateRoundTrip() {
        var a = PythonRandom(seed: 7)
        for _ in 0..<1000 { _ = a.random() }
        var b = PythonRandom(state: a.stateWords, position: a.statePosition)!
        for _ in 0..<2000 { #expect(a.nextUInt32() == b.nextUInt32()) }
        #expect(PythonRandom(state: [1, 2, 3], position: 0) == nil)
        #expect(PythonRandom(state: a.stateWords, position: 625) == nil)
    }
}
