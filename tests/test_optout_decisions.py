"""A maintainer's decisions (optout/services/decisions.py, exclusions.py): approval, rejection, administrative
exclusions and the `exclude` command."""

import pytest
from django.core.management import CommandError, call_command

from governance.exceptions import GovernanceError
from governance.services import dataset_get_or_create
from optout import services
from optout.models import Exclusion, OptOutRequest, RequestEvent
from releases.exclusions import exclusion_reasons_among
from tests.optout_helpers import commit_proof, file_and_confirm, outbox_to, verify_all

# Mails and tasks leave on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

State = OptOutRequest.State


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
    covering = exclusion_reasons_among(
        dataset=dataset_get_or_create(slug="later")[0],
        canonicals=["github.com/bad-actor/anything"],
        namespaces=["github.com/bad-actor"],
    )
    assert list(covering) == [(("github.com/bad-actor", "namespace"), "administrative")]


def test_the_exclude_command_refuses_bad_input_with_a_message():
    with pytest.raises(CommandError, match="Unknown dataset"):
        call_command("exclude", "nope", "a/b", "--reason", "x")
    with pytest.raises(CommandError, match="not a git URL"):
        call_command("exclude", "all", "ftp://x.org/a/b", "--reason", "x")
