"""License scans through a real Celery worker on Redis: chunks fan out, the last one writes the verdict."""

import time

import pytest

from audits.models import BlobFinding, Scan, ScanChunk
from audits.scancode import license_text
from audits.services import scan_request
from governance.services import repository_ensure


@pytest.fixture
def small_chunks(monkeypatch):
    """Two files a chunk in the worker, so even a small repository is scanned by several tasks."""
    monkeypatch.setenv("AUDITS_CHUNK_FILES", "2")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_deep_scan_queued_on_commit_is_split_into_chunks_and_ends_with_a_verdict(
    small_chunks, worker_process, make_repository
):
    path = make_repository(
        "worker/deep",
        {
            "LICENSE": license_text("mit"),
            "README.md": "# deep\n\nA small library.\n",
            **{f"src/module_{n}.py": f"VALUE_{n} = {n}\n" for n in range(5)},
            "vendor/lib.c": "/* SPDX-License-Identifier: GPL-2.0-only */\nint lib;\n",
        },
    )
    repository = repository_ensure(text=path.as_uri())
    scan = scan_request(repository=repository, deep=True, requested_by="test")

    deadline = time.monotonic() + 180
    while Scan.objects.get(pk=scan.pk).status in {"queued", "running"}:
        assert time.monotonic() < deadline, "the worker did not finish the scan within 180 s"
        time.sleep(0.5)

    finished = Scan.objects.get(pk=scan.pk)
    assert finished.status == "done", finished.error
    assert finished.files_to_scan == finished.files_done == 8
    assert finished.files_scanned == 8 and finished.files_reused == 0
    assert ScanChunk.objects.filter(scan=finished).count() >= 4
    assert not ScanChunk.objects.filter(scan=finished).exclude(status="done").exists()
    assert BlobFinding.objects.filter(scanner_version=finished.scanner_version).count() == 8
    verdict = finished.verdict
    assert verdict.declared_license == "MIT"
    assert {"file": "vendor/lib.c", "license": "GPL-2.0-only", "scope": "file"} in verdict.conflicts
    assert finished.labels.get(path="vendor/lib.c").license_type == "non_permissive"


@pytest.mark.django_db
def test_a_second_request_while_a_scan_is_open_returns_the_open_scan(
    make_repository, django_capture_on_commit_callbacks
):
    path = make_repository("worker/once", {"README.md": "# once\n"})
    repository = repository_ensure(text=path.as_uri())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = scan_request(repository=repository, requested_by="test")
        second = scan_request(repository=repository, requested_by="test")
    assert first.pk == second.pk
    assert len(callbacks) == 1
    assert Scan.objects.filter(repository=repository).count() == 1
