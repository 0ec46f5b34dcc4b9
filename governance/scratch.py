"""Scratch space of worker processes: one folder per process, gone whichever way the process ends.

Scans and proof checks write file contents into temporary folders (`governance-blob-*`,
`governance-proof-*`, `governance-tree-*` …). A normal end, an exception or a timeout removes them
(`TemporaryDirectory`); SIGTERM is turned into an exit so the same clean-up runs. Nothing runs after
kill -9, so each worker process works inside a folder of its own, holding a lock on it for its whole
life: the kernel drops the lock when the process dies, however it dies, and `scratch_sweep` (at the
next worker start and in the periodic sweep) removes every folder whose lock is free.
"""

import fcntl
import logging
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)

PROCESS_PREFIX = "governance-worker-"
LOCK_NAME = ".lock"
# Scratch folders made straight in the temporary directory (inline mode, a command run by hand) have no
# owner to ask: they are removed once older than anything that may still use them.
LOOSE_PREFIXES = ("governance-blob-", "governance-proof-", "governance-tree-", "governance-remote-")
LOOSE_MAX_AGE_SECONDS = 24 * 3600

_held = None  # this process's lock file, open for the process's life


def _base() -> Path:
    return Path(os.environ.get("GOVERNANCE_SCRATCH_BASE") or tempfile.gettempdir())


def scratch_claim() -> Path:
    """Give this process a locked scratch folder and make it the temporary directory of the process and its children."""
    global _held
    base = _base()
    # Locked under a hidden name, then renamed: a sweep never sees one of our folders without its lock.
    staging = Path(tempfile.mkdtemp(prefix=f".{PROCESS_PREFIX}", dir=base))
    lock = open(staging / LOCK_NAME, "wb")  # noqa: SIM115 - held open until the process ends
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    folder = base / f"{PROCESS_PREFIX}{os.getpid()}-{staging.name[-8:]}"
    staging.rename(folder)
    _held = lock
    tempfile.tempdir = str(folder)
    os.environ["TMPDIR"] = str(folder)  # git and scancode's own temporary files land there too
    return folder


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def sigterm_exits() -> None:
    """SIGTERM raises SystemExit in this process, so `finally` blocks and temporary folders are cleaned up."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)


def scratch_sweep() -> int:
    """Remove the scratch folders of processes that are gone (and loose ones past their age); how many."""
    base = _base()
    removed = 0
    for folder in base.glob(f"{PROCESS_PREFIX}*"):
        if _owner_gone(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    cutoff = time.time() - LOOSE_MAX_AGE_SECONDS
    for prefix in LOOSE_PREFIXES:
        for folder in base.glob(f"{prefix}*"):
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed += 1
            except FileNotFoundError:
                continue
    if removed:
        logger.info("removed %d scratch folders left by stopped processes", removed)
    return removed


def _owner_gone(folder: Path) -> bool:
    try:
        descriptor = os.open(folder / LOCK_NAME, os.O_RDONLY)
    except FileNotFoundError:
        return folder.is_dir()  # never locked: not one of ours in use (claims rename only locked folders)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # a live process holds it
    finally:
        os.close(descriptor)
    return True
