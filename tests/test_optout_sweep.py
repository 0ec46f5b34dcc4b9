"""The periodic sweep queues one verification task per request, however many of its proofs are due."""

from unittest import mock

import pytest
from django.utils import timezone

from optout import services, tasks
from optout.models import Verification
from tests.optout_helpers import file_and_confirm

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_request_with_several_due_proofs_is_swept_once(make_repository):
    paths = [make_repository(f"alice/r{number}", {"a": str(number)}).as_uri() for number in range(3)]
    request = file_and_confirm(repositories=paths).request
    other = file_and_confirm(repositories=paths[:1], email="other@example.org").request
    Verification.objects.update(next_check_at=timezone.now())
    assert Verification.objects.filter(request=request).count() == 3
    assert sorted(services.verifications_due()) == sorted([request.pk, other.pk])
    with mock.patch.object(tasks.optout_request_verify_task, "apply_async", autospec=True) as queued:
        tasks.verification_sweep()
    assert sorted(call.kwargs["args"][0] for call in queued.call_args_list) == sorted([request.pk, other.pk])
