"""Opt-out requests from submission to exclusion: every state change is a domain function here, one module per flow.

The request's legal state changes are listed once, next to the model (optout/models.py REQUEST_TRANSITIONS);
these functions take them. Callers import from `optout.services`: the names below are its public surface.
"""

from optout.services.decisions import optout_request_approve, optout_request_reject
from optout.services.exclusions import exclusion_administrative
from optout.services.expiry import optout_requests_expire
from optout.services.imports import ImportSummary, optouts_import
from optout.services.proofs import PROOF_FILE
from optout.services.reinclusion import (
    optout_request_reinclusion_start,
    optout_request_reinclusion_verify,
    optout_request_reinclusion_verify_now,
    optout_requests_applied,
    reinclusion_checks_due,
)
from optout.services.reservations import reservation_check, reservation_checks_due, reservations_sweep
from optout.services.submission import (
    Confirmation,
    Submission,
    optout_request_by_status_token,
    optout_request_confirm,
    optout_request_submit,
    optout_request_withdraw,
)
from optout.services.verification import (
    optout_request_verify,
    optout_request_verify_now,
    verification_check,
    verifications_due,
)

__all__ = [
    "PROOF_FILE",
    "Confirmation",
    "ImportSummary",
    "Submission",
    "exclusion_administrative",
    "optout_request_approve",
    "optout_request_by_status_token",
    "optout_request_confirm",
    "optout_request_reinclusion_start",
    "optout_request_reinclusion_verify",
    "optout_request_reinclusion_verify_now",
    "optout_request_reject",
    "optout_request_submit",
    "optout_request_verify",
    "optout_request_verify_now",
    "optout_request_withdraw",
    "optout_requests_applied",
    "optout_requests_expire",
    "optouts_import",
    "reinclusion_checks_due",
    "reservation_check",
    "reservation_checks_due",
    "reservations_sweep",
    "verification_check",
    "verifications_due",
]
