"""governance/slots.py: a cap shared by every worker process through real Redis, whose slots expire."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from governance import slots
from tests.conftest import ROOT

HOLDER = """
import json, sys, django
django.setup()
from governance import slots
name, limit, lease, count = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
taken = [slots.slot_acquire(name, limit=limit, lease_seconds=lease) is not None for _ in range(count)]
print(json.dumps(taken), flush=True)
sys.stdin.read()  # hold the slots until the test closes stdin or kills this process
"""


@pytest.fixture
def name():
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def holder(tmp_path):
    """Start another process that takes slots and holds them; yields (process, [taken…])."""
    started = []

    def start(name: str, *, limit: int, lease: float, count: int):
        environment = {**os.environ, "DJANGO_DEBUG": "1", "GOVERNANCE_DATA_DIR": str(tmp_path / "holder")}
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, name, str(limit), str(lease), str(count)],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        started.append(process)
        return process, json.loads(process.stdout.readline())

    yield start
    for process in started:
        process.kill()
        process.wait(timeout=10)


def test_the_cap_holds_across_two_processes(name, holder):
    _, taken = holder(name, limit=3, lease=60, count=2)
    assert taken == [True, True]
    mine = slots.slot_acquire(name, limit=3, lease_seconds=60)
    assert mine is not None
    assert slots.slot_acquire(name, limit=3, lease_seconds=60) is None
    _, taken = holder(name, limit=3, lease=60, count=1)
    assert taken == [False]
    assert slots.slots_held(name) == 3
    slots.slot_release(mine)
    _, taken = holder(name, limit=3, lease=60, count=2)
    assert taken == [True, False]


def test_a_killed_holders_slot_comes_back_when_its_lease_ends(name, holder):
    process, taken = holder(name, limit=1, lease=1.5, count=1)
    assert taken == [True]
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert slots.slot_acquire(name, limit=1, lease_seconds=60) is None  # still leased to the dead process
    deadline = time.monotonic() + 10
    while (slot := slots.slot_acquire(name, limit=1, lease_seconds=60)) is None:
        assert time.monotonic() < deadline, "the dead holder's slot never expired"
        time.sleep(0.1)
    assert slots.slots_held(name) == 1
    slots.slot_release(slot)
    assert slots.slots_held(name) == 0


def test_without_a_redis_broker_every_caller_gets_an_uncounted_slot(name, settings):
    settings.CELERY_BROKER_URL = ""
    taken = [slots.slot_acquire(name, limit=1, lease_seconds=60) for _ in range(3)]
    assert all(slot is not None and slot.key == "" for slot in taken)
    slots.slot_release(taken[0])  # nothing to give back, and no error
    assert slots.slots_held(name) == 0


def test_when_redis_does_not_answer_the_work_goes_on_without_its_cap(name, settings, caplog):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    assert slots.slot_acquire(name, limit=1, lease_seconds=60).key == ""
    assert "runs without its cap" in caplog.text
