import Foundation
import Testing

/// `neuraxon sim` prints and writes the metrics that mean something in its world.
@Suite struct SimMetricsTests {
    static func json(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    @Test("sim in a world with a light prints progress toward it; the summary is version 3 with every metric")
    func withLight() throws {
        let folder = CLI.folder()
        let run = try CLI.run(["sim", "--duration", "12", "--record", folder + "/seek.jsonl"])
        #expect(run.status == 0, "\(run.stderr)")
        for line in ["time in contact:", "net displacement:", "coverage:", "time stuck:", "time going nowhere:", "stalled motors:",
                     "wheel slip:", "progress toward light:", "time near the light:", "time to reach the light:"] {
            #expect(run.stdout.contains(line), "\(line) missing from \(run.stdout)")
        }
        let text = try String(contentsOfFile: folder + "/seek.jsonl.metrics.json", encoding: .utf8)
        let summary = try #require(Self.json(text))
        #expect(summary["version"] as? Int == 3)
        for key in ["time_in_contact_s", "net_displacement_m", "start_distance_to_light_m", "end_distance_to_light_m",
                    "closest_distance_to_light_m", "progress_toward_light_m", "time_stuck_s", "time_going_nowhere_s", "stalled_left_s",
                    "stalled_right_s", "slip_left_m", "slip_right_m", "coverage", "coverage_cells_visited",
                    "coverage_free_cells", "coverage_cell_m", "collisions", "distance_m", "time_near_light_s"] {
            #expect(summary[key] is NSNumber, "\(key) in \(text)")
        }
        let start = try #require(summary["start_distance_to_light_m"] as? Double)
        let end = try #require(summary["end_distance_to_light_m"] as? Double)
        #expect(abs((summary["progress_toward_light_m"] as? Double ?? .nan) - (start - end)) < 1e-9)
    }

    @Test("sim in a world without a light prints no light metrics and writes them as null")
    func withoutLight() throws {
        let run = try CLI.run(["sim", "--world", "empty", "--duration", "3"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.contains("light"), "\(run.stdout)")
        #expect(run.stdout.contains("coverage:") && run.stdout.contains("time stuck:"), "\(run.stdout)")
        // A run shorter than the going-nowhere window cannot show it: not printed, still written.
        #expect(!run.stdout.contains("going nowhere"), "\(run.stdout)")
        let json = try CLI.run(["sim", "--world", "empty", "--duration", "3", "--json"])
        let summary = try #require(Self.json(json.stdout), "\(json.stdout)")
        for key in ["start_distance_to_light_m", "end_distance_to_light_m", "closest_distance_to_light_m", "progress_toward_light_m"] {
            #expect(summary[key] is NSNull, "\(key): \(String(describing: summary[key]))")
        }
        #expect((summary["coverage"] as? Double ?? 0) > 0)
        #expect(summary["time_going_nowhere_s"] is NSNumber)
    }
}
