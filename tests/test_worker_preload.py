"""A worker loads scancode's license index before its pool forks only when it runs scans (worker_preload hooks)."""

from types import SimpleNamespace
from unittest import mock

import pytest

from governance.celery import _worker_preload


def worker_consuming(*queues: str):
    """What worker_init is sent: a worker whose app consumes these queues (-Q)."""
    return SimpleNamespace(
        app=SimpleNamespace(amqp=SimpleNamespace(queues=SimpleNamespace(consume_from=dict.fromkeys(queues))))
    )


@pytest.fixture
def index_load():
    with (
        mock.patch("audits.scancode.index_load", autospec=True) as load,
        mock.patch("governance.celery.scratch_sweep", autospec=True),
    ):
        yield load


def test_a_worker_that_runs_scans_loads_the_license_index_before_it_forks(settings, index_load):
    settings.AUDITS_PRELOAD_INDEX = True
    _worker_preload(sender=worker_consuming(settings.SCANS_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE))
    index_load.assert_called_once_with()


def test_a_worker_without_the_scans_queue_does_not_load_the_index(settings, index_load):
    settings.AUDITS_PRELOAD_INDEX = True
    _worker_preload(sender=worker_consuming(settings.PROOF_CHECKS_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE))
    index_load.assert_not_called()


def test_the_index_is_not_preloaded_when_the_setting_is_off(settings, index_load):
    settings.AUDITS_PRELOAD_INDEX = False
    _worker_preload(sender=worker_consuming(settings.SCANS_QUEUE))
    index_load.assert_not_called()
