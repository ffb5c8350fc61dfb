"""Layer 5: the self-checks students run: the pytest plugin and the notebook checks and cell guard."""
