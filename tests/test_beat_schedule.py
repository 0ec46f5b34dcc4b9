"""Beat's sweeps run on intervals: a tick lost to a broker outage runs one interval later, not at the next slot.

Celery's beat advances an entry before sending it and only logs a send that fails (celery/beat.py,
Scheduler.tick and apply_entry); the faults bench runs a real beat through Redis stops.
"""

from datetime import timedelta

import pytest

from governance.celery import app as celery_app

SWEEPS = [
    "optout-verification-sweep",
    "audits-scans-sweep",
    "inventory-import-sweep",
    "releases-webhook-deliveries-sweep",
]


@pytest.mark.parametrize("name", SWEEPS)
def test_every_sweep_runs_on_a_short_interval_and_expires_past_it(name):
    entry = celery_app.conf.beat_schedule[name]
    assert isinstance(entry["schedule"], timedelta) and entry["schedule"] <= timedelta(seconds=30)
    assert entry["options"]["expires"] == entry["schedule"].total_seconds()
