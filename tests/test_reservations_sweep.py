"""When reservation checks run: beat's sweep over the inventory (due ones, oldest first) and after a blob listing."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

import optout.services.reservations
from governance.celery import app as celery_app
from governance.identity import parse_repository
from governance.models import BlobListing, DatasetRepository
from governance.services import dataset_get_or_create, repository_from_ref
from optout.models import Exclusion, ReservationCheck
from optout.services import reservation_checks_due
from optout.tasks import reservations_sweep
from releases.blobs import blob_listing_run

pytestmark = pytest.mark.django_db

WHOLE = {".gitattributes": "* ai-training=false\n"}


@pytest.fixture
def dataset():
    return dataset_get_or_create(slug="the-stack", name="The Stack")[0]


@pytest.fixture
def inventory(dataset):
    """inventory("a/b", …) → the repositories, in that order, each in the dataset's inventory."""

    def add(*names):
        repositories = [repository_from_ref(ref=parse_repository(f"github.com/{name}")) for name in names]
        for repository in repositories:
            DatasetRepository.objects.create(dataset=dataset, repository=repository)
        return repositories

    return add


def checked(repository, *, ago_hours, due=True):
    now = timezone.now()
    return ReservationCheck.objects.create(
        repository=repository,
        checked_at=now - timedelta(hours=ago_hours),
        next_check_at=now - timedelta(minutes=1) if due else now + timedelta(hours=1),
    )


def test_the_sweep_sends_never_checked_repositories_first_then_the_oldest_due_checks(inventory):
    old, recent, waiting, fresh = inventory("a/old", "a/recent", "a/waiting", "a/fresh")
    checked(old, ago_hours=48)
    checked(recent, ago_hours=25)
    checked(waiting, ago_hours=30, due=False)
    assert reservation_checks_due(limit=10) == [fresh.pk, old.pk, recent.pk]


def test_the_sweep_sends_at_most_its_limit_and_claims_what_it_sends(inventory, settings):
    repositories = inventory("a/one", "a/two", "a/three")
    settings.OPTOUT_RESERVATIONS_PER_SWEEP = 2
    with mock.patch.object(optout.services.reservations, "task_send", autospec=True, return_value=True) as send:
        reservations_sweep()
        reservations_sweep()
    sent = [call.args[1] for call in send.call_args_list]
    assert sent == [repositories[0].pk, repositories[1].pk, repositories[2].pk]
    assert {call.args[0] for call in send.call_args_list} == {"optout.tasks.reservation_check_task"}
    assert ReservationCheck.objects.filter(next_check_at__gt=timezone.now()).count() == 3


def test_a_check_whose_message_was_lost_is_sent_again_once_its_lease_ends(inventory):
    (repository,) = inventory("a/one")
    assert reservation_checks_due(limit=10) == [repository.pk]
    assert reservation_checks_due(limit=10) == []
    ReservationCheck.objects.update(next_check_at=timezone.now() - timedelta(seconds=1))
    assert reservation_checks_due(limit=10) == [repository.pk]


def test_the_sweep_checks_inventory_repositories_built_on_disk(make_repository, dataset):
    repository = repository_from_ref(ref=parse_repository(make_repository("acme/lib", WHOLE).as_uri()))
    DatasetRepository.objects.create(dataset=dataset, repository=repository)
    reservations_sweep()
    assert Exclusion.objects.in_force().get().reasons == "reservation:gitattributes"
    assert ReservationCheck.objects.get().next_check_at > timezone.now() + timedelta(hours=23)


def test_an_unreachable_repository_is_due_again_after_the_retry_delay(inventory, settings):
    inventory("a/nowhere")  # github.com does not resolve in tests
    reservations_sweep()
    check = ReservationCheck.objects.get()
    assert check.error and check.failures == 1
    retry = timedelta(minutes=settings.OPTOUT_RESERVATIONS_RETRY_MINUTES)
    assert check.checked_at + retry - timedelta(seconds=5) < check.next_check_at <= check.checked_at + retry


def test_a_blob_listing_also_reads_the_repository_reservations(make_repository, django_capture_on_commit_callbacks):
    repository = repository_from_ref(ref=parse_repository(make_repository("acme/lib", WHOLE).as_uri()))
    with django_capture_on_commit_callbacks(execute=True):
        assert blob_listing_run(repository_id=repository.pk).status == BlobListing.Status.DONE
    check = ReservationCheck.objects.get(repository=repository)
    assert check.evidence["reservations"][0]["kind"] == "gitattributes"
    assert Exclusion.objects.in_force().get().reasons == "reservation:gitattributes"


def test_beat_runs_the_sweep_on_its_setting_and_drops_a_late_one(settings):
    entry = celery_app.conf.beat_schedule["optout-reservations-sweep"]
    assert entry["task"] == "optout.tasks.reservations_sweep"
    assert entry["schedule"] == timedelta(seconds=settings.OPTOUT_RESERVATIONS_SWEEP_SECONDS)
    assert entry["options"]["expires"] == entry["schedule"].total_seconds()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_sweep_and_the_check_it_sends(make_repository, dataset, worker_process):
    repository = repository_from_ref(ref=parse_repository(make_repository("acme/lib", WHOLE).as_uri()))
    DatasetRepository.objects.create(dataset=dataset, repository=repository)
    reservations_sweep.delay()
    deadline = time.monotonic() + 60
    while not ReservationCheck.objects.filter(repository=repository, checked_at__isnull=False).exists():
        assert time.monotonic() < deadline, "the worker did not check the repository within 60 s"
        time.sleep(0.2)
    assert Exclusion.objects.in_force().get(repository=repository).reasons == "reservation:gitattributes"
