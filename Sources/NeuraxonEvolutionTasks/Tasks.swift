// NeuraxonEvolutionTasks: see Sources/NeuraxonEvolution/NOTICE.
