"""Layer 4: grading one submission in the parent: checks against the bundle, comparison, gradient checks, diagnosis of known bugs, typed failures, results.json, and the Gradescope entry point."""
