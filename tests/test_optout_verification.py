"""Proof checks (optout/services/verification.py): what a proof file does, and the limits on "Verify now"."""

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.exceptions import GovernanceError
from governance.identity import namespace_chain
from governance.services import dataset_get_or_create
from optout import services
from optout.models import Exclusion, OptOutRequest, Verification
from optout.ratelimits import RateLimited
from releases.exclusions import exclusion_reasons_among
from tests.git_http import serve_git_over_http
from tests.optout_helpers import commit_proof, file_and_confirm, verify_all

# Mails and tasks leave on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

State = OptOutRequest.State


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
    covering = exclusion_reasons_among(
        dataset=dataset_get_or_create(slug="later")[0],
        canonicals=[later_repository],
        namespaces=namespace_chain(namespace),
    )
    assert list(covering) == [((exclusion.target, "namespace"), "opt-out")]


def test_a_proof_is_read_over_http_from_a_server_on_loopback(make_repository, tmp_path):
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
