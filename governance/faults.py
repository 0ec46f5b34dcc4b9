"""A seam for the fault bench (bench/faults.py): named points where a worker can be held, to be killed there.

Does nothing unless GOVERNANCE_FAULT_FILE is set, which only the bench (and the `faults` tests that
run it) does, on the workers it starts. The file names the points to hold at, comma-separated, and
is read at each point, so the bench can move the fault between runs without restarting the worker.
At a named point the process appends "<point> <pid>" to GOVERNANCE_FAULT_MARKER and sleeps, so a
kill -9 lands at that exact step of the work.
"""

import os
import time
from pathlib import Path


def fault_point(name: str) -> None:
    """Hold this process at `name` when the fault bench asks for it; otherwise return at once."""
    spec = os.environ.get("GOVERNANCE_FAULT_FILE")
    if not spec:
        return
    try:
        wanted = Path(spec).read_text().split(",")
    except FileNotFoundError:
        return
    if name not in (point.strip() for point in wanted):
        return
    marker = os.environ.get("GOVERNANCE_FAULT_MARKER")
    if marker:
        with open(marker, "a") as hits:
            hits.write(f"{name} {os.getpid()}\n")
    time.sleep(float(os.environ.get("GOVERNANCE_FAULT_PAUSE_SECONDS", "3600")))
