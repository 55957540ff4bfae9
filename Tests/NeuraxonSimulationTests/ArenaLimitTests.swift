import Testing
@testable import NeuraxonSimulation

/// The arena's documented size limit.
@Suite struct ArenaLimitTests {
    static func world(width: String) -> String {
        "arena: {width: \(width), height: 2}\nrobot:\n  start: {x: 1, y: 1, heading: 0}\n"
    }

    @Test("An arena side beyond 1000 m is refused with the field and the limit; 1000 m is accepted")
    func limit() throws {
        do {
            _ = try World.parse(yaml: Self.world(width: "1e308"), source: "huge.yaml")
            Issue.record("a 1e308 m arena was accepted")
        } catch {
            #expect(error.field == "arena.width")
            #expect(error.problem.contains("1000 m a side"), "\(error)")
        }
        #expect(try World.parse(yaml: Self.world(width: "1000")).arenaWidth == 1000)
    }
}
