import CAllocationCounter
import Testing
@testable import Neuraxon

/// The step allocates nothing once a network is built, and its memory does not grow with time.
@Suite struct StepBudgetTests {
    @Test("No heap allocation inside the step", arguments: [NetworkPreset.flowing, NetworkPreset.plastic, NetworkPreset.reference])
    func stepAllocatesNothing(preset: NetworkPreset) throws {
        let net = try preset.build(seed: 5)
        let inputs: [Trit] = [.excitatory, .inhibitory, .excitatory, .neutral, .excitatory]
        for _ in 0..<20 { net.setInputStates(inputs); net.simulateStep() }
        var fired = 0
        nx_alloc_counter_start()
        for step in 0..<2000 {
            net.setInputState(step % net.inputCount, step % 3 == 0 ? .excitatory : .inhibitory)
            net.simulateStep()
            fired += net.outputState(0) == .neutral ? 0 : 1
        }
        let allocations = nx_alloc_counter_stop()
        #expect(allocations == 0)
        #expect(net.stepCount == 2020)
    }

    @Test("The counter does count allocations (so a zero above means something)")
    func counterCounts() {
        nx_alloc_counter_start()
        let array = [Int](repeating: 1, count: 1000)
        let allocations = nx_alloc_counter_stop()
        #expect(array.count == 1000)
        #expect(allocations >= 1)
    }

    @Test("Memory does not grow with run length")
    func memoryIsBounded() throws {
        let net = try NetworkPreset.plastic.build(seed: 2)
        for _ in 0..<2000 { net.simulateStep() }
        let capacity = net.wFast.capacity
        for _ in 0..<20000 { net.simulateStep() }
        #expect(net.wFast.capacity == capacity)
        #expect(net.storedSynapseCount <= capacity)
    }
}
