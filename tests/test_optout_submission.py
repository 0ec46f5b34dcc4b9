"""The requester's side of a request (optout/services/submission.py): filing, confirming, withdrawing."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from governance.exceptions import GovernanceError
from optout import services
from optout.models import Exclusion, ExclusionSource, OptOutRequest, Verification
from optout.ratelimits import RateLimited
from optout.targets import repositories_preview
from tests.optout_helpers import commit_proof, file_and_confirm, outbox_to, verify_all

# Mails and tasks leave on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

State = OptOutRequest.State


def test_preview_merges_duplicates_and_names_each_unreadable_line():
    preview = repositories_preview(
        "https://github.com/Psf/Requests.git\n"
        "# a comment\n"
        "\n"
        "- git@github.com:psf/requests.git\n"
        "Please remove my code\n"
        "* pallets/flask\n"
        "https://user:pw@github.com/a/b\n",
        limit=1000,
    )
    assert [ref.canonical for ref in preview.repositories] == ["github.com/psf/requests", "github.com/pallets/flask"]
    assert preview.duplicates == [(4, "git@github.com:psf/requests.git", "github.com/psf/requests")]
    assert [problem.line for problem in preview.problems] == [5, 7]
    assert "pw" not in preview.problems[1].message
    assert not preview.is_valid


def test_preview_flags_lists_over_the_limit():
    preview = repositories_preview("\n".join(f"o/r{n}" for n in range(6)), limit=5)
    assert preview.too_many and not preview.is_valid


def test_a_submission_waits_for_email_and_mails_a_single_use_link(repo):
    submission = services.optout_request_submit(
        email="alice@example.org",
        scope="repositories",
        repositories_text=repo,
        reason="private words",
        ip="203.0.113.1",
    )
    request = submission.request
    assert request.state == State.AWAITING_EMAIL
    assert request.verifications.get().state == Verification.State.PENDING
    assert request.verifications.get().next_check_at is None  # nothing is checked before confirmation
    [message] = mail.outbox
    assert message.to == ["alice@example.org"] and submission.confirm_token in message.body
    assert message.subject == "Confirm your opt-out request"
    assert request.confirm_token_hash and submission.confirm_token not in request.confirm_token_hash
    assert request.submitted_ip_hash and "203.0.113.1" not in request.submitted_ip_hash


def test_confirming_opens_the_status_page_and_mails_its_link(repo):
    confirmation = file_and_confirm(repositories=[repo], email="alice@example.org")
    request = OptOutRequest.objects.get(pk=confirmation.request.pk)
    assert request.state == State.AWAITING_PROOF and request.confirmed_at
    assert request.proof_deadline - request.confirmed_at == timedelta(days=14)
    assert services.optout_request_by_status_token(token=confirmation.status_token) == request
    status_mail = outbox_to("alice@example.org")[-1]
    assert confirmation.status_token in status_mail.body and request.proof_token in status_mail.body


def test_a_confirmation_link_works_only_once(repo):
    submission = services.optout_request_submit(email="a@example.org", scope="repositories", repositories_text=repo)
    services.optout_request_confirm(token=submission.confirm_token)
    with pytest.raises(GovernanceError, match="already used"):
        services.optout_request_confirm(token=submission.confirm_token)


def test_an_expired_confirmation_link_is_refused(repo):
    submission = services.optout_request_submit(email="a@example.org", scope="repositories", repositories_text=repo)
    OptOutRequest.objects.update(confirm_expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(GovernanceError, match="expired"):
        services.optout_request_confirm(token=submission.confirm_token)


def test_an_unknown_status_link_is_refused():
    with pytest.raises(GovernanceError, match="No request has this status link"):
        services.optout_request_by_status_token(token="guess")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address"}, "not an e-mail address"),
        ({"email": "a@example.org\nBcc: victim@example.org"}, "not an e-mail address"),
        ({"repositories_text": "github.com/a/b\nftp://x.org/a/b"}, "Line 2 is not a repository"),
        ({"repositories_text": "  \n# nothing\n"}, "at least one repository"),
        ({"reason": "x" * 2001}, "under 2,000"),
        ({"dataset_slugs": ["nope"]}, "Unknown dataset 'nope'"),
        ({"scope": "everything"}, "Choose what to opt out"),
        ({"scope": "namespace", "namespace": "github.com/acme", "proof_repository": "github.com/other/x"}, "not under"),
    ],
)
def test_bad_submissions_are_refused_with_a_reason_and_file_nothing(fields, message):
    values = {"email": "a@example.org", "scope": "repositories", "repositories_text": "github.com/a/b", **fields}
    with pytest.raises(GovernanceError, match=message):
        services.optout_request_submit(**values)
    assert not OptOutRequest.objects.exists() and not mail.outbox


def test_one_address_cannot_flood_with_confirmation_mails(settings):
    settings.OPTOUT_SUBMISSIONS_PER_EMAIL_PER_DAY = 2
    for number in range(2):
        services.optout_request_submit(
            email="victim@example.org", scope="repositories", repositories_text=f"o/r{number}", ip=f"192.0.2.{number}"
        )
    with pytest.raises(RateLimited, match="this e-mail address. Please try again in"):
        services.optout_request_submit(email="Victim@Example.org", scope="repositories", repositories_text="o/r9")
    assert len(mail.outbox) == 2


def test_one_network_address_cannot_submit_without_limit(settings):
    settings.OPTOUT_SUBMISSIONS_PER_IP_PER_HOUR = 3
    for number in range(3):
        services.optout_request_submit(
            email=f"a{number}@example.org", scope="repositories", repositories_text="o/r", ip="198.51.100.1"
        )
    with pytest.raises(RateLimited, match="from your network") as refused:
        services.optout_request_submit(
            email="z@example.org", scope="repositories", repositories_text="o/r", ip="198.51.100.1"
        )
    assert timedelta(minutes=59) < refused.value.retry_after <= timedelta(hours=1)
    services.optout_request_submit(
        email="z@example.org", scope="repositories", repositories_text="o/r", ip="198.51.100.2"
    )


def test_withdrawing_lifts_an_exclusion_only_this_request_holds(repo, make_repository):
    request = file_and_confirm(repositories=[repo]).request
    commit_proof(make_repository, "alice/widgets", request.proof_token)
    verify_all(request)
    services.optout_request_withdraw(request=request)
    assert OptOutRequest.objects.get(pk=request.pk).state == State.WITHDRAWN
    exclusion = Exclusion.objects.get()
    assert exclusion.revoked_at is not None  # kept, with the time it stopped
    assert ExclusionSource.objects.get().revoked_at is not None
    with pytest.raises(GovernanceError, match="already withdrawn"):
        services.optout_request_withdraw(request=request)


def test_one_repository_opted_out_twice_is_one_exclusion_with_two_sources(repo, make_repository):
    first = file_and_confirm(repositories=[repo], email="one@example.org").request
    second = file_and_confirm(repositories=[repo], email="two@example.org", ip="192.0.2.77").request
    commit_proof(make_repository, "alice/widgets", first.proof_token)
    verify_all(first)
    commit_proof(make_repository, "alice/widgets", second.proof_token)
    verify_all(second)
    exclusion = Exclusion.objects.get()
    assert exclusion.sources.count() == 2

    services.optout_request_withdraw(request=first)
    exclusion.refresh_from_db()
    assert exclusion.is_active and exclusion.sources.filter(revoked_at__isnull=True).get().request == second


def test_an_applied_request_cannot_be_withdrawn_without_a_fresh_proof(repo):
    request = file_and_confirm(repositories=[repo]).request
    OptOutRequest.objects.filter(pk=request.pk).update(state=State.APPLIED)
    with pytest.raises(GovernanceError, match="fresh proof"):
        services.optout_request_withdraw(request=OptOutRequest.objects.get(pk=request.pk))
