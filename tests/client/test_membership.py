"""The client and the membership filter: verified like every file, a first pass whose "perhaps" is always
confirmed (a false positive never drops a row), the same kept rows with and without it, and pulled along."""

import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exclusions import release as release_module
from exclusions.filtering import Matcher
from exclusions.membership import MEMBERSHIP_FILE, blob_keys
from exclusions.release import _blob_ids_read, load_release
from governance.models import Release, Repository, RepositoryBlob
from governance.signing import manifest_sign
from releases.publication import release_folder, release_publish
from tests.client_helpers import OTHER_BLOB, OWN_BLOB, PortalProxy, exclude, run

pytestmark = pytest.mark.django_db(transaction=True)

_RANDOM = random.Random(11)
_PREFIX = f"{_RANDOM.getrandbits(64):016x}"
# Random ids, and ids that share their first 16 hex digits (one filter key): only the rest tells them apart.
LISTED = sorted(
    [f"{_RANDOM.getrandbits(160):040x}" for _ in range(250)] + [f"{_PREFIX}{index:024x}" for index in range(1, 100, 2)]
)


@pytest.fixture
def filter_first(monkeypatch):
    """Releases of any size use their filter (the bar is a million blob ids)."""
    monkeypatch.setattr(release_module, "FILTER_MIN_BLOBS", 0)


@pytest.fixture
def many_blobs(portal):
    """The portal's release 2, whose excluded repository holds 300 more blobs."""
    repository = Repository.objects.get(canonical="github.com/opted/out")
    RepositoryBlob.objects.bulk_create(RepositoryBlob(repository=repository, blob_id=blob, size=1) for blob in LISTED)
    release_publish(dataset_slug="the-stack")
    return portal


def false_positive(release) -> str:
    """A blob id the filter says "perhaps" to that the release does not list, found by trying random ids."""
    listed = set(release.blob_ids.to_pylist())
    generator = random.Random(5)
    for _attempt in range(100):
        candidates = pa.array([f"{generator.getrandbits(160):040x}" for _ in range(100_000)])
        perhaps = candidates.filter(release.membership.contains_keys(blob_keys(candidates)[1]))
        unlisted = [blob for blob in perhaps.to_pylist() if blob not in listed]
        if unlisted:
            return unlisted[0]
    raise AssertionError("no false positive in ten million random ids")


def test_verify_checks_the_filter_and_refuses_a_changed_one_naming_it(pulled, capsys):
    assert run("verify", pulled, capsys=capsys)[0] == 0
    path = pulled / "releases" / "1" / MEMBERSHIP_FILE
    content = bytearray(path.read_bytes())
    content[-1] ^= 1
    path.write_bytes(bytes(content))
    status, error = run("verify", pulled, capsys=capsys)
    assert status == 1 and MEMBERSHIP_FILE in error and "sha256" in error
    shard = pulled.parent / "shard.parquet"
    pq.write_table(pa.table({"repo_name": ["a/b"], "blob_id": [OWN_BLOB]}), shard)
    status, error = run("filter", pulled, shard, "--output", pulled.parent / "kept.parquet", capsys=capsys)
    assert status == 1 and MEMBERSHIP_FILE in error and not (pulled.parent / "kept.parquet").exists()


def test_a_filter_changed_in_transit_is_refused_and_nothing_is_installed(portal, tmp_path, capsys):
    with PortalProxy(portal) as proxy:
        proxy.rewrite[MEMBERSHIP_FILE] = lambda content: content[:-1] + bytes([content[-1] ^ 1])
        status, error = run("pull", proxy.url, "the-stack", "--dir", tmp_path / "d", capsys=capsys)
    assert status == 1 and MEMBERSHIP_FILE in error and "signed manifest" in error
    assert not (tmp_path / "d" / "releases").exists()


def test_a_false_positive_of_the_filter_never_drops_a_row(pulled, filter_first, tmp_path, capsys):
    release = load_release(pulled)
    assert release.blob_membership is not None
    unlisted = false_positive(release)
    assert release.membership.contains_key(int(unlisted[:16], 16))  # the filter says perhaps …
    assert not release.is_excluded(blob_id=unlisted)  # … and the exact list says no
    assert release.is_excluded(blob_id=OWN_BLOB) and "_blob_set" not in release.__dict__
    table = pa.table({"repo_name": ["kept/one", "kept/two"], "blob_id": [unlisted, OWN_BLOB]})
    assert release.filter_table(table).column("blob_id").to_pylist() == [unlisted]
    pq.write_table(table, tmp_path / "shard.parquet")
    report = tmp_path / "report.json"
    arguments = ("filter", pulled, tmp_path / "shard.parquet", "--output", tmp_path / "kept.parquet")
    assert run(*arguments, "--report", report, capsys=capsys)[0] == 0
    assert pq.read_table(tmp_path / "kept.parquet").column("blob_id").to_pylist() == [unlisted]
    assert json.loads(report.read_text())["rows_dropped"]["blob"] == 1


def test_the_filter_keeps_the_rows_the_hash_sets_keep(many_blobs, tmp_path, capsys, monkeypatch):
    directory = tmp_path / "exclusions"
    assert run("pull", many_blobs, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
    monkeypatch.setattr(release_module, "FILTER_MIN_BLOBS", 0)
    unlisted = false_positive(load_release(directory))
    odd = [None, "", OWN_BLOB.upper(), LISTED[0][:39], LISTED[0] + "0", "é" * 20, " " + LISTED[1][1:], OTHER_BLOB]
    odd += [f"{_PREFIX}{index:024x}" for index in range(0, 100, 2)]  # a listed key, an id that is not listed
    blob_ids = LISTED[::2] + [unlisted, OWN_BLOB] + odd + [f"{index:040x}" for index in range(500)]
    repo_names = [("opted/out" if index % 97 == 0 else f"kept/r{index}") for index in range(len(blob_ids))]
    shard = tmp_path / "shard.parquet"
    pq.write_table(pa.table({"repo_name": repo_names, "blob_id": blob_ids}), shard, row_group_size=100)
    outputs = {}
    for bar in (0, 10**12):  # the filter first; then Arrow's hash sets, as before filters
        monkeypatch.setattr(release_module, "FILTER_MIN_BLOBS", bar)
        uses_filter = Matcher(load_release(directory)).blob_membership is not None
        assert uses_filter == (bar == 0)
        out, report = tmp_path / f"kept-{bar}.parquet", tmp_path / f"report-{bar}.json"
        assert (
            run("filter", directory, shard, "--output", out, "--report", report, "--jobs", "1", capsys=capsys)[0] == 0
        )
        counts = json.loads(report.read_text())
        outputs[bar] = (out.read_bytes(), counts["rows_kept"], counts["rows_dropped"])
    assert outputs[0] == outputs[10**12]
    listed = {*LISTED, OWN_BLOB}
    expected = [
        blob for repo, blob in zip(repo_names, blob_ids, strict=True) if repo != "opted/out" and blob not in listed
    ]
    assert pq.read_table(tmp_path / "kept-0.parquet").column("blob_id").to_pylist() == expected
    assert unlisted in expected and OWN_BLOB not in expected and OWN_BLOB.upper() in expected


def test_a_second_pull_downloads_the_filter_and_still_ends_byte_identical(pulled, portal, capsys):
    exclude("github.com/second/one")
    RepositoryBlob.objects.create(
        repository=Repository.objects.get(canonical="github.com/second/one"), blob_id=OTHER_BLOB, size=10
    )
    release_publish(dataset_slug="the-stack")
    with PortalProxy(portal) as proxy:
        assert run("pull", proxy.url, "the-stack", "--dir", pulled, capsys=capsys)[0] == 0
        fetched = [path.rsplit("/", 1)[-1] for path in proxy.paths("/releases/2/")]
    assert MEMBERSHIP_FILE in fetched and "blobs.parquet" not in fetched and "repositories.parquet" not in fetched
    published = release_folder(Release.objects.get(version=2))
    for path in published.iterdir():
        assert (pulled / "releases" / "2" / path.name).read_bytes() == path.read_bytes()
    assert run("verify", pulled, capsys=capsys)[0] == 0


def test_a_release_from_before_filters_is_filtered_with_the_hash_sets(pulled, filter_first, settings):
    folder = pulled / "releases" / "1"
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = [info for info in manifest["files"] if info["name"] != MEMBERSHIP_FILE]
    signed = manifest_sign(manifest=manifest, keys_dir=settings.DATA_DIR / "keys")
    (folder / "manifest.json").write_text(json.dumps(signed, indent=2) + "\n")
    (folder / MEMBERSHIP_FILE).unlink()
    release = load_release(pulled)
    assert release.membership is None and release.blob_membership is None
    table = pa.table({"repo_name": ["kept/one", "kept/two"], "blob_id": [OWN_BLOB, OTHER_BLOB]})
    assert release.filter_table(table).column("blob_id").to_pylist() == [OTHER_BLOB]
    assert release.is_excluded(blob_id=OWN_BLOB) and not release.is_excluded(blob_id=OTHER_BLOB)


def test_blob_ids_out_of_order_keep_the_hash_sets(pulled, filter_first):
    release = load_release(pulled)
    release.blob_ids = pa.array([OWN_BLOB, OTHER_BLOB, "0" * 40])  # as no published file holds them
    assert release.blob_membership is None and release.is_excluded(blob_id="0" * 40)


def test_blob_ids_are_read_into_one_array_whatever_the_row_groups(tmp_path):
    ids = sorted(LISTED)
    pq.write_table(pa.table({"blob_id": ids}), tmp_path / "blobs.parquet", row_group_size=7)
    read = _blob_ids_read(tmp_path / "blobs.parquet")
    read.validate(full=True)
    assert read.to_pylist() == ids and read.type == pa.string()
    # Values that are no 40-byte ids (no published file holds them) are read as they are, the slower way.
    pq.write_table(pa.table({"blob_id": [*ids[:5], "short", None]}), tmp_path / "odd.parquet", row_group_size=2)
    assert _blob_ids_read(tmp_path / "odd.parquet").to_pylist() == [*ids[:5], "short", None]
