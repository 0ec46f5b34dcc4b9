"""The membership filter a release publishes: listed and signed in the manifest, built from the release's own
rows, in the documented format whose lookup is the C library's, and served like every file."""

import hashlib
import json
import random
import struct

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyfusefilter._xorfilter import ffi, lib

from exclusions.errors import ClientError
from exclusions.membership import (
    HEADER,
    MEMBERSHIP_FILE,
    MembershipFilter,
    blob_key,
    blob_keys,
    membership_read,
    namespace_key,
    repository_key,
)
from exclusions.release_files import blob_rows_read, repositories_read
from governance.models import Repository, RepositoryBlob
from governance.services import dataset_get_or_create
from governance.signing import manifest_verify, public_keys
from releases.fuse import fuse_build
from releases.publication import release_folder, release_publish
from tests.client_helpers import exclude

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dataset():
    return dataset_get_or_create(slug="the-stack", name="The Stack")[0]


def hex_ids(count: int, seed: int) -> list[str]:
    generator = random.Random(seed)
    return [f"{generator.getrandbits(160):040x}" for _ in range(count)]


def with_blobs(canonical: str, blob_ids: list[str]) -> None:
    repository = Repository.objects.get(canonical=canonical)
    RepositoryBlob.objects.bulk_create(RepositoryBlob(repository=repository, blob_id=blob, size=1) for blob in blob_ids)


def test_a_release_lists_its_filter_with_size_keys_and_sha256_under_the_signature(dataset, settings):
    exclude("github.com/a/one", "gitlab.com/group/sub/project")
    exclude("github.com/gone-owner", "gitlab.com/group/sub", namespace=True)
    with_blobs("github.com/a/one", hex_ids(500, seed=1))
    release = release_publish(dataset_slug="the-stack")
    folder = release_folder(release)
    keys = {key.key_id: key.public_key for key in public_keys(keys_dir=settings.DATA_DIR / "keys")}
    manifest_verify(manifest=release.manifest, public_keys=keys)
    (listed,) = [info for info in release.manifest["files"] if info["name"] == MEMBERSHIP_FILE]
    content = (folder / MEMBERSHIP_FILE).read_bytes()
    assert listed == {
        "name": MEMBERSHIP_FILE,
        "bytes": len(content),
        "rows": 504,  # two repositories, two namespaces, 500 blob ids: distinct keys
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    membership = membership_read(folder / MEMBERSHIP_FILE)
    counts = release.manifest["counts"]
    assert (membership.repositories, membership.namespaces, membership.blobs, membership.keys) == (
        counts["repositories"],
        counts["namespaces"],
        counts["blobs"],
        504,
    )
    assert len(content) == HEADER.size + 2 * membership.fingerprint_count


def test_every_repository_namespace_and_blob_of_a_release_is_a_member(dataset):
    exclude("github.com/a/one", "github.com/b/two", "gitlab.com/group/sub/project")
    exclude("github.com/gone-owner", "gitlab.com/group/sub", namespace=True)
    with_blobs("github.com/b/two", hex_ids(2_000, seed=2))
    folder = release_folder(release_publish(dataset_slug="the-stack"))
    membership = membership_read(folder / MEMBERSHIP_FILE)
    rows = list(repositories_read(folder / "repositories.parquet"))
    assert len(rows) == 5
    for row in rows:
        key = repository_key(row.repository) if row.scope == "repository" else namespace_key(row.repository)
        assert membership.contains_key(key), row
    blob_ids = [blob_id for blob_id, _reason, _path in blob_rows_read(folder / "blobs.parquet")]
    assert len(blob_ids) == 2_000
    assert all(membership.contains_key(blob_key(blob_id)) for blob_id in blob_ids)
    shaped, keys = blob_keys(pa.array(blob_ids))
    assert pc.all(shaped).as_py() and pc.all(membership.contains_keys(keys)).as_py()
    # A GitLab group and a repository of the same name are different keys: the scope is part of the key.
    assert repository_key("gitlab.com/group/sub") != namespace_key("gitlab.com/group/sub")


@pytest.mark.parametrize("bits", [16, 8])
def test_the_documented_lookup_answers_as_the_c_library_does(bits):
    generator = random.Random(3)
    keys = sorted({generator.getrandbits(64) for _ in range(20_000)})
    membership = fuse_build(pa.array(keys, pa.uint64()), bits=bits)
    assert MembershipFilter.from_bytes(membership.to_bytes()) == membership
    native = ffi.new(f"binary_fuse{bits}_t *")
    native.Seed, native.SegmentLength = membership.seed, membership.segment_length
    native.SegmentLengthMask, native.SegmentCountLength = membership.segment_length - 1, membership.segment_count_length
    native.ArrayLength = membership.fingerprint_count
    fingerprints = ffi.from_buffer(f"uint{bits}_t[]", bytearray(membership.fingerprints))
    native.Fingerprints = fingerprints
    probes = keys[:1_000] + [generator.getrandbits(64) for _ in range(200_000)]
    contain = getattr(lib, f"binary_fuse{bits}_contain")
    theirs = [contain(key, native) for key in probes]
    assert [membership.contains_key(key) for key in probes] == theirs
    assert membership.contains_keys(pa.array(probes, pa.uint64())).to_pylist() == theirs
    expected = 200_000 / 2**bits  # about one key in 2^bits that is not listed
    assert all(theirs[:1_000]) and expected / 4 < sum(theirs[1_000:]) < expected * 4


def test_the_same_rows_give_the_same_filter_bytes_and_other_rows_other_bytes(dataset):
    exclude("github.com/a/one")
    with_blobs("github.com/a/one", hex_ids(300, seed=4))
    first, second = release_publish(dataset_slug="the-stack"), release_publish(dataset_slug="the-stack")
    exclude("github.com/c/three")
    third = release_publish(dataset_slug="the-stack")
    digests = [
        next(info["sha256"] for info in release.manifest["files"] if info["name"] == MEMBERSHIP_FILE)
        for release in (first, second, third)
    ]
    assert digests[0] == digests[1] != digests[2]


def test_a_release_that_excludes_nothing_has_a_filter_of_no_keys(dataset):
    folder = release_folder(release_publish(dataset_slug="the-stack"))
    membership = membership_read(folder / MEMBERSHIP_FILE)
    assert membership.keys == 0 and (membership.repositories, membership.namespaces, membership.blobs) == (0, 0, 0)


def test_the_api_serves_the_filter_and_a_release_from_before_filters_has_none(dataset, client):
    exclude("github.com/a/one")
    release = release_publish(dataset_slug="the-stack")
    content = (release_folder(release) / MEMBERSHIP_FILE).read_bytes()
    response = client.get(f"/api/v1/datasets/the-stack/releases/1/{MEMBERSHIP_FILE}")
    assert response.status_code == 200 and b"".join(response.streaming_content) == content
    assert response["ETag"] == f'"{hashlib.sha256(content).hexdigest()}"'
    release.manifest["files"] = [info for info in release.manifest["files"] if info["name"] != MEMBERSHIP_FILE]
    release.save(update_fields=["manifest"])
    response = client.get(f"/api/v1/datasets/the-stack/releases/1/{MEMBERSHIP_FILE}")
    assert response.status_code == 404 and json.loads(response.content)["code"] == "not_found"


def test_blob_keys_are_the_first_eight_bytes_of_the_sha1_read_a_column_at_a_time():
    blob_ids = hex_ids(1_000, seed=5)
    odd = [None, "", "abc", "A" * 40, "é" * 20, "0" * 41, "g" * 40]
    shaped, keys = blob_keys(pa.array(blob_ids + odd))
    assert keys.to_pylist()[:1_000] == [int(blob_id[:16], 16) for blob_id in blob_ids]
    assert keys.to_pylist()[:1_000] == [int.from_bytes(bytes.fromhex(blob_id)[:8], "big") for blob_id in blob_ids]
    assert shaped.to_pylist() == [True] * 1_000 + [False, False, False, True, True, False, True]
    assert [blob_key(value) for value in odd] == [None, None, None, int("A" * 16, 16), None, None, None]
    assert blob_keys(pa.array([], pa.string()))[1].to_pylist() == []


def test_a_malformed_filter_is_refused_and_one_in_a_newer_format_is_left_unused():
    content = fuse_build(pa.array([1, 2, 3], pa.uint64())).to_bytes()
    assert MembershipFilter.from_bytes(content).keys == 3
    with pytest.raises(ClientError, match="bytes, its header says"):
        MembershipFilter.from_bytes(content[:-2])
    with pytest.raises(ClientError, match="not a membership filter"):
        MembershipFilter.from_bytes(b"PAR1" + content[4:])
    wrong_length = content[:24] + struct.pack("<I", 3) + content[28:]
    with pytest.raises(ClientError, match="not a power of two"):
        MembershipFilter.from_bytes(wrong_length)
    too_many = content[:32] + struct.pack("<I", 1 << 20) + content[36:]
    with pytest.raises(ClientError, match="do not fit"):
        MembershipFilter.from_bytes(too_many)
    newer = content[:8] + struct.pack("<H", 2) + content[10:]
    assert MembershipFilter.from_bytes(newer) is None
