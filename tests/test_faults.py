"""bench/faults.py --quick: kill -9 of the worker at each scan step and in proof checks, Redis SIGTERM/SIGKILL.

Real worker, beat, PostgreSQL and a redis-server of the bench's own; short leases and sweeps. Nothing is
lost, nothing stays open, scratch folders of killed workers are removed (the bench reports the times).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def report(django_db_blocker):
    with django_db_blocker.unblock():
        database = f"{connection.settings_dict['NAME']}_faults"
    finished = subprocess.run(
        [sys.executable, "bench/faults.py", "--quick", "--database", database],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return {result["scenario"]: result for result in json.loads(finished.stdout)["scenarios"]}


@pytest.mark.faults
@pytest.mark.parametrize(
    "scenario",
    [f"kill-scan-{step}" for step in ("fetch", "list", "select", "plan", "chunks", "verdict")]
    + ["kill-proof-check", "redis-sigterm", "redis-sigkill"],
)
def test_no_work_is_lost_or_left_open_after_the_fault(report, scenario):
    result = report[scenario]
    assert (result["lost"], result["stuck"], result["scratch_left"]) == (0, 0, 0), result
    assert result["seconds_to_terminal"] is not None


@pytest.mark.faults
def test_a_worker_killed_with_a_blob_on_disk_leaves_nothing_behind_after_the_next_start(report):
    killed = report["kill-scan-chunks"]
    assert killed["scratch_after_kill"] >= 1 and killed["scratch_left"] == 0


@pytest.mark.faults
def test_requests_made_while_redis_is_down_wait_for_a_worker_instead_of_failing(report):
    for scenario in ("redis-sigterm", "redis-sigkill"):
        assert report[scenario]["outage_work_marked_waiting"] is True
