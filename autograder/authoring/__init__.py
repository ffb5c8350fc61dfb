"""Layer 6: turning solutions/ into what students get: solution markers, stub modules, notebooks from their sources."""
