"""Opt-out requests, their proofs, and the exclusion registry they feed (a package: each module one subdomain)."""

from optout.models.origins import (
    ImportedRecord,
    ReservationCheck,
    ReservedFile,
    ReservedFileQuerySet,
)
from optout.models.registry import (
    Exclusion,
    ExclusionQuerySet,
    ExclusionSource,
    ExclusionSourceQuerySet,
    dataset_q,
    in_force_q,
)
from optout.models.requests import (
    REQUEST_TRANSITIONS,
    OptOutRequest,
    RequestEvent,
    RequestStateError,
    Transition,
    Verification,
)

__all__ = [
    "REQUEST_TRANSITIONS",
    "Exclusion",
    "ExclusionQuerySet",
    "ExclusionSource",
    "ExclusionSourceQuerySet",
    "ImportedRecord",
    "OptOutRequest",
    "RequestEvent",
    "RequestStateError",
    "ReservationCheck",
    "ReservedFile",
    "ReservedFileQuerySet",
    "Transition",
    "Verification",
    "dataset_q",
    "in_force_q",
]
