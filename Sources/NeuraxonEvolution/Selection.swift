// NeuraxonEvolution — Aigarth-style evolution of Neuraxon networks.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

/// How parents are chosen.
public enum SelectionMethod: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Draw `size` individuals uniformly (with replacement); the fittest of them is the parent.
    case tournament(size: Int)
    /// The parent is uniform among the best ⌈fraction·N⌉ individuals (at least one).
    case truncation(fraction: Double)

    public var description: String {
        switch self {
        case .tournament(let size): "tournament of \(size)"
        case .truncation(let fraction): "truncation to the best \(fraction)"
        }
    }
}

/// How one generation becomes the next.
public struct SelectionSettings: Sendable, Equatable, Codable {
    /// The best `eliteCount` individuals pass unchanged into the next generation.
    public var eliteCount = 2
    /// How every other child's parent is chosen.
    public var method = SelectionMethod.tournament(size: 3)
    /// Chance that a child is the crossover of two parents (the fitter one first) before it
    /// mutates.
    public var crossoverChance = 0.2

    public init() {}

    enum CodingKeys: String, CodingKey {
        case eliteCount = "elite_count", method, crossoverChance = "crossover_chance"
    }

    /// Throws the first setting out of range for a population of `populationSize`.
    public func validate(populationSize: Int) throws(EvolutionError) {
        guard eliteCount >= 0, eliteCount < populationSize else {
            throw .invalidSettings(field: "elite_count", value: "\(eliteCount)",
                                   fix: "use 0…\(populationSize - 1) (fewer than the population of \(populationSize))")
        }
        switch method {
        case .tournament(let size) where !(1...populationSize).contains(size):
            throw .invalidSettings(field: "tournament_size", value: "\(size)", fix: "use 1…\(populationSize)")
        case .truncation(let fraction) where !(fraction > 0 && fraction <= 1):
            throw .invalidSettings(field: "truncation_fraction", value: "\(fraction)", fix: "use a fraction in (0, 1]")
        default: break
        }
        guard crossoverChance >= 0, crossoverChance <= 1 else {
            throw .invalidSettings(field: "crossover_chance", value: "\(crossoverChance)", fix: "use a probability in [0, 1]")
        }
    }
}

/// Ranking and breeding. Every draw comes from one generator on one thread, in a fixed order, so
/// the next generation is a pure function of the population, its fitness and the generator state.
public enum Selection {
    /// Indices of `fitness`, best first; equal fitness keeps the lower index first.
    public static func ranking(_ fitness: [Double]) -> [Int] {
        fitness.indices.sorted { fitness[$0] != fitness[$1] ? fitness[$0] > fitness[$1] : $0 < $1 }
    }

    /// One parent, as a position in `ranked` (0 is the best).
    public static func pickRank(count: Int, _ method: SelectionMethod, using rng: inout EvolutionRandom) -> Int {
        switch method {
        case .tournament(let size):
            var best = count
            for _ in 0..<max(1, size) { best = min(best, rng.below(count)) }
            return best
        case .truncation(let fraction):
            let pool = max(1, min(count, Int((fraction * Double(count)).rounded(.up))))
            return rng.below(pool)
        }
    }

    /// The next generation, of the same size: the elites, in rank order, then children, each
    /// one parent (or the crossover of two) mutated.
    /// - Throws: `EvolutionError.invalidSettings` when there is not one fitness per individual.
    public static func nextGeneration(_ population: [Genome], fitness: [Double], selection: SelectionSettings,
                                      mutation: MutationSettings, using rng: inout EvolutionRandom) throws(EvolutionError) -> [Genome] {
        guard fitness.count == population.count else {
            throw .invalidSettings(field: "fitness", value: "\(fitness.count) values",
                                   fix: "give one fitness per individual (\(population.count))")
        }
        let ranked = ranking(fitness)
        var next = ranked.prefix(selection.eliteCount).map { population[$0] }
        while next.count < population.count {
            let a = pickRank(count: ranked.count, selection.method, using: &rng)
            var child = population[ranked[a]]
            if rng.chance(selection.crossoverChance) {
                let b = pickRank(count: ranked.count, selection.method, using: &rng)
                child = population[ranked[min(a, b)]].crossed(with: population[ranked[max(a, b)]], using: &rng)
            }
            next.append(child.mutated(mutation, using: &rng))
        }
        return next
    }
}
