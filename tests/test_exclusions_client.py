"""The `exclusions` client against a live portal: pull, changes only, tampering, resume, filter, build reports."""

import base64
import gzip
import hashlib
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command

from governance.client import cli
from governance.client.filtering import filter_table_counted
from governance.client.manifest import manifest_canonical_bytes, manifest_verify
from governance.client.release import load_release
from governance.models import BuildReport, Release, Repository, RepositoryBlob
from governance.services import dataset_get_or_create
from governance.signing import key_rotate, public_keys
from governance.signing import manifest_canonical_bytes as portal_canonical_bytes
from governance.tokens import pipeline_token_issue
from releases.publication import release_folder, release_publish
from tests.client_helpers import PortalProxy

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
OWN_BLOB, SHARED_BLOB, OTHER_BLOB = "a" * 40, "b" * 40, "c" * 40


@pytest.fixture
def dataset():
    return dataset_get_or_create(slug="the-stack", name="The Stack")[0]


@pytest.fixture
def portal(live_server, live_server_connections_closed, dataset):
    """The live portal's address, with release 1: a repository (with a blob), a GitHub owner, a GitLab group."""
    exclude("github.com/opted/out")
    exclude("github.com/gone-owner", namespace=True)
    exclude("gitlab.com/group", namespace=True)
    RepositoryBlob.objects.create(
        repository=Repository.objects.get(canonical="github.com/opted/out"), blob_id=OWN_BLOB, size=10
    )
    release_publish(dataset_slug="the-stack")
    return live_server.url


def exclude(*targets, namespace=False):
    arguments = ["exclude", "the-stack", *targets, "--reason", "legal"] + (["--namespace"] if namespace else [])
    call_command(*arguments, stdout=StringIO())


def run(*arguments, capsys=None) -> tuple[int, str]:
    """The CLI in this process (so the live server's thread answers it): exit status and stderr."""
    status = cli.main([str(argument) for argument in arguments])
    return status, capsys.readouterr().err if capsys else ""


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and ".staging" not in path.parts and path.name != ".lock"
    }


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
    from governance.client.store import Store

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
    from governance.client import download

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


# --- filter ------------------------------------------------------------------------------------------------

STACK_SCHEMA = pa.schema(
    [
        pa.field("blob_id", pa.string()),
        pa.field("path", pa.string()),
        pa.field("detected_licenses", pa.list_(pa.string())),
        pa.field("repo_name", pa.string()),
        pa.field("visit_date", pa.timestamp("ns")),
        pa.field("github_id", pa.int64()),
        pa.field("is_vendor", pa.bool_()),
        pa.field("length_bytes", pa.int64()),
    ],
    metadata={b"huggingface": b'{"info": "kept as it was"}'},
)
# (repo_name, blob_id, kept?) — the reason in the comment.
STACK_ROWS = [
    ("keeper/lib", OTHER_BLOB, True),
    ("Opted/Out", "d" * 40, False),  # the repository, in another case
    ("GONE-OWNER/anything", "e" * 40, False),  # a namespace
    ("fork/copy", OWN_BLOB, False),  # a blob of an opted-out repository, in a fork
    ("opted/out.git", "f" * 40, False),  # another spelling of the repository
    ("gone-owner.x/y", "1" * 40, True),  # a host, not the owner: names no repository
    ("keeper/other", None, True),
    (None, "2" * 40, True),
]


def stack_table() -> pa.Table:
    rows = [
        {
            "blob_id": blob,
            "path": f"src/file_{index}.py",
            "detected_licenses": ["MIT"] if index % 2 else [],
            "repo_name": repo,
            "visit_date": 1_700_000_000_000_000_000 + index * 1000,
            "github_id": 1000 + index,
            "is_vendor": bool(index % 3),
            "length_bytes": 10 * index,
        }
        for index, (repo, blob, _kept) in enumerate(STACK_ROWS)
    ]
    return pa.Table.from_pylist(rows, schema=STACK_SCHEMA)


@pytest.fixture
def pulled(portal, tmp_path, capsys):
    directory = tmp_path / "exclusions"
    assert run("pull", portal, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
    return directory


def test_filter_keeps_the_allowed_rows_of_parquet_and_jsonl_with_the_schema_as_it_was(pulled, tmp_path, capsys):
    table = stack_table()
    shards = tmp_path / "shards"
    shards.mkdir()
    pq.write_table(table, shards / "part-0.parquet", row_group_size=3, compression="snappy")
    lines = [json.dumps(row, default=str, separators=(", ", ": ")) for row in table.to_pylist()]
    (shards / "part-1.jsonl").write_text("\n".join(lines) + "\n")
    with gzip.open(shards / "part-2.jsonl.gz", "wt") as compressed:
        compressed.write("\n".join(lines) + "\n")
    inputs = sorted(shards.iterdir())
    status, _ = run(
        "filter", pulled, *inputs, "--output", tmp_path / "out", "--report", tmp_path / "report.json", capsys=capsys
    )
    assert status == 0
    kept = [index for index, (_repo, _blob, keep) in enumerate(STACK_ROWS) if keep]
    written = pq.read_table(tmp_path / "out" / "part-0.parquet")
    assert written.schema.equals(pq.read_schema(shards / "part-0.parquet"), check_metadata=True)
    assert written.schema.metadata[b"huggingface"] == b'{"info": "kept as it was"}'
    assert written.to_pylist() == table.take(kept).to_pylist()
    assert pq.ParquetFile(tmp_path / "out" / "part-0.parquet").metadata.row_group(0).column(0).compression == "SNAPPY"
    expected_lines = "".join(lines[index] + "\n" for index in kept)
    assert (tmp_path / "out" / "part-1.jsonl").read_text() == expected_lines
    with gzip.open(tmp_path / "out" / "part-2.jsonl.gz", "rt") as written_lines:
        assert written_lines.read() == expected_lines
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["release"]["dataset"] == "the-stack" and report["release"]["version"] == 1
    assert (
        report["release"]["manifest_sha256"]
        == hashlib.sha256((pulled / "releases/1/manifest.json").read_bytes()).hexdigest()
    )
    assert (report["rows_in"], report["rows_kept"]) == (3 * len(STACK_ROWS), 3 * len(kept))
    assert report["rows_dropped"] == {"repository": 6, "namespace": 3, "blob": 3, "total": 12}
    assert [shard["rows_kept"] for shard in report["shards"]] == [len(kept)] * 3
    assert report["unreadable_repositories"] == 3  # gone-owner.x/y: a host with no repository path


def test_filter_reads_urls_and_canonical_names_with_gitlab_subgroups(pulled, tmp_path, capsys):
    names = [
        "https://github.com/Opted/Out.git",  # the repository
        "git@github.com:gone-owner/thing.git",  # under a GitHub namespace
        "gitlab.com/group/sub/project",  # under a GitLab group, two levels down
        "https://gitlab.com/groupie/project",  # not under gitlab.com/group
        "github.com/keeper/lib",
        "not a repository",
    ]
    table = pa.table({"repository": names, "n": list(range(len(names)))})
    pq.write_table(table, tmp_path / "urls.parquet")
    status, _ = run(
        "filter",
        pulled,
        tmp_path / "urls.parquet",
        "--output",
        tmp_path / "kept.parquet",
        "--repo-column",
        "repository",
        "--blob-column",
        "",
        capsys=capsys,
    )
    assert status == 0
    assert pq.read_table(tmp_path / "kept.parquet").column("n").to_pylist() == [3, 4, 5]


def test_filter_refuses_a_missing_column_or_an_unreadable_shard_and_leaves_no_output(pulled, tmp_path, capsys):
    pq.write_table(pa.table({"repository": ["a/b"]}), tmp_path / "no-repo-name.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    pq.write_table(stack_table(), tmp_path / "good.parquet")
    status, error = run(
        "filter",
        pulled,
        tmp_path / "no-repo-name.parquet",
        tmp_path / "broken.parquet",
        tmp_path / "good.parquet",
        "--output",
        tmp_path / "out",
        capsys=capsys,
    )
    assert status == 1
    assert "no-repo-name.parquet: no column 'repo_name'" in error and "broken.parquet" in error
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["good.parquet"]
    status, error = run(
        "filter", tmp_path / "empty-dir", tmp_path / "good.parquet", "--output", tmp_path / "o.parquet", capsys=capsys
    )
    assert status == 1 and "run `exclusions pull" in error and not (tmp_path / "o.parquet").exists()


def test_plain_looking_names_that_name_no_repository_are_counted_unreadable(pulled):
    release = load_release(pulled)
    names = ["settings/x", "Localhost/foo", "owner/..", "keeper/lib", "opted/out.git"]
    table = pa.table({"repo_name": names, "blob_id": [None] * len(names)})
    kept, counts = filter_table_counted(release, table)
    # As the portal reads them: GitHub pages, a local host and ".." name no repository; ".git" is stripped.
    assert counts.unreadable_repositories == 3
    assert kept.column("repo_name").to_pylist() == names[:4]


def test_the_python_api_and_the_filter_agree_row_for_row(pulled):
    release = load_release(pulled)
    assert release.is_excluded("https://github.com/OPTED/out") and release.is_excluded(blob_id=OWN_BLOB)
    assert not release.is_excluded("keeper/lib") and not release.is_excluded(None)
    names = [repo for repo, _blob, _keep in STACK_ROWS] + [
        "gitlab.com/group/x",
        "gitlab.com/Group/Sub/y",
        " opted/out ",
        "opted/out?x=1",
        "settings/x",
    ]
    blobs = [blob for _repo, blob, _keep in STACK_ROWS] + [None] * 5
    # Many small batches: verdicts must come back paired with their own rows, in order.
    table = pa.table({"repo_name": names * 500, "blob_id": blobs * 500, "row": list(range(len(names) * 500))})
    table = pa.Table.from_batches(table.to_batches(max_chunksize=7))
    kept, counts = filter_table_counted(release, table)
    expected = [
        row
        for row, (name, blob) in enumerate(zip(names * 500, blobs * 500, strict=True))
        if not release.is_excluded(name, blob_id=blob)
    ]
    assert kept.column("row").to_pylist() == expected and kept.schema == table.schema
    assert release.keep(names, blobs) == [
        not release.is_excluded(name, blob_id=blob) for name, blob in zip(names, blobs, strict=True)
    ]
    assert counts.rows_in == len(table) and counts.rows_kept == len(expected)


# --- report-build, signing, imports ------------------------------------------------------------------------


def test_report_build_tells_the_portal_which_release_a_build_applied(portal, capsys, monkeypatch):
    token = pipeline_token_issue(name="nightly", dataset_slugs=["the-stack"])[1]
    monkeypatch.setenv("EXCLUSIONS_TOKEN", token)
    status = cli.main(
        ["report-build", portal, "the-stack", "--release", "1", "--build", "run-7", "--notes", "shards 0-9"]
    )
    assert status == 0 and json.loads(capsys.readouterr().out)["build_id"] == "run-7"
    assert BuildReport.objects.get(build_id="run-7").release.version == 1
    status, error = run("report-build", portal, "the-stack", "--release", "9", "--build", "x", capsys=capsys)
    assert status == 1 and "HTTP 400" in error and "no release 9" in error


def test_the_portal_signs_the_bytes_the_client_verifies(portal, settings):
    release = Release.objects.get(version=1)
    manifest = json.loads((release_folder(release) / "manifest.json").read_text())
    assert portal_canonical_bytes(manifest) == manifest_canonical_bytes(manifest)
    keys = {key.key_id: key.public_key for key in public_keys(keys_dir=settings.DATA_DIR / "keys")}
    assert manifest_verify(manifest, keys) == manifest["key_id"]


def test_the_client_modules_import_neither_django_nor_the_database(tmp_path):
    # A pipeline installs the client without running the portal: importing any of it, through the real
    # `governance` package, must not reach Django, Celery or a database driver.
    script = """
import importlib, importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("django", "celery", "kombu", "psycopg", "rest_framework"):
            raise ImportError("the client imported " + name)
sys.meta_path.insert(0, Refuse())
for module in ("cli", "pull", "verify", "download", "filtering", "shards", "release", "store", "portal", "manifest"):
    importlib.import_module("governance.client." + module)
import governance.client
governance.client.load_release
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
