"""Layer 7: the build pipeline: case inputs, the staged bundle and its cache, mutants, validation, notebook runs, the zips."""
