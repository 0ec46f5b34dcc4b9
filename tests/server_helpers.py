"""The portal served by gunicorn in its own processes, for tests about what only a real server shows."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    url: str
    access_log: Path
    output: Path  # gunicorn's error log and the portal's own log lines


@contextmanager
def gunicorn(tmp_path, **variables):
    """The portal under gunicorn with two workers, against the test database and the test run's Redis."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{connection.settings_dict['NAME']}").geturl()
    environment = {
        **os.environ,
        "DATABASE_URL": database,
        "DJANGO_DEBUG": "1",
        "GOVERNANCE_DATA_DIR": str(tmp_path / "server-data"),
        **variables,
    }
    access_log = tmp_path / "access.log"
    command = [sys.executable, "-m", "gunicorn", "governance.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "2", "--access-logfile", str(access_log)]
    with open(tmp_path / "gunicorn.out", "wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5)
                break
            except urllib.error.HTTPError:
                break  # answering (503 names a service that is down; the API does not need it)
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{(tmp_path / 'gunicorn.out').read_text()[-3000:]}")
                time.sleep(0.2)
        yield Server(url=base, access_log=access_log, output=tmp_path / "gunicorn.out")
    finally:
        process.terminate()
        process.wait(timeout=30)
