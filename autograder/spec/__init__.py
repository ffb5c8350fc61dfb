"""Layer 3: what to grade: the typed assignment spec, course policy, the staged bundle of reference data, and the project folder."""
