"""The periodic sweep: one verification task per request however many of its proofs are due, lost checks sent
again after their lease, and requests that ran out of time closed (optout/services/expiry.py)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from optout import services, tasks
from optout.models import Exclusion, OptOutRequest, Verification
from tests.optout_helpers import file_and_confirm, outbox_to

# Mails and tasks leave on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

State = OptOutRequest.State


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


def test_a_proof_that_never_appears_expires_the_request_with_a_mail(repo):
    request = file_and_confirm(repositories=[repo], email="late@example.org").request
    OptOutRequest.objects.filter(pk=request.pk).update(proof_deadline=timezone.now() - timedelta(minutes=1))
    assert services.optout_requests_expire() == 1
    assert OptOutRequest.objects.get(pk=request.pk).state == State.EXPIRED
    assert request.verifications.get().state == Verification.State.EXPIRED
    assert "expired" in outbox_to("late@example.org")[-1].subject and not Exclusion.objects.exists()


def test_an_unconfirmed_request_expires_without_mailing_the_unconfirmed_address(repo):
    services.optout_request_submit(email="maybe@example.org", scope="repositories", repositories_text=repo)
    OptOutRequest.objects.update(confirm_expires_at=timezone.now() - timedelta(minutes=1))
    mail.outbox.clear()
    services.optout_requests_expire()
    assert OptOutRequest.objects.get().state == State.EXPIRED and not mail.outbox


def test_the_sweep_checks_only_confirmed_requests_that_are_due(repo, make_repository):
    services.optout_request_submit(email="u@example.org", scope="repositories", repositories_text=repo)
    confirmed = file_and_confirm(repositories=[repo], email="c@example.org").request
    assert services.verifications_due() == []
    Verification.objects.filter(request=confirmed).update(next_check_at=timezone.now())
    assert services.verifications_due() == [confirmed.pk]


def test_a_lost_check_message_is_found_again_by_the_sweep_after_its_lease(repo, monkeypatch):
    request = file_and_confirm(repositories=[repo]).request
    Verification.objects.update(next_check_at=timezone.now())
    with mock.patch.object(tasks.verification_check_task, "apply_async", autospec=True) as lost:
        services.optout_request_verify(request_id=request.pk)
    assert lost.call_count == 1
    assert services.verifications_due() == []  # leased: not queued twice while the message may still arrive
    Verification.objects.update(next_check_at=timezone.now() - timedelta(seconds=1))  # the lease ran out
    assert services.verifications_due() == [request.pk]
