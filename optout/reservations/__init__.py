"""Machine-readable "do not train" reservations found in a repository's root files (pure parsers, no Django)."""

from optout.reservations.formats import (
    MAX_FILE_BYTES,
    RESERVATION_FILES,
    TRAINING_AGENTS,
    Malformed,
    Reservation,
    reservations_parse,
)

__all__ = ["MAX_FILE_BYTES", "RESERVATION_FILES", "TRAINING_AGENTS", "Malformed", "Reservation", "reservations_parse"]
