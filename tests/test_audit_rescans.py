"""Re-scans from beat: never-scanned first, then other scanner versions, then heads that moved; bounded."""

from unittest import mock

import pytest
from django.utils import timezone

from audits import rescans
from audits.models import RepositoryAudit, Scan, Verdict
from governance.git import local_repository_commit
from governance.models import Dataset, DatasetRepository
from governance.services import repository_ensure

pytestmark = pytest.mark.django_db
VERSION = "scancode-toolkit test index:000000000000"


@pytest.fixture(autouse=True)
def scanner_version():
    with mock.patch("audits.scancode.scanner_version", autospec=True, return_value=VERSION) as patched:
        yield patched


def _in_inventory(path):
    dataset, _ = Dataset.objects.get_or_create(slug="rescans", defaults={"name": "Rescans"})
    repository = repository_ensure(text=path.as_uri())
    DatasetRepository.objects.get_or_create(dataset=dataset, repository=repository)
    return repository


def _scanned(repository, commit, *, version=VERSION):
    scan = Scan.objects.create(repository=repository, status="done", commit=commit, scanner_version=version)
    verdict = Verdict.objects.create(
        scan=scan, repository=repository, commit=commit, classification="permissive", evidence_digest="x"
    )
    RepositoryAudit.objects.update_or_create(repository=repository, defaults={"verdict": verdict})
    return verdict


def test_never_scanned_repositories_come_first_and_the_run_is_bounded(make_repository, settings):
    settings.AUDITS_RESCANS_PER_RUN = 2
    repositories = [_in_inventory(make_repository(f"r/never-{n}", {"a.txt": f"{n}\n"})) for n in range(3)]
    due = rescans.rescans_due()
    assert due == repositories[:2]


def test_a_verdict_of_another_scanner_version_is_due(make_repository):
    repository = _in_inventory(make_repository("r/old-scanner", {"a.txt": "a\n"}))
    _scanned(repository, "0" * 40, version="scancode-toolkit 31.0.0 index:111111111111")
    assert rescans.rescans_due() == [repository]


def test_a_head_that_moved_is_due_and_an_unchanged_one_is_not(make_repository):
    moving_path = make_repository("r/moving", {"a.txt": "a\n"})
    still_path = make_repository("r/still", {"a.txt": "a\n"})
    moving, still = _in_inventory(moving_path), _in_inventory(still_path)
    from governance.git import git_run

    _scanned(moving, git_run("rev-parse", "HEAD", cwd=moving_path).decode().strip())
    _scanned(still, git_run("rev-parse", "HEAD", cwd=still_path).decode().strip())
    assert rescans.rescans_due() == []

    local_repository_commit(moving_path, {"b.txt": "b\n"}, message="More")
    RepositoryAudit.objects.update(head_checked_at=None)
    assert rescans.rescans_due() == [moving]
    assert RepositoryAudit.objects.get(repository=still).head_checked_at is not None


def test_heads_checked_recently_are_not_checked_again(make_repository):
    path = make_repository("r/recent", {"a.txt": "a\n"})
    repository = _in_inventory(path)
    _scanned(repository, "f" * 40)
    RepositoryAudit.objects.filter(repository=repository).update(head_checked_at=timezone.now())
    with mock.patch("governance.git.remote_head", autospec=True) as remote_head:
        assert rescans.rescans_due() == []
    remote_head.assert_not_called()


def test_a_repository_with_an_open_scan_is_not_queued_twice(make_repository):
    repository = _in_inventory(make_repository("r/open", {"a.txt": "a\n"}))
    Scan.objects.create(repository=repository, status="running")
    assert rescans.rescans_due() == []


def test_a_deep_scan_asked_for_while_a_key_files_scan_waits_makes_it_deep(make_repository):
    from audits.services import scan_request

    repository = _in_inventory(make_repository("r/deepen", {"a.txt": "a\n"}))
    queued = Scan.objects.create(repository=repository, status="queued", deep=False)
    assert scan_request(repository=repository, deep=True) == queued
    assert Scan.objects.get(pk=queued.pk).deep is True

    Scan.objects.filter(pk=queued.pk).update(status="running", deep=False)
    running = scan_request(repository=repository, deep=True)
    assert running.pk == queued.pk and running.deep is False  # its plan is made; asked again once it is done


def test_an_unreachable_head_is_recorded_and_skipped(make_repository, tmp_path):
    path = make_repository("r/gone", {"a.txt": "a\n"})
    repository = _in_inventory(path)
    _scanned(repository, "f" * 40)
    import shutil

    shutil.rmtree(path)
    assert rescans.rescans_due() == []
    assert "could not" in RepositoryAudit.objects.get(repository=repository).head_error


def test_a_repository_whose_scan_failed_lately_waits(make_repository):
    repository = _in_inventory(make_repository("r/failing", {"a.txt": "a\n"}))
    Scan.objects.create(repository=repository, status="failed", finished_at=timezone.now(), error="unreachable")
    assert rescans.rescans_due() == []
    Scan.objects.update(finished_at=timezone.now() - timezone.timedelta(days=2))
    assert rescans.rescans_due() == [repository]


def test_a_scan_abandoned_in_its_first_steps_starts_again_and_fails_after_three_starts(make_repository):
    from audits.scanning.pipeline import scans_abandoned

    repository = _in_inventory(make_repository("r/abandoned", {"a.txt": "a\n"}))
    stale = timezone.now() - timezone.timedelta(hours=1)
    scan = Scan.objects.create(repository=repository, status="running", step="fetch", heartbeat_at=stale, starts=1)
    assert scans_abandoned() == 1
    scan.refresh_from_db()
    assert scan.status == "queued" and scan.step == ""
    Scan.objects.filter(pk=scan.pk).update(status="running", step="plan", heartbeat_at=stale, starts=3)
    assert scans_abandoned() == 1
    scan.refresh_from_db()
    assert scan.status == "failed" and "stopped during this scan 3 times" in scan.error


def test_a_scan_of_a_named_commit_reuses_its_verdict_but_does_not_count_as_a_head_check(make_repository):
    from audits.services import scan_repository
    from governance.git import git_run

    path = make_repository("r/pinned", {"a.txt": "a\n"})
    repository = _in_inventory(path)
    commit = git_run("rev-parse", "HEAD", cwd=path).decode().strip()
    _scanned(repository, commit)

    outcome = scan_repository(source=path.as_uri(), ref=commit)

    assert outcome.reused_verdict is True
    assert RepositoryAudit.objects.get(repository=repository).head_checked_at is None
