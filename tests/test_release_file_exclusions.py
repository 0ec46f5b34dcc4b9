"""Files excluded alone (a path reservation) reach blobs.parquet with their reason and path; the rest of their
repository stays in."""

from io import StringIO

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.utils import timezone

from exclusions import release_files
from exclusions.release_files import BLOBS_SCHEMA, ExcludedBlob, blobs_read, blobs_write
from governance.models import RepositoryBlob
from governance.services import dataset_get_or_create, repository_ensure
from optout.models import OptOutRequest, ReservedFile
from releases.publication import release_folder, release_publish

pytestmark = pytest.mark.django_db

RESERVED, SHARED, OWN = "1" * 40, "2" * 40, "3" * 40


def _reserved(canonical: str, path: str, blob_id: str, *, revoked=False) -> ReservedFile:
    repository = repository_ensure(text=canonical)
    request, _ = OptOutRequest.objects.get_or_create(
        origin=OptOutRequest.Origin.RESERVATION,
        namespace=canonical,
        defaults={"state": OptOutRequest.State.ACTIVE, "proof_token": f"reservation-{canonical}"},
    )
    return ReservedFile.objects.create(
        request=request,
        repository=repository,
        path=path,
        blob_id=blob_id,
        reason="reservation:gitattributes",
        since=timezone.now(),
        revoked_at=timezone.now() if revoked else None,
    )


def _blob_rows(release) -> list[dict]:
    return pq.read_table(release_folder(release) / "blobs.parquet").to_pylist()


def test_a_reserved_file_is_listed_with_its_reason_and_path_and_its_repository_is_not_excluded():
    dataset_get_or_create(slug="the-stack")
    _reserved("github.com/acme/app", "vendor/lib.py", RESERVED)
    _reserved("github.com/acme/app", "vendor/old.py", "4" * 40, revoked=True)
    release = release_publish(dataset_slug="the-stack")
    assert _blob_rows(release) == [
        {"blob_id": RESERVED, "reason": "reservation:gitattributes", "path": "vendor/lib.py"}
    ]
    assert release.counts["repositories"] == 0


def test_a_blob_both_reserved_and_in_an_excluded_repository_is_listed_once_with_its_reason():
    dataset_get_or_create(slug="the-stack")
    call_command("exclude", "the-stack", "github.com/opted/out", "--reason", "legal", stdout=StringIO())
    opted_out = repository_ensure(text="github.com/opted/out")
    RepositoryBlob.objects.bulk_create(
        [RepositoryBlob(repository=opted_out, blob_id=blob_id, size=10) for blob_id in (SHARED, OWN)]
    )
    _reserved("github.com/acme/app", "src/copied.py", SHARED)
    release = release_publish(dataset_slug="the-stack")
    assert _blob_rows(release) == [
        {"blob_id": SHARED, "reason": "reservation:gitattributes", "path": "src/copied.py"},
        {"blob_id": OWN, "reason": None, "path": None},
    ]
    assert list(blobs_read(release_folder(release) / "blobs.parquet")) == [SHARED, OWN]


def test_blobs_parquet_has_the_reason_and_path_columns_even_without_file_exclusions(tmp_path):
    blobs_write([OWN], tmp_path)
    assert pq.read_schema(tmp_path / "blobs.parquet").equals(BLOBS_SCHEMA)
    assert pq.read_table(tmp_path / "blobs.parquet").to_pylist() == [{"blob_id": OWN, "reason": None, "path": None}]


def test_rows_and_plain_ids_mix_in_one_batch_and_across_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(release_files, "BATCH_ROWS", 2)
    info = blobs_write([ExcludedBlob(RESERVED, "reservation:ai-txt", "a.py"), RESERVED, SHARED, OWN], tmp_path)
    table = pq.read_table(tmp_path / "blobs.parquet")
    assert info.rows == 3
    assert table.column("blob_id").to_pylist() == [RESERVED, SHARED, OWN]
    assert table.column("reason") == pa.chunked_array([["reservation:ai-txt"], [None, None]], pa.string())


def test_a_row_that_is_neither_an_id_nor_an_excluded_blob_is_refused(tmp_path):
    with pytest.raises(ValueError, match="blob ids must be text or ExcludedBlob rows"):
        blobs_write([OWN, ("4" * 40, "reason")], tmp_path)
