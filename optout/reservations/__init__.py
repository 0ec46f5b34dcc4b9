"""Machine-readable "do not train" reservations found in repositories: their formats and their check."""
