"""optout/budgets.py through the domain functions: caps per host and per request, round budgets, back-off, parking.

Real parts: git repositories on disk, a tarpit on loopback (accepts, never answers), the test broker's Redis.
"""

import json
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from governance import slots
from governance.celery import app as celery_app
from optout import budgets, services
from optout.models import OptOutRequest, Verification
from tests.optout_helpers import commit_proof, file_and_confirm
from tests.tarpit import tarpit

pytestmark = pytest.mark.django_db(transaction=True)

REFUSED = "http://127.0.0.1:1/nobody/r{}.git"  # nothing listens on port 1: refused at once


@pytest.fixture
def broker_queues(settings):
    """Tasks go to the test broker, in proof queues of this test's own (not run inline); yields the Redis lists."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    settings.PROOF_CHECKS_QUEUE, settings.PROOF_CHECKS_NOW_QUEUE = f"{prefix}-proofs", f"{prefix}-proofs-now"
    celery_app.conf.task_always_eager = False  # the autouse fixture puts it back
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    def messages(queue: str) -> list[dict]:
        return [json.loads(raw) for raw in client.lrange(queue, 0, -1)]

    yield lambda: messages(settings.PROOF_CHECKS_QUEUE), lambda: messages(settings.PROOF_CHECKS_NOW_QUEUE)
    client.delete(settings.PROOF_CHECKS_QUEUE, settings.PROOF_CHECKS_NOW_QUEUE)


@pytest.fixture
def fast_timeouts(settings):
    settings.OPTOUT_GIT_TIMEOUT_SECONDS = 1


def repositories(make_repository, count: int, owner: str = "alice") -> list[str]:
    return [make_repository(f"{owner}/r{number}", {"README.md": f"{number}\n"}).as_uri() for number in range(count)]


def due_now(request: OptOutRequest, *, only=None) -> None:
    verifications = Verification.objects.filter(request=request)
    if only is not None:
        verifications = verifications.filter(proof_repository__clone_url__in=only)
    verifications.update(next_check_at=timezone.now())


def in_flight(request: OptOutRequest) -> list[int]:
    return list(request.verifications.filter(check_queued_at__isnull=False).values_list("pk", flat=True))


def test_a_request_has_at_most_its_cap_of_checks_in_flight_and_each_recorded_check_queues_the_next(
    make_repository, broker_queues, settings
):
    settings.OPTOUT_CHECKS_PER_REQUEST = 2
    proofs, _ = broker_queues
    request = file_and_confirm(repositories=repositories(make_repository, 5)).request
    due_now(request)

    services.optout_request_verify(request_id=request.pk)
    services.optout_request_verify(request_id=request.pk)  # a second round while the first checks are queued
    assert len(proofs()) == 2 and len(in_flight(request)) == 2

    first = proofs()[0]["headers"]["argsrepr"]
    services.verification_check(verification_id=int(first.strip("(,)")))  # as the worker would
    assert len(proofs()) == 3  # the recorded check queued the request's next one
    assert len(in_flight(request)) == 2
    assert request.verifications.filter(attempts=1).count() == 1


def test_a_request_stops_its_round_once_the_round_budget_is_spent(settings, fast_timeouts):
    settings.OPTOUT_CHECK_ROUND_SECONDS = 1
    with tarpit() as server:
        request = file_and_confirm(repositories=[server.url(f"o/r{n}.git") for n in range(4)]).request
        due_now(request)
        services.optout_request_verify(request_id=request.pk)  # inline: every due check is queued at once

        assert server.accepted == 1  # the first check spent the budget; the others were not run
        checked = request.verifications.filter(attempts=1)
        assert checked.count() == 1 and checked.get().state == Verification.State.UNREACHABLE
        waiting = request.verifications.filter(attempts=0)
        assert waiting.count() == 3
        assert all(v.next_check_at <= timezone.now() and v.check_queued_at is None for v in waiting)
        assert set(services.verifications_due()) == {request.pk}  # the next round takes them

        services.optout_request_verify(request_id=request.pk)  # a sweep soon after: the round is still spent
        assert server.accepted == 1

        request.refresh_from_db()
        request.check_round_started_at -= timedelta(seconds=settings.OPTOUT_CHECK_ROUND_EVERY_SECONDS)
        request.save(update_fields=["check_round_started_at"])
        services.optout_request_verify(request_id=request.pk)  # the sweep once the round is old enough
        assert server.accepted == 2 and request.verifications.filter(attempts=1).count() == 2


def test_a_host_at_its_cap_sends_the_check_back_to_the_queue_instead_of_waiting(settings, broker_queues):
    settings.OPTOUT_CHECKS_PER_HOST = 2
    settings.OPTOUT_HOST_BUSY_RETRY_SECONDS = 5
    proofs, _ = broker_queues
    with tarpit() as server:
        url = server.url("o/busy.git")
        request = file_and_confirm(repositories=[url]).request
        verification = request.verifications.get()
        request.verifications.update(check_queued_at=timezone.now())  # its message was sent
        held = [slots.slot_acquire(budgets.host_key(url), limit=2, lease_seconds=60) for _ in range(2)]
        try:
            started = time.monotonic()
            services.verification_check(verification_id=verification.pk)
            assert time.monotonic() - started < 5  # not waited for inside the worker
        finally:
            for slot in held:
                slots.slot_release(slot)
        assert server.accepted == 0
    verification.refresh_from_db()
    assert verification.attempts == 0 and verification.check_queued_at is not None  # still in flight
    [message] = proofs()
    assert message["headers"]["task"] == "optout.tasks.verification_check_task"
    assert message["headers"]["eta"]  # back in a few seconds


def test_host_keys_tell_hosts_and_ports_apart_and_count_local_paths_as_one_host():
    assert budgets.host_key("https://GitHub.com/a/b.git") == budgets.host_key("https://github.com:443/c/d")
    assert budgets.host_key("http://127.0.0.1:8001/a.git") != budgets.host_key("http://127.0.0.1:8002/a.git")
    assert budgets.host_key("file:///srv/a") == budgets.host_key("file:///srv/b")


def test_a_silent_host_and_a_refusing_one_back_off_on_one_schedule_that_reaches_hours(fast_timeouts):
    with tarpit() as server:
        slow = file_and_confirm(repositories=[server.url("o/slow.git")]).request
        refused = file_and_confirm(repositories=[REFUSED.format(0)], email="other@example.org").request
        for request in (slow, refused):
            request.verifications.update(attempts=3)  # the fourth failure in a row
            due_now(request)
            services.optout_request_verify(request_id=request.pk)
    slow_check, refused_check = slow.verifications.get(), refused.verifications.get()
    assert slow_check.state == refused_check.state == Verification.State.UNREACHABLE
    # The same wait after the same number of failures: the page cannot tell a silent port from a closed one.
    for check in (slow_check, refused_check):
        wait = check.next_check_at - check.last_checked_at
        assert wait == budgets.unreachable_backoff(3) == timedelta(hours=1)
    worded = [check.result.split(" could not be read")[1].split("Next try")[0] for check in (slow_check, refused_check)]
    assert worded[0] == worded[1]
    assert budgets.unreachable_backoff(99) == timedelta(hours=6)


def test_a_request_retries_only_its_cap_of_unreachable_repositories_until_one_answers(make_repository, settings):
    settings.OPTOUT_UNREACHABLE_RETRIED_PER_REQUEST = 2
    mine = make_repository("carol/real", {"README.md": "real\n"}).as_uri()
    gone = [REFUSED.format(n) for n in range(4)]
    request = file_and_confirm(repositories=[mine, *gone]).request
    unreachable = request.verifications.filter(proof_repository__clone_url__in=gone)
    due_now(request, only=gone)
    services.optout_request_verify(request_id=request.pk)

    assert unreachable.filter(state=Verification.State.UNREACHABLE).count() == 4
    parked = unreachable.filter(next_check_at__isnull=True)
    assert unreachable.filter(next_check_at__isnull=False).count() == 2 and parked.count() == 2
    assert all("Not retried for now" in v.result and "Verify now" in v.result for v in parked)
    unreachable.filter(next_check_at__isnull=False).update(next_check_at=timezone.now() + timedelta(hours=1))
    assert services.verifications_due() == []  # parked: nothing due

    commit_proof(make_repository, "carol/real", request.proof_token)
    due_now(request, only=[mine])
    services.optout_request_verify(request_id=request.pk)  # the reachable one proves...
    assert request.verifications.get(proof_repository__clone_url=mine).state == Verification.State.VERIFIED
    assert not unreachable.filter(next_check_at__isnull=True).exists()  # ...and the parked ones are checked again
    assert set(services.verifications_due()) == {request.pk}


def test_verify_now_sends_first_the_checks_of_hosts_that_did_not_time_out(make_repository, broker_queues, settings):
    settings.OPTOUT_CHECKS_PER_REQUEST = 2
    proofs, proofs_now = broker_queues
    urls = repositories(make_repository, 3)
    request = file_and_confirm(repositories=urls).request
    slow = request.verifications.get(proof_repository__clone_url=urls[0])
    Verification.objects.filter(pk=slow.pk).update(last_check_seconds=settings.OPTOUT_GIT_TIMEOUT_SECONDS)

    services.optout_request_verify_now(request=request, ip="192.0.2.1")
    [fan_out] = proofs_now()
    assert fan_out["headers"]["task"] == "optout.tasks.optout_request_verify_task"
    services.optout_request_verify(request_id=request.pk, interactive=True)  # what the worker does with it

    interactive = [m["headers"]["argsrepr"] for m in proofs_now() if "verification_check" in m["headers"]["task"]]
    assert len(interactive) == 2 and proofs() == []
    assert f"({slow.pk}," not in " ".join(interactive)


def test_a_copy_of_a_check_message_already_handled_reads_nothing(make_repository, broker_queues):
    proofs, _ = broker_queues
    request = file_and_confirm(repositories=repositories(make_repository, 1)).request
    due_now(request)
    services.optout_request_verify(request_id=request.pk)
    [message] = proofs()
    verification_id = int(message["headers"]["argsrepr"].strip("(,)"))

    services.verification_check(verification_id=verification_id)  # the message
    services.verification_check(verification_id=verification_id)  # a copy a sweep sent while it waited

    checked = Verification.objects.get(pk=verification_id)
    assert checked.attempts == 1 and checked.check_queued_at is None


def test_a_copy_of_a_check_message_arriving_while_the_check_runs_is_dropped(make_repository, broker_queues):
    request = file_and_confirm(repositories=repositories(make_repository, 1)).request
    due_now(request)
    services.optout_request_verify(request_id=request.pk)
    verification = request.verifications.get()
    running = budgets.check_run_acquire(verification.pk)  # another worker process is reading this repository
    try:
        services.verification_check(verification_id=verification.pk)
    finally:
        budgets.check_run_release(running)
    assert Verification.objects.get(pk=verification.pk).attempts == 0

    services.verification_check(verification_id=verification.pk)  # the message itself, once that run is over
    assert Verification.objects.get(pk=verification.pk).attempts == 1
