"""Layer 0: what every layer needs and nothing else: error types, typed config fields, the raw-array file format, deterministic zips."""
