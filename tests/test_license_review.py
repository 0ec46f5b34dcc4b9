"""Maintainers' license review: the queue, a decision's evidence page, reviews that hold until the evidence changes,
the scan page, and the admin. Verdicts are written directly, as a scan would leave them: no scancode here."""

import datetime
import hashlib

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from audits import services
from audits.models import DatasetDecision, RepositoryAudit, Review, Scan, Verdict
from governance.models import Dataset, DatasetRepository, Repository

pytestmark = pytest.mark.django_db

CLUE_ONLY = {
    "code": "clue_only",
    "file": "LICENSE",
    "license": "MIT",
    "detail": "LICENSE: only a clue of MIT (lines 1–3, rule mit_30.RULE, score 40)",
}
EVIDENCE = [
    {
        "file": "LICENSE",
        "role": "license",
        "noise": False,
        "blob_id": "a" * 40,
        "license": "",
        "timed_out": False,
        "error": "",
        "matches": [
            {
                "license": "MIT",
                "start_line": 1,
                "end_line": 3,
                "rule": "mit_30.RULE",
                "matcher": "3-seq",
                "score": 40.0,
                "clue": True,
            }
        ],
    },
    {
        "file": "locale/de/LC_MESSAGES/django.po",
        "role": "other",
        "noise": True,
        "blob_id": "b" * 40,
        "license": "GPL-2.0-only",
        "timed_out": False,
        "error": "",
        "matches": [
            {
                "license": "GPL-2.0-only",
                "start_line": 4,
                "end_line": 4,
                "rule": "gpl-2.0_12.RULE",
                "matcher": "2-aho",
                "score": 100.0,
                "clue": False,
            }
        ],
    },
]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def repository_named(canonical: str) -> Repository:
    host, namespace = canonical.split("/", 1)[0], canonical.rsplit("/", 1)[0]
    return Repository.objects.create(
        canonical=canonical, host=host, namespace=namespace, clone_url=f"https://{canonical}.git"
    )


def verdict_written(repository, *, effective="MIT", uncertainties=(), conflicts=(), evidence=(), evidence_digest=""):
    """What scan_finish leaves behind: a done scan, its verdict as the repository's latest, decisions refreshed."""
    commit = digest(f"{repository.canonical}{Scan.objects.count()}")[:40]
    scan = Scan.objects.create(
        repository=repository,
        commit=commit,
        status=Scan.Status.DONE,
        step="done",
        files_total=40,
        files_to_scan=4,
        files_done=4,
        files_scanned=3,
        files_reused=1,
        files_skipped={"binary": 2, "too_large": 1},
        scanner_version="scancode-toolkit 32.5.0 index:test",
        finished_at=timezone.now(),
    )
    verdict = Verdict.objects.create(
        scan=scan,
        repository=repository,
        commit=commit,
        declared_license=effective,
        effective_license=effective,
        detected_licenses=sorted({effective} - {""}),
        classification="permissive" if effective else "unknown",
        uncertainties=list(uncertainties),
        conflicts=list(conflicts),
        evidence=list(evidence),
        evidence_digest=evidence_digest or digest(repr((effective, uncertainties, conflicts))),
    )
    RepositoryAudit.objects.update_or_create(repository=repository, defaults={"verdict": verdict})
    services.decisions_refresh(repository=repository)
    return verdict


@pytest.fixture
def dataset():
    return Dataset.objects.create(slug="the-stack", name="The Stack")


@pytest.fixture
def unsure(dataset):
    """A repository whose LICENSE gave only a clue: the policy cannot decide it."""
    repository = repository_named("github.com/acme/unsure")
    DatasetRepository.objects.create(dataset=dataset, repository=repository)
    verdict_written(repository, uncertainties=[CLUE_ONLY], evidence=EVIDENCE, evidence_digest=digest("clue"))
    return DatasetDecision.objects.get(dataset=dataset, repository=repository)


@pytest.fixture
def reviewer(maintainer):
    maintainer.user_permissions.add(Permission.objects.get(codename="review_license"))
    return maintainer


def review_form(settled, /, **fields):
    return {
        "decision": "include",
        "reason_code": "license_confirmed",
        "comment": "",
        "evidence_digest": settled.verdict.evidence_digest,
        **fields,
    }


def test_the_review_pages_are_only_for_maintainers_with_the_permission(client, outsider, reviewer, unsure):
    pages = ["/review/licenses/", f"/review/licenses/{unsure.pk}/", f"/review/scans/{unsure.verdict.scan_id}/"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    client.force_login(outsider)
    for page in pages:
        assert client.get(page).status_code == 403
    assert client.post(f"/review/licenses/{unsure.pk}/", review_form(unsure)).status_code == 403
    assert not Review.objects.exists()
    client.force_login(reviewer)
    for page in pages:
        assert client.get(page).status_code == 200


def test_superusers_may_review(client, django_user_model, unsure):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "root-password-1"))
    assert client.get("/review/licenses/").status_code == 200


def test_the_queue_lists_what_needs_review_oldest_first_and_filters_by_dataset(client, reviewer, dataset, unsure):
    older = repository_named("github.com/acme/older")
    DatasetRepository.objects.create(dataset=dataset, repository=older)
    verdict_written(older, effective="", uncertainties=[{**CLUE_ONLY, "license": ""}])
    Verdict.objects.filter(repository=older).update(created_at=timezone.now() - datetime.timedelta(days=3))
    clear = repository_named("github.com/acme/clear")
    DatasetRepository.objects.create(dataset=dataset, repository=clear)
    verdict_written(clear)
    other = Dataset.objects.create(slug="other", name="Other")
    DatasetRepository.objects.create(dataset=other, repository=older)
    services.decisions_refresh(repository=older)
    client.force_login(reviewer)

    page = client.get("/review/licenses/").content.decode()

    assert "Open one, read the evidence" in page
    assert page.index("github.com/acme/older") < page.index("github.com/acme/unsure")
    assert "github.com/acme/clear" not in page
    assert "only a clue of MIT" in page and "3\xa0days" in page
    assert "<strong>3</strong>" in page  # older twice (two datasets) and unsure
    filtered = client.get("/review/licenses/", {"dataset": "other"}).content.decode()
    assert "github.com/acme/older" in filtered and "github.com/acme/unsure" not in filtered


def test_the_opt_out_queue_links_to_the_license_queue_with_its_count(client, reviewer, unsure):
    client.force_login(reviewer)
    page = client.get("/review/requests/").content.decode()
    assert 'href="/review/licenses/"' in page and "<strong>1</strong> waiting" in page


def test_the_decision_page_shows_the_evidence_and_why_it_is_unsure(client, reviewer, unsure):
    client.force_login(reviewer)
    page = client.get(f"/review/licenses/{unsure.pk}/").content.decode()
    assert "Why it needs a person" in page and "only a clue of MIT" in page
    assert "<code>mit_30.RULE</code>" in page and "1–3" in page and ">40<" in page and "clue" in page
    assert "locale/de/LC_MESSAGES/django.po" in page and "<strong>ignored</strong>" in page
    assert f'href="/review/scans/{unsure.verdict.scan_id}/"' in page
    assert "Nobody has reviewed" in page and "@" not in page.split("<main", 1)[1].split("</main>")[0]


def test_a_review_settles_the_decision_and_records_who_when_and_why(client, reviewer, unsure):
    client.force_login(reviewer)
    response = client.post(
        f"/review/licenses/{unsure.pk}/", review_form(unsure, decision="include", comment="MIT, shortened")
    )
    assert response.status_code == 302 and response["Location"] == "/review/licenses/"
    unsure.refresh_from_db()
    review = Review.objects.get()
    assert unsure.decision == "include" and unsure.computed == "needs_review" and unsure.review == review
    assert review.reviewer == reviewer and review.reason_code == "license_confirmed"
    assert review.comment == "MIT, shortened" and review.evidence_digest == unsure.verdict.evidence_digest
    assert timezone.now() - review.created_at < datetime.timedelta(minutes=1)
    queue = client.get("/review/licenses/").content.decode()
    assert "github.com/acme/unsure is now “include”" in queue and f"/review/licenses/{unsure.pk}/" not in queue
    history = client.get(f"/review/licenses/{unsure.pk}/").content.decode()
    assert "maintainer" in history and "in force" in history and "MIT, shortened" in history


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason_code": "because"}, "Select a valid choice"),
        ({"reason_code": "other", "comment": "  "}, "say why in the comment"),
        ({"decision": "needs_review"}, "Select a valid choice"),
        ({"evidence_digest": "0" * 64}, "changed the evidence while you were reading"),
    ],
)
def test_bad_review_input_is_named_and_changes_nothing(client, reviewer, unsure, fields, message):
    client.force_login(reviewer)
    response = client.post(f"/review/licenses/{unsure.pk}/", review_form(unsure, **fields))
    page = response.content.decode()
    assert response.status_code == 400 and message in page
    # Sent back with the evidence on the page, so that reading it again and resubmitting works.
    assert f'name="evidence_digest" value="{unsure.verdict.evidence_digest}"' in page
    unsure.refresh_from_db()
    assert unsure.decision == "needs_review" and unsure.review is None and not Review.objects.exists()


def test_a_review_holds_while_the_evidence_is_unchanged(reviewer, dataset, unsure):
    review = services.review_record(
        decision_id=unsure.pk, decision="exclude", reason_code="incompatible", comment="", reviewer=reviewer
    )
    rescan = verdict_written(
        unsure.repository, uncertainties=[CLUE_ONLY], evidence=EVIDENCE, evidence_digest=unsure.verdict.evidence_digest
    )
    decision = services.decision_apply(dataset=dataset, verdict=rescan)
    review.refresh_from_db()
    assert decision.decision == "exclude" and decision.review == review and decision.verdict == rescan
    assert review.stale_at is None


def test_a_review_goes_stale_and_the_verdict_returns_to_the_queue_when_the_evidence_changes(
    client, reviewer, dataset, unsure
):
    review = services.review_record(
        decision_id=unsure.pk, decision="include", reason_code="false_positive", comment="", reviewer=reviewer
    )
    changed = verdict_written(
        unsure.repository,
        uncertainties=[CLUE_ONLY, {**CLUE_ONLY, "file": "COPYING"}],
        evidence=EVIDENCE,
        evidence_digest=digest("two clues"),
    )
    decision = services.decision_apply(dataset=dataset, verdict=changed)
    review.refresh_from_db()
    assert decision.decision == "needs_review" and decision.review is None
    assert review.stale_at is not None and review.stale_reason == "evidence_changed"
    client.force_login(reviewer)
    assert f'href="/review/licenses/{decision.pk}/"' in client.get("/review/licenses/").content.decode()
    history = client.get(f"/review/licenses/{decision.pk}/").content.decode()
    assert "stale" in history and "the evidence changed" in history
    replaced = client.get(f"/review/scans/{unsure.verdict.scan_id}/").content.decode()
    assert "A later scan replaced this verdict" in replaced and f'href="/review/scans/{changed.scan_id}/"' in replaced


def test_a_review_replaced_by_a_later_one_says_so_even_when_the_evidence_came_back(client, reviewer, dataset, unsure):
    first = services.review_record(
        decision_id=unsure.pk, decision="include", reason_code="false_positive", comment="", reviewer=reviewer
    )
    # The evidence changes (the first review goes stale), then a later scan finds the original evidence again.
    changed = verdict_written(unsure.repository, uncertainties=[CLUE_ONLY], evidence=EVIDENCE, evidence_digest="x")
    services.decision_apply(dataset=dataset, verdict=changed)
    back = verdict_written(
        unsure.repository, uncertainties=[CLUE_ONLY], evidence=EVIDENCE, evidence_digest=unsure.verdict.evidence_digest
    )
    decision = services.decision_apply(dataset=dataset, verdict=back)
    second = services.review_record(
        decision_id=decision.pk, decision="exclude", reason_code="incompatible", comment="", reviewer=reviewer
    )
    first.refresh_from_db()
    assert first.stale_reason == "evidence_changed" and second.stale_at is None
    third = services.review_record(
        decision_id=decision.pk, decision="include", reason_code="owner_statement", comment="", reviewer=reviewer
    )
    second.refresh_from_db()
    assert second.stale_reason == "superseded" and third.stale_at is None
    client.force_login(reviewer)
    history = client.get(f"/review/licenses/{decision.pk}/").content.decode()
    assert "the evidence changed" in history and "replaced by a later review" in history


def test_the_scan_page_shows_progress_and_answers_json_for_its_script(client, reviewer, unsure):
    scan = unsure.verdict.scan
    client.force_login(reviewer)
    page = client.get(f"/review/scans/{scan.pk}/").content.decode()
    assert '<progress id="scan-progress" max="4" value="4"' in page
    assert "2 binary" in page and "1 too_large" in page and scan.commit in page
    assert "scan-progress.js" not in page  # done: nothing to follow
    assert f'href="/review/licenses/{unsure.pk}/"' in page

    running = Scan.objects.create(
        repository=repository_named("github.com/acme/running"),
        status=Scan.Status.RUNNING,
        step="scan_key_files",
        files_to_scan=10,
        files_done=3,
        files_scanned=2,
        files_reused=1,
    )
    page = client.get(f"/review/scans/{running.pk}/").content.decode()
    assert '<progress id="scan-progress" max="10" value="3"' in page and "scan-progress.js" in page
    assert client.get(f"/review/scans/{running.pk}/", {"format": "json"}).json() == {
        "status": "running",
        "step": "scan_key_files",
        "files_done": 3,
        "files_to_scan": 10,
        "files_scanned": 2,
        "files_reused": 1,
    }


def test_a_policy_change_in_the_admin_reclassifies_stored_verdicts(client, reviewer, dataset):
    copyleft = repository_named("github.com/acme/copyleft")
    DatasetRepository.objects.create(dataset=dataset, repository=copyleft)
    verdict_written(copyleft, effective="GPL-3.0-only")
    assert DatasetDecision.objects.get(repository=copyleft).decision == "exclude"
    client.force_login(reviewer)

    response = client.post(
        f"/admin/governance/dataset/{dataset.pk}/change/",
        {
            "slug": dataset.slug,
            "name": dataset.name,
            "description": "",
            "allowed_licenses": '["MIT", "GPL-3.0-only"]',
            "no_license": "include",
            "publish_every_hours": "0",
        },
    )

    assert response.status_code == 302
    assert DatasetDecision.objects.get(repository=copyleft).decision == "include"
    assert Scan.objects.filter(repository=copyleft).count() == 1  # reclassified, not rescanned


def test_the_admin_scans_again_and_links_to_the_scan_page(client, reviewer, unsure):
    client.force_login(reviewer)
    scan = unsure.verdict.scan
    assert f'href="/review/scans/{scan.pk}/"' in client.get(f"/admin/audits/scan/{scan.pk}/change/").content.decode()

    response = client.post("/admin/audits/scan/", {"action": "deep_scan", "_selected_action": [scan.pk]})

    assert response.status_code == 302
    queued = Scan.objects.get(repository=unsure.repository, status=Scan.Status.QUEUED)
    assert queued.deep and queued.requested_by == "admin"
    client.post("/admin/audits/scan/", {"action": "scan_again", "_selected_action": [scan.pk]})
    assert Scan.objects.filter(repository=unsure.repository).count() == 2  # one open scan per repository


def test_the_admin_finds_a_blob_finding_by_its_id(client, reviewer):
    from audits.models import BlobFinding

    BlobFinding.objects.create(blob_id="c" * 40, scanner_version="v1", spdx_expression="MIT")
    BlobFinding.objects.create(blob_id="d" * 40, scanner_version="v1", spdx_expression="Apache-2.0")
    client.force_login(reviewer)
    page = client.get("/admin/audits/blobfinding/", {"q": "C" * 40}).content.decode()
    assert "c" * 40 in page and "d" * 40 not in page


@pytest.mark.django_db(transaction=True)
def test_the_scan_page_moves_its_progress_bar_and_shows_the_verdict_when_done(
    live_server, browser_page, client, reviewer
):
    scan = Scan.objects.create(
        repository=repository_named("github.com/acme/live"), status=Scan.Status.RUNNING, step="list", files_to_scan=8
    )
    client.force_login(reviewer)
    session = client.cookies["sessionid"]
    browser_page.context.add_cookies([{"name": "sessionid", "value": session.value, "url": live_server.url}])
    browser_page.goto(f"{live_server.url}/review/scans/{scan.pk}/")
    bar = browser_page.locator("#scan-progress")
    assert bar.get_attribute("value") == "0"

    Scan.objects.filter(pk=scan.pk).update(files_done=5, files_scanned=4, files_reused=1, step="scan_key_files")
    browser_page.wait_for_function("document.getElementById('scan-progress').value === 5")
    assert browser_page.locator("#scan-step").inner_text() == "scan_key_files"

    Scan.objects.filter(pk=scan.pk).update(files_done=8, status=Scan.Status.DONE, step="done")
    browser_page.get_by_text("Done", exact=True).wait_for()
    assert bar.get_attribute("value") == "8"
