"""Settings come from the environment through helpers that fail loudly on bad values."""

import os
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from governance.env import database_from_url, env_bool, env_int, env_str

ROOT = Path(__file__).resolve().parent.parent


def test_postgres_url_becomes_a_postgresql_database():
    database = database_from_url("postgres://gov:s%40cret@db.internal:6543/governance?sslmode=require")
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"], database["HOST"], database["PORT"]) == (
        "governance",
        "gov",
        "s@cret",
        "db.internal",
        "6543",
    )
    assert database["OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("url", "path"),
    [("sqlite:///var/db.sqlite3", "var/db.sqlite3"), ("sqlite:////srv/data/db.sqlite3", "/srv/data/db.sqlite3")],
)
def test_sqlite_urls_give_relative_and_absolute_paths(url, path):
    assert database_from_url(url) == {"ENGINE": "django.db.backends.sqlite3", "NAME": path, "OPTIONS": {"timeout": 20}}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/x", "scheme 'mysql'"),
        ("postgres://localhost:5432/", "names no database"),
        ("postgres://localhost:port/db", "port that is not a number"),
        ("sqlite://", "names no file"),
    ],
)
def test_unusable_database_urls_fail_loudly(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        database_from_url(url)


def test_booleans_and_numbers_refuse_what_they_cannot_read(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG='maybe' is not a boolean"):
        env_bool("SOME_FLAG")
    monkeypatch.setenv("SOME_FLAG", "Yes")
    assert env_bool("SOME_FLAG") is True
    monkeypatch.setenv("SOME_NUMBER", "12x")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("SOME_NUMBER", 1)
    monkeypatch.setenv("SOME_NUMBER", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum of 1"):
        env_int("SOME_NUMBER", 1, minimum=1)


def test_a_secret_can_come_from_a_file(monkeypatch, tmp_path):
    (tmp_path / "secret").write_text("from-the-file\n")
    monkeypatch.setenv("MY_SECRET_FILE", str(tmp_path / "secret"))
    assert env_str("MY_SECRET") == "from-the-file"
    monkeypatch.setenv("MY_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="MY_SECRET_FILE=.* cannot be read"):
        env_str("MY_SECRET")


def _start_settings(tmp_path, **variables):
    environment = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DJANGO_DEBUG"}}
    environment.update({"DJANGO_SETTINGS_MODULE": "governance.settings", "GOVERNANCE_DATA_DIR": str(tmp_path)})
    environment.update(variables)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    completed = _start_settings(tmp_path, DJANGO_DEBUG="0")
    assert completed.returncode != 0
    assert "SECRET_KEY is not set" in completed.stderr


def test_debug_mode_starts_without_a_secret_key_and_production_with_one(tmp_path):
    assert _start_settings(tmp_path, DJANGO_DEBUG="1").stdout.strip() == "started"
    assert _start_settings(tmp_path, DJANGO_DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50)).stdout.strip() == "started"


@pytest.mark.parametrize(
    "key", ["change-me-in-production", "changeme", "django-insecure-" + "k" * 50, "short-but-random-3f9a", "x" * 60]
)
def test_production_refuses_a_placeholder_or_weak_secret_key(tmp_path, key):
    completed = _start_settings(tmp_path, DJANGO_DEBUG="0", SECRET_KEY=key)
    assert completed.returncode != 0
    assert "SECRET_KEY is a placeholder or too short" in completed.stderr and "SECRET_KEY_FILE" in completed.stderr


def test_compose_gives_no_secret_key_so_the_web_container_stops_with_its_name():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["x-app-env"]["SECRET_KEY"] == "${SECRET_KEY:-}"
    # The one-shot migration is the first of the portal's services to start: it stops there, saying why.
    script = shlex.split(compose["services"]["migrate"]["command"].replace("$$", "$"))[2]
    guard = script.split(" && exec python manage.py migrate")[0]
    environment = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "SECRET_KEY_FILE"}}
    refused = subprocess.run(["sh", "-c", guard], env={**environment, "SECRET_KEY": ""}, capture_output=True, text=True)
    assert refused.returncode == 1 and "SECRET_KEY or SECRET_KEY_FILE must be set" in refused.stderr
    given = subprocess.run(["sh", "-c", guard], env={**environment, "SECRET_KEY_FILE": "/run/secrets/key"})
    assert given.returncode == 0


def test_an_empty_secret_key_as_compose_passes_it_stops_the_start(tmp_path):
    completed = _start_settings(tmp_path, DJANGO_DEBUG="0", SECRET_KEY="", SECRET_KEY_FILE="")
    assert completed.returncode != 0 and "SECRET_KEY is not set" in completed.stderr


def test_a_bad_database_url_stops_the_start_with_its_name(tmp_path):
    completed = _start_settings(tmp_path, DJANGO_DEBUG="1", DATABASE_URL="oracle://x/y")
    assert completed.returncode != 0 and "DATABASE_URL has scheme 'oracle'" in completed.stderr
