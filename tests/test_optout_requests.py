"""Opt-out requests through their domain functions: every transition and every refusal."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from governance.exceptions import GovernanceError
from governance.services import dataset_get_or_create
from optout import services
from optout.models import Exclusion, ExclusionSource, OptOutRequest, RequestEvent, Verification
from optout.ratelimits import RateLimited
from optout.selectors import exclusions_covering
from optout.targets import repositories_preview
from tests.optout_helpers import commit_proof, file_and_confirm, outbox_to

# Mails and tasks leave on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

State = OptOutRequest.State


@pytest.fixture
def repo(make_repository):
    """A real repository on disk with some code; returns its file:// URL."""
    path = make_repository("alice/widgets", {"README.md": "# widgets\n", "src/w.py": "print(1)\n"})
    return path.as_uri()


def verify_all(request):
    Verification.objects.filter(request=request).update(next_check_at=timezone.now())
    return services.optout_request_verify(request_id=request.pk)


# --- preview -------------------------------------------------------------------------------


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


# --- submission and confirmation -------------------------------------------------------------


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


# --- proof -------------------------------------------------------------------------------------


def test_a_committed_proof_excludes_the_repository(repo, make_repository):
    confirmation = file_and_confirm(repositories=[repo])
    request = confirmation.request
    commit_proof(make_repository, "alice/widgets", request.proof_token)

    verify_all(request)

    request.refresh_from_db()
    verification = request.verifications.get()
    assert request.state == State.ACTIVE and request.verified_at and request.decided_at
    assert verification.state == Verification.State.VERIFIED
    assert len(verification.evidence["commit"]) == 40 and verification.evidence["file"] == ".dataset-opt-out"
    exclusion = Exclusion.objects.get()
    assert exclusion.repository == verification.repository and exclusion.dataset is None and exclusion.is_active
    assert list(exclusion.sources.values_list("request_id", "reason")) == [(request.pk, "opt-out")]
    kinds = list(request.events.values_list("kind", flat=True))
    assert kinds == ["submitted", "confirmed", "proof_verified", "excluded"]


def test_a_file_without_the_token_is_not_a_proof(repo, make_repository):
    request = file_and_confirm(repositories=[repo]).request
    commit_proof(make_repository, "alice/widgets", "dataset-opt-out-someone-elses-token")
    verify_all(request)
    verification = request.verifications.get()
    assert verification.state == Verification.State.PENDING
    assert "does not hold this request's token" in verification.result
    assert not Exclusion.objects.exists()


def test_a_missing_proof_file_leaves_the_repository_pending_and_says_so(repo):
    request = file_and_confirm(repositories=[repo]).request
    verify_all(request)
    verification = request.verifications.get()
    assert verification.state == Verification.State.PENDING and "No .dataset-opt-out file" in verification.result
    assert verification.next_check_at > timezone.now() + timedelta(minutes=50)
    assert OptOutRequest.objects.get(pk=request.pk).state == State.AWAITING_PROOF


def test_an_unreachable_host_is_retried_soon_and_never_counts_as_a_failed_proof():
    request = file_and_confirm(repositories=["http://127.0.0.1:1/alice/gone.git"]).request
    verify_all(request)
    verification = request.verifications.get()
    assert verification.state == Verification.State.UNREACHABLE
    assert "could not be read" in verification.result and "connection" not in verification.result
    assert "could not be reached (the connection" in verification.detail  # the cause, for maintainers
    assert verification.next_check_at <= timezone.now() + timedelta(minutes=1, seconds=5)
    verify_all(request)
    verification.refresh_from_db()
    assert verification.attempts == 2 and verification.next_check_at > timezone.now() + timedelta(minutes=1, seconds=30)


def test_a_request_can_be_partly_verified(make_repository):
    first = make_repository("bob/one", {"a": "1"}).as_uri()
    second = make_repository("bob/two", {"a": "2"}).as_uri()
    request = file_and_confirm(repositories=[first, second]).request
    commit_proof(make_repository, "bob/one", request.proof_token)
    verify_all(request)
    states = {v.repository.canonical.rsplit("/", 1)[1]: v.state for v in request.verifications.all()}
    assert states == {"one": "verified", "two": "pending"}
    assert OptOutRequest.objects.get(pk=request.pk).state == State.ACTIVE
    assert Exclusion.objects.count() == 1

    commit_proof(make_repository, "bob/two", request.proof_token)
    verify_all(request)
    assert Exclusion.objects.count() == 2


def test_a_namespace_request_is_proven_through_one_repository_under_it(make_repository, settings):
    proof_repository = make_repository("acme/.github", {"profile/README.md": "acme\n"})
    namespace = proof_repository.parent.as_uri()
    request = file_and_confirm(
        scope="namespace", namespace=namespace, proof_repository=proof_repository.as_uri()
    ).request
    commit_proof(make_repository, "acme/.github", request.proof_token)
    verify_all(request)
    exclusion = Exclusion.objects.get()
    assert exclusion.scope == "namespace" and exclusion.namespace == namespace
    later_repository = f"{namespace}/created-later"
    assert exclusions_covering(canonical=later_repository, namespace=namespace).get() == exclusion


def test_without_auto_approval_a_maintainer_decides(repo, make_repository, settings, maintainer):
    settings.OPTOUT_AUTO_APPROVE = False
    request = file_and_confirm(repositories=[repo]).request
    commit_proof(make_repository, "alice/widgets", request.proof_token)
    verify_all(request)
    assert OptOutRequest.objects.get(pk=request.pk).state == State.IN_REVIEW and not Exclusion.objects.exists()

    services.optout_request_approve(request_id=request.pk, actor=maintainer)
    assert OptOutRequest.objects.get(pk=request.pk).state == State.ACTIVE
    assert Exclusion.objects.get().is_active
    approval = request.events.get(kind="approved")
    assert approval.actor == maintainer and approval.created_at


def test_a_rejection_is_mailed_with_its_reason(repo, make_repository, settings, maintainer):
    settings.OPTOUT_AUTO_APPROVE = False
    request = file_and_confirm(repositories=[repo], email="carol@example.org").request
    commit_proof(make_repository, "alice/widgets", request.proof_token)
    verify_all(request)
    with pytest.raises(GovernanceError, match="reason"):
        services.optout_request_reject(request_id=request.pk, actor=maintainer, reason="  ")
    services.optout_request_reject(request_id=request.pk, actor=maintainer, reason="The repository is a fork of ours.")
    assert OptOutRequest.objects.get(pk=request.pk).state == State.REJECTED
    assert "a fork of ours" in outbox_to("carol@example.org")[-1].body
    assert not Exclusion.objects.exists()
    with pytest.raises(GovernanceError, match="not in review"):
        services.optout_request_approve(request_id=request.pk, actor=maintainer)


def test_verify_now_is_throttled_per_request(repo, settings):
    settings.OPTOUT_VERIFY_INTERVAL_SECONDS = 30
    request = file_and_confirm(repositories=[repo]).request
    services.optout_request_verify_now(request=request, ip="192.0.2.9")
    request.refresh_from_db()
    with pytest.raises(GovernanceError, match="Please wait"):
        services.optout_request_verify_now(request=request, ip="192.0.2.9")


def test_verify_now_is_limited_per_network_address(make_repository, settings):
    settings.OPTOUT_VERIFY_INTERVAL_SECONDS = 0
    settings.OPTOUT_VERIFY_PER_IP_PER_HOUR = 2
    request = file_and_confirm(repositories=[make_repository("d/r", {"a": "1"}).as_uri()]).request
    for _ in range(2):
        services.optout_request_verify_now(request=OptOutRequest.objects.get(pk=request.pk), ip="192.0.2.50")
    with pytest.raises(RateLimited, match="verification requests from your network"):
        services.optout_request_verify_now(request=OptOutRequest.objects.get(pk=request.pk), ip="192.0.2.50")


# --- withdrawal and expiry ------------------------------------------------------------------------


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


# --- administrative exclusions ----------------------------------------------------------------------


def test_an_administrative_exclusion_is_recorded_like_a_request(capsys):
    dataset_get_or_create(slug="the-stack")
    call_command("exclude", "the-stack", "https://github.com/Takedown/Repo", "--reason", "DMCA notice 2026-11-01")
    exclusion = Exclusion.objects.get()
    assert exclusion.repository.canonical == "github.com/takedown/repo" and exclusion.dataset.slug == "the-stack"
    request = exclusion.sources.get().request
    assert request.origin == "administrative" and request.state == State.ACTIVE
    assert exclusion.sources.get().reason == "administrative"
    assert RequestEvent.objects.filter(request=request, kind="administrative").exists()
    assert "excluded github.com/takedown/repo" in capsys.readouterr().out


def test_an_administrative_namespace_exclusion_covers_every_repository_under_it():
    call_command("exclude", "all", "github.com/bad-actor", "--namespace", "--reason", "court order")
    assert exclusions_covering(canonical="github.com/bad-actor/anything", namespace="github.com/bad-actor").exists()


def test_the_exclude_command_refuses_bad_input_with_a_message():
    with pytest.raises(CommandError, match="Unknown dataset"):
        call_command("exclude", "nope", "a/b", "--reason", "x")
    with pytest.raises(CommandError, match="not a git URL"):
        call_command("exclude", "all", "ftp://x.org/a/b", "--reason", "x")


def test_a_proof_is_read_over_http_from_a_server_on_loopback(make_repository, tmp_path):
    from tests.git_http import serve_git_over_http

    # Named like a forge's repository directory; the clone URL of a pasted http URL ends in .git.
    path = make_repository("http-owner/lib.git", {"lib.py": "x = 1\n"})
    with serve_git_over_http(path.parent.parent) as base_url:
        request = file_and_confirm(repositories=[f"{base_url}/http-owner/lib"]).request
        commit_proof(make_repository, "http-owner/lib.git", request.proof_token)
        verify_all(request)
    verification = request.verifications.get()
    assert verification.state == Verification.State.VERIFIED, verification.result
    # A self-hosted server's port is part of its identity.
    assert verification.repository.canonical == f"127.0.0.1:{base_url.rsplit(':', 1)[1]}/http-owner/lib"
    assert Exclusion.objects.get().repository == verification.repository


def test_a_lost_check_message_is_found_again_by_the_sweep_after_its_lease(repo, monkeypatch):
    from unittest import mock

    from optout import tasks

    request = file_and_confirm(repositories=[repo]).request
    Verification.objects.update(next_check_at=timezone.now())
    with mock.patch.object(tasks.verification_check_task, "apply_async", autospec=True) as lost:
        services.optout_request_verify(request_id=request.pk)
    assert lost.call_count == 1
    assert services.verifications_due() == []  # leased: not queued twice while the message may still arrive
    Verification.objects.update(next_check_at=timezone.now() - timedelta(seconds=1))  # the lease ran out
    assert services.verifications_due() == [request.pk]
