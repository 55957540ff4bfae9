// NeuraxonEvolution tests. Licence: see Sources/NeuraxonEvolution/NOTICE.

import Foundation
import Neuraxon
import Testing
@testable import NeuraxonEvolution

@Suite struct RunTests {
    func population(_ settings: EvolutionSettings) throws -> [Genome] {
        try EvolutionRun.randomPopulation(template: flowingTemplate(), inputs: 1, hidden: 2, outputs: 1,
                                          connectionProbability: 0.3, settings: settings)
    }

    @Test("Fitness improves on the toy task (output 0 follows input 0) within seconds")
    func fitnessImproves() throws {
        var settings = smallSettings(seed: 1, generations: 20)
        settings.populationSize = 24
        let folder = temporaryFolder("improves")
        let run = try EvolutionRun(settings: settings, task: FollowTask(), initialPopulation: try population(settings),
                                   checkpointPath: folder + "/checkpoint.json", logPath: folder + "/log.jsonl")
        let started = Date()
        try run.run()
        let first = run.history[0], last = run.history[run.history.count - 1]
        #expect(run.isFinished && run.history.count == 20)
        // Generation 0 is random (mean near the ⅓ of a silent network); evolution finds
        // controllers that follow the input most of the time.
        #expect(last.bestSoFar >= max(first.best, 0.75), "first \(first.best), best so far \(last.bestSoFar)")
        #expect(last.mean > first.mean + 0.2, "mean \(first.mean) → \(last.mean)")
        #expect(run.history.allSatisfy { $0.worst <= $0.mean + 1e-12 && $0.mean <= $0.best + 1e-12 && $0.evaluations == 24 * 3 })
        #expect(Date().timeIntervalSince(started) < 120)  // a sanity bound, far above the few seconds it takes
        // The best genome is an ordinary network file that scores what the run said.
        try run.saveBest(to: folder + "/best.json")
        let net = try NeuraxonNetwork.load(contentsOf: folder + "/best.json")
        #expect(net.metadata["evolution.task"] == "follow")
        #expect(try Genome(network: net) == run.state.best)
        let log = String(decoding: fileBytes(folder + "/log.jsonl"), as: UTF8.self).split(separator: "\n")
        #expect(log.count == 20)
        #expect(log[0].contains("\"best_so_far\"") && log[0].contains("\"evaluations_per_second\""))
    }

    @Test("A run gives the same result on 1 and on 4 threads")
    func sameOnAnyThreadCount() throws {
        let settings = smallSettings(seed: 3, generations: 4)
        var finals: [EvolutionState] = []
        for workers in [1, 4] {
            let run = try EvolutionRun(settings: settings, task: FollowTask(), initialPopulation: try population(settings),
                                       evaluator: Evaluator(workers: workers))
            try run.run()
            finals.append(run.state)
        }
        #expect(finals[0] == finals[1])
    }

    @Test("Resuming from a checkpoint gives exactly the uninterrupted run, bit for bit")
    func resumeEqualsUninterrupted() throws {
        let settings = smallSettings(seed: 21, generations: 6)
        let a = temporaryFolder("uninterrupted"), b = temporaryFolder("resumed")
        let whole = try EvolutionRun(settings: settings, task: FollowTask(), initialPopulation: try population(settings),
                                     evaluator: Evaluator(workers: 2), checkpointPath: a + "/cp.json", logPath: a + "/log.jsonl")
        try whole.run()
        try whole.saveBest(to: a + "/best.json")

        let first = try EvolutionRun(settings: settings, task: FollowTask(), initialPopulation: try population(settings),
                                     evaluator: Evaluator(workers: 3), checkpointPath: b + "/cp.json", logPath: b + "/log.jsonl")
        var steps = 0
        try first.run(progress: { _ in steps += 1 }, shouldContinue: { steps < 3 })
        #expect(first.state.generation == 3 && !first.isFinished)
        // A crash after the log line of generation 3 but before its checkpoint, mid-line even.
        try Files.appendLine(b + "/log.jsonl", EvolutionRun.logLine(first.history[2]).replacingOccurrences(of: "\"generation\":2", with: "\"generation\":3"))
        try Files.appendLine(b + "/log.jsonl", "{\"best\":0.5,\"gener")
        let resumed = try EvolutionRun.resume(checkpointPath: b + "/cp.json", task: FollowTask(),
                                              evaluator: Evaluator(workers: 1), logPath: b + "/log.jsonl")
        #expect(resumed.state == first.state)
        try resumed.run()
        try resumed.saveBest(to: b + "/best.json")

        #expect(resumed.state == whole.state)
        #expect(fileBytes(a + "/cp.json") == fileBytes(b + "/cp.json"))
        #expect(fileBytes(a + "/best.json") == fileBytes(b + "/best.json"))
        #expect(resumed.state.bestFitness?.bitPattern == whole.state.bestFitness?.bitPattern)
        let decoder = JSONDecoder()
        func log(_ path: String) throws -> [GenerationStatistics] {
            try String(decoding: fileBytes(path), as: UTF8.self).split(separator: "\n")
                .map { try decoder.decode(GenerationStatistics.self, from: Data($0.utf8)).withoutTiming }
        }
        let wholeLog = try log(a + "/log.jsonl"), resumedLog = try log(b + "/log.jsonl")
        #expect(wholeLog.map(\.generation) == Array(0..<6))
        #expect(resumedLog == wholeLog)
    }

    @Test("A finished run can be extended by resuming with more generations")
    func extendFinishedRun() throws {
        let folder = temporaryFolder("extend")
        let settings = smallSettings(seed: 4, generations: 2)
        let run = try EvolutionRun(settings: settings, task: FollowTask(), initialPopulation: try population(settings),
                                   checkpointPath: folder + "/cp.json")
        try run.run()
        let more = try EvolutionRun.resume(checkpointPath: folder + "/cp.json", task: FollowTask(), generations: 3)
        #expect(!more.isFinished)
        try more.run()
        #expect(more.state.generation == 3 && more.history.map(\.generation) == [2])
        #expect(throws: EvolutionError.self) {
            try EvolutionRun.resume(checkpointPath: folder + "/cp.json", task: FollowTask(), generations: 1)
        }
    }

    @Test("Resuming refuses another task, a damaged checkpoint and a missing one, saying why")
    func resumeErrors() throws {
        let folder = temporaryFolder("errors")
        let settings = smallSettings(seed: 5, generations: 2)
        let run = try EvolutionRun(settings: settings, task: FollowTask(), initialPopulation: try population(settings),
                                   checkpointPath: folder + "/cp.json")
        try run.step()
        var other = FollowTask()
        other.name = "seek"
        #expect(throws: EvolutionError.checkpointMismatch(field: "task", checkpoint: "follow", requested: "seek")) {
            try EvolutionRun.resume(checkpointPath: folder + "/cp.json", task: other)
        }
        // A gene that breaks the wiring rules, written by hand into the checkpoint.
        var text = String(decoding: fileBytes(folder + "/cp.json"), as: UTF8.self)
        let firstGene = try #require(text.range(of: "\"post\":"))
        let digitStart = firstGene.upperBound
        let digitEnd = try #require(text[digitStart...].firstIndex(where: { !$0.isNumber }))
        text.replaceSubrange(digitStart..<digitEnd, with: "999")
        try Files.replaceAtomically(folder + "/bad.json", with: Array(text.utf8))
        do {
            _ = try EvolutionRun.resume(checkpointPath: folder + "/bad.json", task: FollowTask())
            Issue.record("a damaged checkpoint was accepted")
        } catch {
            #expect(error.description.contains("bad.json"), "\(error)")
            #expect(error.description.contains("gene 0"), "\(error)")
            #expect(error.description.contains("neuron ids run"), "\(error)")
        }
        try Files.replaceAtomically(folder + "/truncated.json", with: Array(fileBytes(folder + "/cp.json").prefix(100)))
        #expect(throws: EvolutionError.self) { try EvolutionRun.resume(checkpointPath: folder + "/truncated.json", task: FollowTask()) }
        do {
            _ = try EvolutionRun.resume(checkpointPath: folder + "/missing.json", task: FollowTask())
            Issue.record("a missing checkpoint was accepted")
        } catch {
            #expect(error.description.contains("missing.json") && error.description.contains("no such checkpoint"))
        }
    }

    @Test("Bad run settings and populations are refused before anything runs")
    func runValidation() throws {
        var settings = smallSettings()
        let genomes = try population(settings)
        settings.populationSize = 1
        #expect(throws: EvolutionError.self) { try EvolutionRun(settings: settings, task: FollowTask(), initialPopulation: genomes) }
        settings = smallSettings()
        #expect(throws: EvolutionError.self) {
            try EvolutionRun(settings: settings, task: FollowTask(), initialPopulation: Array(genomes.prefix(3)))
        }
        var mixed = genomes
        mixed[5] = try randomGenome(seed: 1, inputs: 2)
        do {
            _ = try EvolutionRun(settings: settings, task: FollowTask(), initialPopulation: mixed)
            Issue.record("mixed shapes accepted")
        } catch {
            #expect(error.description.contains("individual 5"))
        }
        let noTrials = FitnessFunction(name: "none", trials: 0) { _, _, _ in 0 }
        #expect(throws: EvolutionError.self) { try EvolutionRun(settings: settings, task: noTrials, initialPopulation: genomes) }
        let run = try EvolutionRun(settings: settings, task: FollowTask(), initialPopulation: genomes)
        #expect(throws: EvolutionError.self) { try run.saveBest(to: temporaryFolder("nobest") + "/best.json") }
    }

    @Test("A checkpoint that cannot be written stops the step with the path, and the run stands where it stood")
    func unwritableCheckpoint() throws {
        let settings = smallSettings(seed: 6, generations: 3)
        let missing = temporaryFolder("unwritable") + "/no/such/folder/cp.json"
        let run = try EvolutionRun(settings: settings, task: FollowTask(), initialPopulation: try population(settings),
                                   checkpointPath: missing)
        let before = run.state
        do {
            try run.step()
            Issue.record("the step succeeded")
        } catch {
            guard case .file = error else { Issue.record("\(error)"); return }
            #expect(error.description.contains("no/such/folder"), "\(error)")
        }
        #expect(run.state == before && run.history.isEmpty)
    }

    @Test("A population descending from an ancestor starts with the ancestor and is reproducible")
    func descendants() throws {
        let ancestor = try Genome(network: try NetworkPreset.flowing.build(seed: 2))
        let settings = smallSettings(seed: 8)
        let a = try EvolutionRun.population(descendingFrom: ancestor, settings: settings)
        #expect(a.count == settings.populationSize && a[0] == ancestor)
        #expect(a == (try EvolutionRun.population(descendingFrom: ancestor, settings: settings)))
        #expect(a.dropFirst().contains { $0 != ancestor })
    }
}
