"""`changes/?since=M` carries blob changes too: blobs.parquet of each release against the one before, as rows of
`"kind": "blob"` after the repository changes; applied to release M's blobs they give release N's file exactly."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from exclusions.release_files import (
    ExcludedBlob,
    blob_changes_apply,
    blob_changes_diff,
    blob_rows_read,
    blob_rows_writable,
    blobs_write,
    file_info,
)
from governance.models import Repository, RepositoryBlob
from governance.services import dataset_get_or_create
from releases.publication import release_publish

pytestmark = pytest.mark.django_db(transaction=True)

A, B, C, D = ("a" * 40, "b" * 40, "c" * 40, "d" * 40)


def excluded_with_blobs(canonical: str, *blob_ids: str) -> None:
    call_command("exclude", "the-stack", canonical, "--reason", "legal", stdout=StringIO())
    repository = Repository.objects.get(canonical=canonical)
    RepositoryBlob.objects.bulk_create(
        [RepositoryBlob(repository=repository, blob_id=blob, size=10) for blob in blob_ids]
    )


def changes(client, version, since) -> list[dict]:
    response = client.get(f"/api/v1/datasets/the-stack/releases/{version}/changes/?since={since}")
    assert response.status_code == 200
    return [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]


def test_the_blob_diff_names_added_removed_and_changed_blobs_in_id_order():
    previous = [(A, None, None), (B, "reservation:ai-txt", "data/x.csv"), (C, None, None)]
    current = [(A, None, None), (B, "reservation:ai-txt", "data/y.csv"), (D, None, None)]
    assert list(blob_changes_diff(previous, current)) == [
        {"op": "remove", "kind": "blob", "blob_id": B},
        {"op": "add", "kind": "blob", "blob_id": B, "reason": "reservation:ai-txt", "path": "data/y.csv"},
        {"op": "remove", "kind": "blob", "blob_id": C},
        {"op": "add", "kind": "blob", "blob_id": D, "reason": None, "path": None},
    ]
    assert list(blob_changes_apply(previous, blob_changes_diff(previous, current))) == current


def test_blobs_rebuilt_from_the_changes_are_the_same_bytes(tmp_path):
    (tmp_path / "old").mkdir(), (tmp_path / "new").mkdir(), (tmp_path / "rebuilt").mkdir()
    blobs_write([A, ExcludedBlob(B, "license:GPL-3.0-only", "src/x.c"), C], tmp_path / "old")
    published = blobs_write([ExcludedBlob(A, "reservation:tdmrep", "a.txt"), C, D], tmp_path / "new")
    old_rows = list(blob_rows_read(tmp_path / "old" / "blobs.parquet"))
    diff = list(blob_changes_diff(old_rows, blob_rows_read(tmp_path / "new" / "blobs.parquet")))
    rebuilt = blobs_write(blob_rows_writable(blob_changes_apply(old_rows, diff)), tmp_path / "rebuilt")
    assert rebuilt.sha256 == published.sha256 == file_info(tmp_path / "new" / "blobs.parquet", 3).sha256


def test_changes_since_carry_the_blob_changes_of_every_release(client):
    dataset_get_or_create(slug="the-stack", name="The Stack")
    excluded_with_blobs("github.com/a/one", A, B)
    release_publish(dataset_slug="the-stack")
    excluded_with_blobs("github.com/b/two", C)
    RepositoryBlob.objects.filter(blob_id=A).delete()
    release_publish(dataset_slug="the-stack")
    excluded_with_blobs("github.com/c/three", D)
    release_publish(dataset_slug="the-stack")

    rows = changes(client, 3, since=1)
    assert [(row["version"], row["op"], row.get("kind"), row.get("blob_id")) for row in rows] == [
        (2, "add", None, None),  # the repository github.com/b/two, from changes.jsonl
        (2, "remove", "blob", A),
        (2, "add", "blob", C),
        (3, "add", None, None),
        (3, "add", "blob", D),
    ]
    assert rows[0]["repository"] == "github.com/b/two" and rows[2] == {
        "version": 2,
        "op": "add",
        "kind": "blob",
        "blob_id": C,
        "reason": None,
        "path": None,
    }
    from_the_start = changes(client, 1, since=0)
    assert [row.get("blob_id") for row in from_the_start if row.get("kind") == "blob"] == [A, B]
