"""Scratch folders with file contents are gone whichever way a worker process ends (governance/scratch.py)."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from governance import scratch

ROOT = Path(__file__).resolve().parent.parent

# A worker process in miniature: its own locked scratch folder, a blob written into a temporary folder, then a wait.
WORKER = """
import os, sys, tempfile, time
from governance.scratch import scratch_claim, sigterm_exits
scratch_claim()
sigterm_exits()
with tempfile.TemporaryDirectory(prefix="governance-blob-") as blob_folder:
    with open(os.path.join(blob_folder, "LICENSE"), "w") as blob:
        blob.write("file contents")
    print(blob_folder, flush=True)
    if sys.argv[1] == "raise":
        raise RuntimeError("scancode failed")
    time.sleep(120)
"""


@pytest.fixture
def base(tmp_path, monkeypatch):
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("GOVERNANCE_SCRATCH_BASE", str(folder))
    return folder


def _start(how: str) -> tuple[subprocess.Popen, Path]:
    process = subprocess.Popen([sys.executable, "-c", WORKER, how], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    return process, Path(process.stdout.readline().strip())


def test_a_process_stopped_with_sigterm_removes_its_blob_folder(base):
    process, blob_folder = _start("wait")
    assert (blob_folder / "LICENSE").exists() and blob_folder.parent.parent == base

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=30) == 128 + signal.SIGTERM
    assert not blob_folder.exists()


def test_a_failing_step_removes_its_blob_folder(base):
    process, blob_folder = _start("raise")
    assert process.wait(timeout=30) == 1
    assert not blob_folder.exists()


def test_what_a_killed_process_left_is_removed_by_the_next_sweep_but_a_live_ones_is_kept(base):
    killed, killed_blob = _start("wait")
    live, live_blob = _start("wait")
    try:
        killed.kill()
        killed.wait(timeout=30)
        assert (killed_blob / "LICENSE").exists()  # nothing runs after kill -9

        assert scratch.scratch_sweep() == 1

        assert not killed_blob.parent.exists()
        assert (live_blob / "LICENSE").exists()
    finally:
        live.kill()
        live.wait(timeout=30)


def test_loose_scratch_folders_are_removed_only_once_old(base):
    import os
    import time

    old, fresh = base / "governance-blob-old", base / "governance-proof-fresh"
    old.mkdir()
    fresh.mkdir()
    long_ago = time.time() - scratch.LOOSE_MAX_AGE_SECONDS - 60
    os.utime(old, (long_ago, long_ago))

    assert scratch.scratch_sweep() == 1
    assert not old.exists() and fresh.exists()
