"""The embedded setup `make run` uses: SQLite, tasks inline, no broker, found Python."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(tmp_path, *args, **variables):
    environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    environment.update(DJANGO_DEBUG="1", GOVERNANCE_DATA_DIR=str(tmp_path / "var"), **variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )


def test_the_demo_and_an_import_work_on_sqlite_with_tasks_inline(tmp_path):
    assert manage(tmp_path, "migrate", "-v0").returncode == 0
    demo = manage(tmp_path, "demo", PUBLIC_BASE_URL="http://127.0.0.1:8001")
    assert demo.returncode == 0, demo.stderr
    # Tasks run inline build no connection to a broker that is not there (kombu's "Reverting to default 'localhost'").
    assert "No hostname was supplied" not in demo.stderr and "kombu" not in demo.stderr
    # Quiet: no line per inline task; the one line logged is the failure the demo makes on purpose, and says so.
    [logged] = demo.stderr.splitlines()
    assert "scan" in logged and "half-copied failed" in logged and "half-copied fails on purpose" in demo.stdout
    assert (tmp_path / "var" / "governance.sqlite3").exists()
    # Its links name the portal's address; its mails to made-up people are written, not announced.
    assert "Admin: http://127.0.0.1:8001/admin/" in demo.stdout and "127.0.0.1:8000" not in demo.stdout
    assert "Mail to " not in demo.stdout + demo.stderr and list((tmp_path / "var" / "mail").glob("*.eml"))

    inventory = tmp_path / "inventory.jsonl"
    inventory.write_text(
        "\n".join(
            json.dumps(row)
            for row in [
                {"repo_name": "acme/one", "commit": "a" * 40},
                {"repo_name": "Acme/One"},
                {"repo_name": "acme/two"},
                {"repo_name": "javascript:alert(1)"},
            ]
        )
    )
    first = manage(tmp_path, "import_inventory", "embedded", str(inventory))
    assert first.returncode == 0, first.stderr
    assert "2 repositories added, 0 updated, 1 rows refused" in first.stdout
    assert first.stderr.startswith("row 4: ")

    inventory.write_text(json.dumps({"repo_name": "acme/one", "commit": "b" * 40}) + "\n")
    second = manage(tmp_path, "import_inventory", "embedded", str(inventory))
    assert "0 repositories added, 1 updated" in second.stdout


def test_find_python_explains_what_it_needs_when_there_is_none(tmp_path):
    old_python = tmp_path / "bin" / "python3"
    old_python.parent.mkdir()
    old_python.write_text("#!/bin/sh\nexit 1\n")  # answers like a Python older than 3.12
    old_python.chmod(0o755)
    environment = {"PATH": f"{old_python.parent}:/usr/bin:/bin", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path)}
    if any(
        shutil.which(name, path="/usr/bin:/bin")
        and subprocess.run(
            [name, "-c", "import sys; sys.exit(sys.version_info < (3, 12))"], env=environment, check=False
        ).returncode
        == 0
        for name in ("python3", "python3.12", "python3.13", "python3.14")
    ):
        pytest.skip("this machine has a suitable system Python, so there is nothing to explain")
    completed = subprocess.run(
        ["sh", str(ROOT / "scripts" / "find-python")], env=environment, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 1 and completed.stdout == ""
    assert "needs Python 3.12 or newer" in completed.stderr and "PYTHON=" in completed.stderr


def test_find_python_takes_the_interpreter_it_is_given(tmp_path):
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON": sys.executable}
    completed = subprocess.run(
        ["sh", str(ROOT / "scripts" / "find-python")], env=environment, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0 and completed.stdout.strip() == shutil.which(sys.executable)
