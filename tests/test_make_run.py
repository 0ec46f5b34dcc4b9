"""`make run HOST=… PORT=…`: the server listens there and the links in its mails name it.

The Makefile runs with stand-ins for the venv's `python` and `honcho` (BIN=…): migrate and the demo are
skipped, `runserver` records its address and sends a real mail with the environment make gave it, and honcho
prints the web command of the Procfile as it would start it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SEND_A_MAIL = (
    "from optout.mail import mail_send; "
    "mail_send(template='rejected', to='alice@example.org', context={'covered': 'github.com/a/b', 'reason': 'x'})"
)
FAKE_PYTHON = f"""#!/bin/sh
case "$2" in
  migrate|demo) exit 0 ;;
  runserver) echo "runserver listens on $3"; exec {sys.executable} manage.py shell -c "{SEND_A_MAIL}" ;;
esac
exec {sys.executable} "$@"
"""
FAKE_HONCHO = """#!/bin/sh
eval echo "honcho starts: $(sed -n 's/^web: //p' Procfile)"
"""


@pytest.fixture
def make_run(tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name, script in (("python", FAKE_PYTHON), ("honcho", FAKE_HONCHO)):
        (fake_bin / name).write_text(script)
        (fake_bin / name).chmod(0o755)
    data_dir = tmp_path / "var"

    def run(*arguments, **variables):
        environment = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "PUBLIC_BASE_URL", "DJANGO_DEBUG", "HOST", "PORT"}
        }
        environment.update(GOVERNANCE_DATA_DIR=str(data_dir), **variables)
        completed = subprocess.run(
            ["make", "--no-print-directory", "run", f"BIN={fake_bin}", "STAMP=", *arguments],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert completed.returncode == 0, completed.stderr
        return completed.stdout + completed.stderr  # the console: mail lines go to stderr

    run.mail_dir = data_dir / "mail"
    return run


def test_make_run_on_another_port_serves_there_and_mails_links_to_it(make_run):
    printed = make_run("PORT=8001")
    assert "Embedded mode (SQLite, tasks inline): http://127.0.0.1:8001 " in printed
    assert "runserver listens on 127.0.0.1:8001" in printed
    assert 'Mail to a…@example.org ("Your opt-out request was not accepted"): http://127.0.0.1:8001/opt-out/' in printed
    [eml] = make_run.mail_dir.glob("*.eml")
    assert "http://127.0.0.1:8001/opt-out/" in eml.read_text(encoding="utf-8")


def test_make_run_on_all_interfaces_links_to_this_machine(make_run):
    printed = make_run("HOST=0.0.0.0", "PORT=8002")
    assert "runserver listens on 0.0.0.0:8002" in printed
    assert ": http://127.0.0.1:8002/opt-out/" in printed


def test_a_public_base_url_that_is_set_wins_over_host_and_port(make_run):
    printed = make_run("PORT=8003", PUBLIC_BASE_URL="https://portal.example")
    assert "runserver listens on 127.0.0.1:8003" in printed
    assert ": https://portal.example/opt-out/" in printed


def test_make_run_with_postgres_and_redis_starts_the_web_process_on_the_port(make_run):
    printed = make_run("PORT=8004", DATABASE_URL="postgres://unused/x", CELERY_BROKER_URL="redis://unused/0")
    assert "beat at http://127.0.0.1:8004 " in printed
    assert "honcho starts: python manage.py runserver 127.0.0.1:8004 --noreload" in printed
