"""governance/celery.py's routing: proof checks, "Verify now" and scans each land in their own queue on Redis."""

import json
import uuid

import pytest
import redis

from audits.tasks import rescans_sweep, scan_chunk_task, scan_task
from governance.celery import app as celery_app
from governance.tasks import inventory_import_task
from optout import services
from optout.tasks import (
    optout_request_reinclusion_task,
    optout_request_verify_task,
    reservation_check_task,
    reservations_sweep,
    verification_check_task,
)
from releases.tasks import blob_listing_task, release_publish_task
from tests.optout_helpers import file_and_confirm


@pytest.fixture
def queues(settings):
    """Queues of this test's own on the test broker, and tasks sent there instead of run inline."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    names = {
        "default": prefix,
        "proofs": f"{prefix}-proofs",
        "proofs-now": f"{prefix}-proofs-now",
        "scans": f"{prefix}-scans",
    }
    settings.PROOF_CHECKS_QUEUE, settings.PROOF_CHECKS_NOW_QUEUE = names["proofs"], names["proofs-now"]
    settings.SCANS_QUEUE = names["scans"]
    previous_default = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = names["default"]
    celery_app.conf.task_always_eager = False  # the autouse fixture puts it back
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield {key: QueueOnRedis(client, name) for key, name in names.items()}
    celery_app.conf.task_default_queue = previous_default
    client.delete(*names.values())


class QueueOnRedis:
    """A Celery queue as kombu keeps it on Redis: a list of JSON messages."""

    def __init__(self, client, name):
        self.client, self.name = client, name

    def tasks(self) -> list[str]:
        return [json.loads(raw)["headers"]["task"] for raw in self.client.lrange(self.name, 0, -1)]


def test_proof_checks_scans_and_everything_else_each_go_to_their_own_queue(queues):
    verification_check_task.delay(1)
    optout_request_verify_task.delay(1)
    optout_request_reinclusion_task.delay(1)
    verification_check_task.delay(2, interactive=True)
    optout_request_verify_task.delay(2, interactive=True)
    scan_task.delay(1)
    scan_chunk_task.delay(1, 0)
    rescans_sweep.delay()
    blob_listing_task.delay(1)
    reservation_check_task.delay(1)
    reservations_sweep.delay()
    inventory_import_task.delay(1)
    release_publish_task.delay("default")

    assert sorted(queues["proofs"].tasks()) == [
        "optout.tasks.optout_request_reinclusion_task",
        "optout.tasks.optout_request_verify_task",
        "optout.tasks.verification_check_task",
    ]
    assert sorted(queues["proofs-now"].tasks()) == [
        "optout.tasks.optout_request_verify_task",
        "optout.tasks.verification_check_task",
    ]
    assert sorted(queues["scans"].tasks()) == [
        "audits.tasks.rescans_sweep",
        "audits.tasks.scan_chunk_task",
        "audits.tasks.scan_task",
        "governance.tasks.blob_listing_task",
        "optout.tasks.reservation_check_task",
        "optout.tasks.reservations_sweep",
    ]
    assert sorted(queues["default"].tasks()) == [
        "governance.tasks.inventory_import_task",
        "governance.tasks.release_publish_task",
    ]


@pytest.mark.django_db(transaction=True)
def test_verify_now_goes_to_the_interactive_queue_and_the_sweep_to_the_background_one(queues, make_repository):
    url = make_repository("alice/widgets", {"README.md": "# widgets\n"}).as_uri()
    request = file_and_confirm(repositories=[url]).request
    services.optout_request_verify_now(request=request, ip="192.0.2.1")
    assert queues["proofs-now"].tasks() == ["optout.tasks.optout_request_verify_task"]
    assert queues["proofs"].tasks() == [] and queues["default"].tasks() == []

    request.verifications.update(next_check_at=request.confirmed_at)  # due for the sweep
    from optout.tasks import verification_sweep

    verification_sweep.apply()  # beat's task, run here; what it queues goes to the broker
    assert queues["proofs"].tasks() == ["optout.tasks.optout_request_verify_task"]
