"""The maintainers' overview at /review/: who may see it, the queues oldest first, recent events, worker health and
what to do next. Rows are written directly, as the domain functions would leave them."""

import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from audits.models import DatasetDecision, Scan, Verdict
from governance.celery import app as celery_app
from governance.models import BlobListing, Dataset, InventoryImport, Release, Repository
from optout.models import Exclusion, ExclusionSource, OptOutRequest, RequestEvent
from releases.publication import release_publish

pytestmark = pytest.mark.django_db


def repository_named(canonical: str) -> Repository:
    host, namespace = canonical.split("/", 1)[0], canonical.rsplit("/", 1)[0]
    return Repository.objects.get_or_create(
        canonical=canonical, defaults={"host": host, "namespace": namespace, "clone_url": f"https://{canonical}.git"}
    )[0]


def in_review(days_waiting: float, email: str = "someone@example.org") -> OptOutRequest:
    request = OptOutRequest.objects.create(
        state="in_review",
        email=email,
        proof_token=f"token-{uuid.uuid4().hex}",
        verified_at=timezone.now() - timedelta(days=days_waiting),
    )
    request.verifications.create(repository=repository_named(f"github.com/owner/repo-{request.pk}"), state="verified")
    return request


def needs_review(dataset: Dataset, canonical: str, days_waiting: float) -> DatasetDecision:
    repository = repository_named(canonical)
    scan = Scan.objects.create(repository=repository, commit="b" * 40, status="done")
    verdict = Verdict.objects.create(
        scan=scan, repository=repository, commit="b" * 40, classification="unknown", evidence_digest="d"
    )
    Verdict.objects.filter(pk=verdict.pk).update(created_at=timezone.now() - timedelta(days=days_waiting))
    return DatasetDecision.objects.create(
        dataset=dataset,
        repository=repository,
        target=repository.canonical,
        verdict=verdict,
        computed="needs_review",
        decision="needs_review",
        since=timezone.now(),
    )


@pytest.fixture
def dataset():
    return Dataset.objects.create(slug="the-stack", name="The Stack")


@pytest.fixture
def inline(settings):
    settings.CELERY_BROKER_URL = ""


def page_of(client, user) -> str:
    client.force_login(user)
    response = client.get("/review/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_overview_is_only_for_maintainers(client, outsider, maintainer, django_user_model, inline):
    response = client.get("/review/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    client.force_login(outsider)
    assert client.get("/review/").status_code == 403
    license_reviewer = django_user_model.objects.create_user("licenses", "l@example.org", "licenses-password-1")
    license_reviewer.user_permissions.add(Permission.objects.get(codename="review_license"))
    assert page_of(client, license_reviewer)
    assert page_of(client, maintainer)


def test_the_opt_out_queue_moved_under_requests_and_keeps_its_name(client, maintainer):
    from django.urls import reverse

    assert reverse("optout-review-queue") == "/review/requests/"
    client.force_login(maintainer)
    assert "Opt-out requests" in client.get("/review/requests/").content.decode()


def test_each_queue_shows_its_count_the_oldest_age_and_the_oldest_items_first_with_links(
    client, maintainer, dataset, inline
):
    newest, oldest, middle = in_review(1), in_review(5), in_review(3)
    OptOutRequest.objects.create(state="awaiting_proof", proof_token="waiting")  # not in the queue
    late = needs_review(dataset, "github.com/acme/late", 1)
    early = needs_review(dataset, "github.com/acme/early", 4)

    page = page_of(client, maintainer)

    assert '<strong data-queue-count="optout">3</strong>' in page
    assert '<strong data-queue-count="licenses">2</strong>' in page
    steps = re.sub(r"<[^>]+>", "", page.split('id="next-heading"', 1)[1].split("</section>", 1)[0])
    steps = re.sub(r"[ \n]+", " ", steps)
    assert "3 requests wait for review, the oldest for 5\xa0days → Review them" in steps
    assert "2 verdicts wait for review, the oldest for 4\xa0days → Review licenses" in steps
    links = [f'href="/review/requests/{request.pk}/"' for request in (oldest, middle, newest)]
    assert page.index(links[0]) < page.index(links[1]) < page.index(links[2])
    assert page.index(f'href="/review/licenses/{early.pk}/"') < page.index(f'href="/review/licenses/{late.pk}/"')
    assert 'href="/review/requests/">Review them</a>' in page
    assert 'href="/review/licenses/">Review licenses</a>' in page


def test_nothing_to_do_says_so(client, maintainer, inline):
    page = page_of(client, maintainer)
    assert "Nothing waits for you" in page and "tasks run inline" in page


def test_worker_health_lists_failures_of_the_last_day_with_links(client, maintainer, dataset, inline):
    now = timezone.now()
    broken = Scan.objects.create(
        repository=repository_named("github.com/acme/broken"),
        status="failed",
        error="fetch failed\ndetails",
        finished_at=now,
    )
    Scan.objects.create(
        repository=repository_named("github.com/acme/old"),
        status="failed",
        error="long ago",
        finished_at=now - timedelta(days=3),
    )
    failed_import = InventoryImport.objects.create(
        dataset=dataset,
        source_name="shard.parquet",
        source_path="/x",
        status="failed",
        error="damaged",
        finished_at=now,
    )
    listing = BlobListing.objects.create(
        repository=repository_named("github.com/acme/gone"), status="failed", error="404"
    )

    page = page_of(client, maintainer)

    assert "<strong data-failed-count>3</strong>" in page
    assert f'href="/review/scans/{broken.pk}/"' in page and "fetch failed" in page and "long ago" not in page
    assert f'href="/admin/governance/inventoryimport/{failed_import.pk}/change/"' in page
    assert f'href="/admin/governance/repository/{listing.repository_id}/change/"' in page
    assert "3 background jobs failed in the last day" in page


def test_stalled_work_is_named(client, maintainer, inline):
    scan = Scan.objects.create(repository=repository_named("github.com/acme/stuck"), status="running", step="fetch")
    Scan.objects.filter(pk=scan.pk).update(heartbeat_at=timezone.now() - timedelta(hours=2))
    page = page_of(client, maintainer)
    assert "License scan of github.com/acme/stuck (running)" in page
    assert "made no progress for 30 minutes" in page


def test_the_last_publication_per_dataset_and_whether_the_registry_changed_since(client, maintainer, dataset, inline):
    source = OptOutRequest.objects.create(state="active", origin="administrative", proof_token="admin-1")
    exclusion = Exclusion.objects.create(
        scope="repository",
        repository=repository_named("github.com/acme/out"),
        target="github.com/acme/out",
        reasons="administrative",
        since=timezone.now(),
    )
    ExclusionSource.objects.create(exclusion=exclusion, request=source)
    Dataset.objects.create(slug="never", name="Never published")
    release = release_publish(dataset_slug="the-stack")
    Release.objects.filter(pk=release.pk).update(created_at=timezone.now() - timedelta(days=2))

    page = page_of(client, maintainer)
    publications = page.split('id="publications"', 1)[1]
    assert "the-stack</a></th>" in publications and "2\xa0days ago" in publications
    assert "none yet" in publications
    assert "never has exclusions but no release yet" in page and "publish_release never" in page
    assert "publish_release the-stack" not in page  # nothing changed since its release

    Exclusion.objects.filter(pk=exclusion.pk).update(revoked_at=timezone.now())
    assert "manage.py publish_release the-stack" in page_of(client, maintainer)


def test_recent_events_link_to_act_and_never_show_an_address(client, maintainer, dataset, inline):
    request = in_review(1, email="hidden-person@mail.example")
    RequestEvent.objects.create(
        request=request, kind="in_review", message="Proof verified; wrote hidden-person@mail.example"
    )
    release_publish(dataset_slug="the-stack")

    page = page_of(client, maintainer)
    events = page.split('id="activity-heading"', 1)[1]
    assert f'href="/review/requests/{request.pk}/"' in events and "Proof verified; wrote [address]" in events
    assert "Release 1 of the-stack published" in events
    assert "hidden-person" not in page and "mail.example" not in page


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")  # send_task always sends, as wanted
def test_the_broker_queue_length_is_read_from_redis(client, maintainer, settings):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://…")
    queue = f"test-overview-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        for _ in range(3):
            celery_app.send_task("governance.tasks.never_run", queue=queue)
        page = page_of(client, maintainer)
        assert "<strong data-queue-length>3</strong> messages waiting" in page and queue in page
    finally:
        with celery_app.connection_for_write(url=settings.CELERY_BROKER_URL) as connection:
            connection.default_channel.queue_purge(queue)
            connection.default_channel.queue_delete(queue)
        celery_app.conf.task_default_queue = previous


def test_an_unreachable_broker_is_named_not_an_error(client, maintainer, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    page = page_of(client, maintainer)
    assert "Broker unreachable" in page and "The broker does not answer" in page


def test_each_waiting_request_says_what_it_covers(client, maintainer, inline):
    two = in_review(2)
    two.verifications.create(repository=repository_named(f"github.com/owner/second-{two.pk}"))
    namespace = OptOutRequest.objects.create(
        state="in_review", scope="namespace", namespace="github.com/whole-org", proof_token="ns", verified_at=None
    )
    page = page_of(client, maintainer)
    queue = page.split('id="queue-optout-heading"', 1)[1].split("</section>", 1)[0]
    assert "2 repositories" in queue and "everything under github.com/whole-org" in queue
    assert f'href="/review/requests/{namespace.pk}/"' in queue


def test_the_overview_reads_the_same_number_of_queries_however_long_the_queues(client, maintainer, dataset, inline):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(maintainer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/review/").status_code == 200
        return len(captured)

    in_review(1)
    needs_review(dataset, "github.com/acme/first", 1)
    before = queries()
    for days in range(2, 7):
        request = in_review(days)
        RequestEvent.objects.create(request=request, kind="in_review", message="Proof verified")
        needs_review(dataset, f"github.com/acme/more-{days}", days)
    assert queries() == before
