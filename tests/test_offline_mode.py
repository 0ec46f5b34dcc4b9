"""Offline mode (REPOSITORY_FETCH_OFFLINE): only repositories on this disk are read, every other URL is refused
before any lookup, with a message that says how to turn it off; `make run` turns it on."""

import json
import os
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command

from audits.models import Scan
from governance.fetch_policy import FetchScreen, fetch_plan, offline_screening_lifted
from governance.git import FetchRefused
from governance.models import DatasetRepository
from governance.services import dataset_get_or_create
from governance.tokens import pipeline_token_issue
from optout.models import OptOutRequest
from tests.conftest import ROOT

OFFLINE_MESSAGE = "the portal is in offline mode (REPOSITORY_FETCH_OFFLINE)"
TURN_OFF = "Set REPOSITORY_FETCH_OFFLINE=0 to read others"


@pytest.fixture
def offline(settings, names_resolve_on_loopback_only):
    settings.REPOSITORY_FETCH_OFFLINE = True
    settings.REPOSITORY_FETCH_ALLOW = ["local", "private", "http"]  # offline mode narrows even the widest policy
    return names_resolve_on_loopback_only


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/widgets.git",
        "ssh://git@git.example.test/acme/widgets.git",
        "git://localhost/acme/widgets.git",
        "http://127.0.0.1:8080/acme/widgets.git",
    ],
)
def test_offline_the_policy_refuses_a_remote_url_with_how_to_turn_it_off_and_looks_nothing_up(offline, url):
    with pytest.raises(FetchRefused, match=r"offline mode") as refused:
        fetch_plan(url)
    assert OFFLINE_MESSAGE in str(refused.value) and TURN_OFF in str(refused.value)
    assert FetchScreen().refusal(url) == str(refused.value)
    offline.assert_not_called()


def test_offline_the_message_names_the_url_without_its_credentials(offline):
    with pytest.raises(FetchRefused) as refused:
        fetch_plan("https://alice:s3cret@github.com/acme/widgets.git")
    assert str(refused.value).startswith("https://github.com/acme/widgets.git is not on this server's disk")
    assert "s3cret" not in str(refused.value)


def test_offline_a_repository_on_disk_is_still_read(offline, make_repository):
    url = make_repository("acme/tool", {"LICENSE": "MIT"}).as_uri()
    assert fetch_plan(url).scheme == "file"
    assert FetchScreen().refusal(url) is None


def test_without_offline_mode_a_github_url_is_planned(settings, resolves):
    settings.REPOSITORY_FETCH_OFFLINE = False
    resolves({"github.com": ["140.82.112.3"]})
    assert fetch_plan("https://github.com/acme/widgets.git").url == "https://github.com/acme/widgets.git"


def test_the_demo_may_record_remote_names_offline_but_never_fetch_them(offline):
    with offline_screening_lifted():
        assert FetchScreen().refusal("https://github.com/acme/widgets.git") is None
        with pytest.raises(FetchRefused, match="offline mode"):
            fetch_plan("https://github.com/acme/widgets.git")
    assert FetchScreen().refusal("https://github.com/acme/widgets.git") is not None


@pytest.mark.django_db
def test_offline_the_opt_out_form_names_the_remote_line_and_files_nothing(client, offline):
    fields = {"email": "owner@example.org", "scope": "repositories", "repositories": "acme/widgets", "reason": ""}
    page = client.post("/opt-out/", fields).content.decode()
    assert "https://github.com/acme/widgets.git is not on this server&#x27;s disk" in page and "offline mode" in page
    response = client.post("/opt-out/", {**fields, "action": "submit"})
    assert response.status_code == 400 and not OptOutRequest.objects.exists()


@pytest.mark.django_db
def test_offline_the_inventory_api_refuses_a_remote_entry_alone(client, offline, make_repository):
    local = make_repository("acme/tool", {"LICENSE": "MIT"}).as_uri()
    dataset_get_or_create(slug="the-stack")
    token = pipeline_token_issue(name="nightly", dataset_slugs=["the-stack"])[1]
    response = client.post(
        "/api/v1/datasets/the-stack/inventory/",
        json.dumps({"repositories": ["acme/widgets", local]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
    refused, accepted = response.json()["results"]
    assert refused["error"]["code"] == "fetch_refused" and TURN_OFF in refused["error"]["detail"]
    assert accepted["repository"].startswith("file:///")
    assert [
        row.startswith("file:///") for row in DatasetRepository.objects.values_list("repository__canonical", flat=True)
    ] == [True]


@pytest.mark.django_db
def test_offline_a_scan_of_a_remote_repository_says_why_and_starts_nothing(offline):
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("scan_repository", "acme/widgets", "--json", stdout=out, stderr=StringIO())
    error = json.loads(out.getvalue())["error"]
    assert "cannot be scanned" in error and OFFLINE_MESSAGE in error and TURN_OFF in error
    assert not Scan.objects.exists()


def make_run_environment(folder, *arguments: str) -> dict[str, str]:
    """The environment `make run` gives its first command: a python that writes it down and stops the recipe."""
    fake_bin = folder / "bin"
    fake_bin.mkdir(parents=True)
    dump = folder / "environment.json"
    dumper = f"import json, os; json.dump(dict(os.environ), open({str(dump)!r}, 'w'))"
    (fake_bin / "python").write_text(f'#!/bin/sh\n{ROOT / ".venv/bin/python"} -c "{dumper}"\nexit 3\n')
    (fake_bin / "python").chmod(0o755)
    stamp = folder / "installed"  # newer than pyproject.toml: make installs nothing
    stamp.touch()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("REPOSITORY_FETCH")}
    for inherited in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "DATABASE_URL", "CELERY_BROKER_URL"):
        environment.pop(inherited, None)
    subprocess.run(
        ["make", "--no-print-directory", "run", f"BIN={fake_bin}", f"STAMP={stamp}", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return json.loads(dump.read_text())


def test_make_run_turns_offline_mode_on_and_the_user_can_turn_it_off(tmp_path):
    assert make_run_environment(tmp_path / "default")["REPOSITORY_FETCH_OFFLINE"] == "1"
    assert make_run_environment(tmp_path / "off", "REPOSITORY_FETCH_OFFLINE=0")["REPOSITORY_FETCH_OFFLINE"] == "0"
