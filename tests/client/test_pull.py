"""The client's `pull` and `verify`: a release downloaded, checked against its signed manifest, and kept up
to date from its changes."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from governance.models import Release, Repository, RepositoryBlob
from governance.signing import key_rotate, public_keys
from releases.publication import release_folder, release_publish
from tests.client_helpers import OTHER_BLOB, PortalProxy, exclude, run, snapshot

pytestmark = pytest.mark.django_db(transaction=True)

# --- pull and verify ---------------------------------------------------------------------------------------


def test_the_console_script_pulls_trusting_the_key_on_first_use_and_verifies(portal, tmp_path, settings):
    directory = tmp_path / "exclusions"
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    pulled = subprocess.run(
        ["exclusions", "pull", portal, "the-stack", "--dir", directory], capture_output=True, text=True, env=environment
    )
    assert pulled.returncode == 0, pulled.stderr
    assert "trusting the portal's key" in pulled.stderr and "release 1 of the-stack verified" in pulled.stdout
    key = public_keys(keys_dir=settings.DATA_DIR / "keys")[0]
    trust = json.loads((directory / "trust.json").read_text())
    assert (
        trust["dataset"] == "the-stack"
        and trust["keys"][key.key_id]["public_key"] == base64.b64encode(key.public_key).decode()
    )
    assert (directory / "current").read_text() == "1\n"
    published = release_folder(Release.objects.get(version=1))
    for path in published.iterdir():
        assert (directory / "releases" / "1" / path.name).read_bytes() == path.read_bytes()
    verified = subprocess.run(["exclusions", "verify", directory], capture_output=True, text=True, env=environment)
    assert verified.returncode == 0 and "release 1 of the-stack" in verified.stdout


def test_a_pinned_key_is_accepted_in_any_spelling_and_another_key_is_refused(portal, tmp_path, settings, capsys):
    key = public_keys(keys_dir=settings.DATA_DIR / "keys")[0]
    (tmp_path / "portal.pub").write_text(f"ed25519 {base64.b64encode(key.public_key).decode()} 2026-01-01T00:00:00Z\n")
    for spelling in (base64.b64encode(key.public_key).decode(), key.public_key.hex(), tmp_path / "portal.pub"):
        directory = tmp_path / f"pinned-{len(str(spelling))}"
        assert run("pull", portal, "the-stack", "--dir", directory, "--key", spelling, capsys=capsys)[0] == 0
        assert "first use" not in capsys.readouterr().err
    stranger = base64.b64encode(bytes(range(32))).decode()
    status, error = run("pull", portal, "the-stack", "--dir", tmp_path / "stranger", "--key", stranger, capsys=capsys)
    assert status == 1 and "manifest.json" in error and "not trusted" in error
    assert not (tmp_path / "stranger" / "releases").exists() and not (tmp_path / "stranger" / "trust.json").exists()


def test_a_pinned_key_is_recorded_even_when_the_release_is_already_here(portal, tmp_path, settings, capsys):
    key = public_keys(keys_dir=settings.DATA_DIR / "keys")[0]
    directory = tmp_path / "exclusions"
    pinned = base64.b64encode(key.public_key).decode()
    assert run("pull", portal, "the-stack", "--dir", directory, "--key", pinned, capsys=capsys)[0] == 0
    (directory / "trust.json").unlink()

    assert run("pull", portal, "the-stack", "--dir", directory, "--key", pinned, capsys=capsys)[0] == 0
    trust = json.loads((directory / "trust.json").read_text())
    assert trust["keys"][key.key_id] == {**trust["keys"][key.key_id], "public_key": pinned, "trusted": "--key"}


def test_a_release_signed_by_a_swapped_key_is_refused_and_the_previous_one_stays(portal, tmp_path, settings, capsys):
    directory = tmp_path / "exclusions"
    assert run("pull", portal, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
    before = snapshot(directory)
    key_rotate(keys_dir=settings.DATA_DIR / "keys")  # the portal (or someone in its place) signs with another key
    exclude("github.com/second/one")
    release_publish(dataset_slug="the-stack")
    status, error = run("pull", portal, "the-stack", "--dir", directory, capsys=capsys)
    assert status == 1 and "manifest.json of release 2" in error and "not trusted" in error
    assert snapshot(directory) == before and run("verify", directory, capsys=capsys)[0] == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda manifest: {**manifest, "counts": {**manifest["counts"], "repositories": 0}},
            "signature does not match",
        ),
        (lambda manifest: {name: value for name, value in manifest.items() if name != "signature"}, "unsigned"),
    ],
    ids=["changed-field", "unsigned"],
)
def test_a_changed_or_unsigned_manifest_is_refused(portal, tmp_path, capsys, change, expected):
    with PortalProxy(portal) as proxy:
        proxy.rewrite["manifest.json"] = lambda body: json.dumps(change(json.loads(body))).encode()
        status, error = run("pull", proxy.url, "the-stack", "--dir", tmp_path / "d", capsys=capsys)
    assert status == 1 and "manifest.json" in error and expected in error
    assert not (tmp_path / "d" / "releases").exists() and not (tmp_path / "d" / "current").exists()


def test_a_changed_byte_in_transit_is_refused_naming_the_file_and_nothing_is_replaced(portal, tmp_path, capsys):
    directory = tmp_path / "exclusions"
    assert run("pull", portal, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
    before = snapshot(directory)
    RepositoryBlob.objects.create(
        repository=Repository.objects.get(canonical="github.com/opted/out"), blob_id=OTHER_BLOB, size=1
    )
    release_publish(dataset_slug="the-stack")

    def flip_last_byte(body: bytes) -> bytes:
        return body[:-1] + bytes([body[-1] ^ 1])

    with PortalProxy(portal) as proxy:
        proxy.rewrite["blobs.parquet"] = flip_last_byte
        proxy.rewrite["?since=1"] = lambda body: b""  # no blob changes: blobs.parquet cannot be rebuilt, so is fetched
        status, error = run("pull", proxy.url, "the-stack", "--dir", directory, capsys=capsys)
    assert status == 1 and error.startswith("exclusions pull: blobs.parquet: sha256") and "refused" in error
    assert snapshot(directory) == before
    assert not list((directory / ".staging").rglob("blobs.parquet*"))  # a bad part is never resumed


def test_an_extra_row_in_a_published_file_is_refused(portal, tmp_path, capsys):
    release = Release.objects.get(version=1)
    with open(release_folder(release) / "repositories.jsonl", "a") as published:
        published.write(
            '{"repository":"github.com/x/y","scope":"repository","reasons":["opt-out"],"since":"2026-01-01T00:00:00Z"}\n'
        )
    status, error = run("pull", portal, "the-stack", "--dir", tmp_path / "d", capsys=capsys)
    assert status == 1 and "repositories.jsonl" in error and "more than" in error
    assert not (tmp_path / "d" / "releases").exists()


def test_verify_names_the_file_that_no_longer_matches(portal, tmp_path, capsys):
    directory = tmp_path / "exclusions"
    assert run("pull", portal, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
    with open(directory / "releases" / "1" / "changes.jsonl", "ab") as local:
        local.write(b"\n")
    status, error = run("verify", directory, capsys=capsys)
    assert status == 1 and "releases/1/changes.jsonl" in error and "bytes" in error
    status, error = run(
        "filter", directory, tmp_path / "x.parquet", "--output", tmp_path / "out.parquet", capsys=capsys
    )
    assert status == 1 and "changes.jsonl" in error and not (tmp_path / "out.parquet").exists()


def test_a_second_pull_into_a_directory_being_written_is_refused(tmp_path, capsys):
    from exclusions.store import Store

    with Store(tmp_path / "d").locked():
        status, error = run("pull", "http://127.0.0.1:9", "the-stack", "--dir", tmp_path / "d", capsys=capsys)
    assert status == 1 and "another pull is writing into this directory" in error


def test_a_directory_holding_another_dataset_is_refused(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "trust.json").write_text(json.dumps({"dataset": "other", "keys": {}}))
    status, error = run("pull", "http://127.0.0.1:9", "the-stack", "--dir", tmp_path / "d", capsys=capsys)
    assert status == 1 and "holds releases of 'other'" in error and "another --dir" in error


def test_a_directory_that_cannot_be_made_fails_in_one_line_naming_it(tmp_path, capsys):
    (tmp_path / "a-file").write_text("")
    status, error = run("pull", "http://127.0.0.1:9", "the-stack", "--dir", tmp_path / "a-file" / "d", capsys=capsys)
    assert status == 1 and "a-file" in error and len(error.strip().splitlines()) == 1


def test_an_answer_that_is_not_json_is_refused_naming_the_address(portal, tmp_path, capsys):
    with PortalProxy(portal) as proxy:
        proxy.rewrite[""] = lambda body: b"<html>a login page</html>"  # releases/latest/ ends in "/"
        status, error = run("pull", proxy.url, "the-stack", "--dir", tmp_path / "d", capsys=capsys)
    assert status == 1 and "releases/latest/: the answer is not JSON" in error
    assert len(error.strip().splitlines()) == 1


# --- changes only and resume -------------------------------------------------------------------------------


def test_a_second_pull_rebuilds_the_repository_files_from_the_changes(portal, tmp_path, capsys):
    directory = tmp_path / "exclusions"
    assert run("pull", portal, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
    exclude("github.com/second/one")
    release_publish(dataset_slug="the-stack")
    with PortalProxy(portal) as proxy:
        assert run("pull", proxy.url, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
        fetched = proxy.paths("/releases/2/")
    assert any("changes/?since=1" in path for path in fetched)
    assert not [
        path for path in fetched if path.endswith(("repositories.jsonl", "repositories.parquet", "blobs.parquet"))
    ]
    published = release_folder(Release.objects.get(version=2))
    for path in published.iterdir():
        assert (directory / "releases" / "2" / path.name).read_bytes() == path.read_bytes()
    assert (directory / "current").read_text() == "2\n" and (directory / "releases" / "1").is_dir()
    assert (
        run("verify", directory, capsys=capsys)[0] == 0
        and run("verify", directory, "--release", 1, capsys=capsys)[0] == 0
    )


def test_a_release_that_changed_nothing_is_pulled_with_its_empty_changes_file(portal, tmp_path, capsys):
    release_publish(dataset_slug="the-stack")
    published = release_folder(Release.objects.get(version=2))
    assert (published / "changes.jsonl").stat().st_size == 0
    directory = tmp_path / "exclusions"
    assert run("pull", portal, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
    assert (directory / "releases" / "2" / "changes.jsonl").read_bytes() == b""
    assert run("verify", directory, capsys=capsys)[0] == 0


def test_an_interrupted_download_resumes_with_a_range_request(portal, tmp_path, capsys):
    with PortalProxy(portal) as proxy:
        proxy.ranges = True
        proxy.cut_once["repositories.parquet"] = 100
        assert run("pull", proxy.url, "the-stack", "--dir", tmp_path / "d", capsys=capsys)[0] == 0
        ranges = [(path, byte_range) for path, byte_range in proxy.requests if path.endswith("repositories.parquet")]
    assert ranges[0][1] is None and ranges[1][1] == "bytes=100-"
    assert run("verify", tmp_path / "d", capsys=capsys)[0] == 0


def test_a_part_left_by_an_earlier_run_is_resumed_or_restarted_when_the_server_sends_it_whole(portal, tmp_path, capsys):
    published = release_folder(Release.objects.get(version=1))
    whole = (published / "blobs.parquet").read_bytes()
    for ranges in (True, False):  # the proxy serves ranges, or sends the whole file as a server that ignores them
        directory = tmp_path / f"ranges-{ranges}"
        staging = directory / ".staging" / "1"
        staging.mkdir(parents=True)
        (staging / "blobs.parquet.part").write_bytes(whole[:50])
        with PortalProxy(portal) as proxy:
            proxy.ranges = ranges
            assert run("pull", proxy.url, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
            blob_requests = [byte_range for path, byte_range in proxy.requests if path.endswith("blobs.parquet")]
        assert blob_requests == ["bytes=50-"]
        assert (directory / "releases" / "1" / "blobs.parquet").read_bytes() == whole
        assert not (directory / ".staging").exists()


def test_the_portal_itself_answers_the_rest_of_a_part(portal, tmp_path, capsys):
    whole = (release_folder(Release.objects.get(version=1)) / "blobs.parquet").read_bytes()
    directory = tmp_path / "d"
    staging = directory / ".staging" / "1"
    staging.mkdir(parents=True)
    (staging / "blobs.parquet.part").write_bytes(whole[:50])
    with PortalProxy(portal) as proxy:
        proxy.forward_ranges = True
        assert run("pull", proxy.url, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
    assert [status for path, status in proxy.upstream_statuses if path.endswith("blobs.parquet")] == [206]
    assert (directory / "releases" / "1" / "blobs.parquet").read_bytes() == whole


def test_a_download_that_keeps_failing_says_how_far_it_got_and_resumes_next_time(portal, tmp_path, capsys, monkeypatch):
    from exclusions import download

    monkeypatch.setattr(download, "ATTEMPTS", 1)
    monkeypatch.setattr(download.time, "sleep", lambda seconds: None)
    directory = tmp_path / "d"
    with PortalProxy(portal) as proxy:
        proxy.ranges = True
        proxy.cut_once["blobs.parquet"] = 64
        status, error = run("pull", proxy.url, "the-stack", "--dir", directory, capsys=capsys)
        assert status == 1 and "blobs.parquet: the download stopped at 64 of" in error and "resume" in error
        assert not (directory / "releases").exists()
        assert run("pull", proxy.url, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
        assert [r for p, r in proxy.requests if p.endswith("blobs.parquet")] == [None, "bytes=64-"]


def test_a_changed_blob_list_is_rebuilt_from_the_blob_changes_not_downloaded(portal, tmp_path, capsys):
    directory = tmp_path / "exclusions"
    assert run("pull", portal, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
    exclude("github.com/second/one")
    RepositoryBlob.objects.create(
        repository=Repository.objects.get(canonical="github.com/second/one"), blob_id=OTHER_BLOB, size=10
    )
    release_publish(dataset_slug="the-stack")
    published = release_folder(Release.objects.get(version=2))
    assert (published / "blobs.parquet").read_bytes() != (directory / "releases" / "1" / "blobs.parquet").read_bytes()
    with PortalProxy(portal) as proxy:
        assert run("pull", proxy.url, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
        fetched = proxy.paths("/releases/2/")
    assert not [path for path in fetched if path.endswith("blobs.parquet")]
    assert (directory / "releases" / "2" / "blobs.parquet").read_bytes() == (published / "blobs.parquet").read_bytes()
    assert run("verify", directory, capsys=capsys)[0] == 0
