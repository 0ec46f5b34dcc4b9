"""The request lifecycle (optout/models.py REQUEST_TRANSITIONS): every transition, tried from every state."""

import itertools
import secrets

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from governance.exceptions import GovernanceError
from optout.models import REQUEST_TRANSITIONS, OptOutRequest, RequestStateError

pytestmark = pytest.mark.django_db

S = OptOutRequest.State
OPEN_BEFORE_RELEASE = {S.AWAITING_EMAIL, S.AWAITING_PROOF, S.VERIFIED, S.IN_REVIEW, S.ACTIVE}

# The specification, written out independently of the table: from which states each step is legal, and where it
# leads (None: the state stays, the action is only allowed).
EXPECTED = {
    "confirm": ({S.AWAITING_EMAIL}, S.AWAITING_PROOF),
    "proof_verified": ({S.AWAITING_PROOF}, S.VERIFIED),
    "review": ({S.VERIFIED}, S.IN_REVIEW),
    "approve_automatically": ({S.VERIFIED}, S.ACTIVE),
    "approve": ({S.IN_REVIEW}, S.ACTIVE),
    "reject": ({S.AWAITING_PROOF, S.VERIFIED, S.IN_REVIEW}, S.REJECTED),
    "withdraw": (OPEN_BEFORE_RELEASE, S.WITHDRAWN),
    "confirmation_expire": ({S.AWAITING_EMAIL}, S.EXPIRED),
    "proof_expire": ({S.AWAITING_PROOF}, S.EXPIRED),
    "apply": ({S.ACTIVE}, S.APPLIED),
    "reinclude": ({S.APPLIED}, S.WITHDRAWN),
    "import_revoke": ({S.ACTIVE, S.APPLIED}, S.WITHDRAWN),  # an imported record its registry dropped
    "import_restore": ({S.WITHDRAWN}, S.ACTIVE),  # and listed again
    "proofs_check": ({S.AWAITING_PROOF, S.VERIFIED, S.IN_REVIEW, S.ACTIVE}, None),
    "exclusion_extend": ({S.ACTIVE, S.APPLIED}, None),
    "reinclusion_ask": ({S.APPLIED}, None),
}
PAIRS = list(itertools.product(S.values, sorted(EXPECTED)))


def request_in(state: str) -> OptOutRequest:
    return OptOutRequest.objects.create(state=state, proof_token=f"dataset-opt-out-{secrets.token_urlsafe(12)}")


def stored(request: OptOutRequest) -> dict:
    return model_to_dict(OptOutRequest.objects.get(pk=request.pk), exclude=["datasets"])


def test_the_table_names_every_transition_of_the_specification_and_no_other():
    assert set(REQUEST_TRANSITIONS) == set(EXPECTED)


def test_every_state_a_transition_names_is_a_state_of_the_model():
    for transition in REQUEST_TRANSITIONS.values():
        assert set(transition.sources) <= set(S.values)
        assert transition.target is None or transition.target in S.values


@pytest.mark.parametrize(("state", "name"), PAIRS)
def test_a_transition_is_allowed_exactly_from_the_states_the_table_names(state, name):
    sources, target = EXPECTED[name]
    request = request_in(state)
    assert request.may(name) is (state in sources)
    assert (state in OptOutRequest.states_allowing(name)) is (state in sources)
    if state not in sources:
        before = stored(request)
        with pytest.raises(RequestStateError):
            if target is None:
                request.require(name)
            else:
                request.transition(name, closed_at=timezone.now())
        assert request.state == state
        assert request.closed_at is None
        assert stored(request) == before
    elif target is None:
        request.require(name)
        assert stored(request)["state"] == state
    else:
        now = timezone.now()
        request.transition(name, closed_at=now)
        assert (request.state, request.closed_at) == (target, now)
        assert (stored(request)["state"], stored(request)["closed_at"]) == (target, now)


def test_a_refused_transition_is_a_governance_error_that_says_why():
    request = request_in(S.WITHDRAWN)
    with pytest.raises(GovernanceError, match=rf"^Request {request.pk} is withdrawn, not in review\.$"):
        request.transition("approve")


def test_withdrawing_an_applied_request_points_to_re_inclusion():
    request = request_in(S.APPLIED)
    with pytest.raises(RequestStateError, match=r're-inclusion needs a fresh proof \("Ask to re-include"'):
        request.transition("withdraw")


def test_withdrawing_a_closed_request_says_it_is_closed_already():
    request = request_in(S.REJECTED)
    with pytest.raises(RequestStateError, match=r"^This request is already rejected\.$"):
        request.transition("withdraw")


def test_an_action_that_keeps_the_state_cannot_be_taken_as_a_transition():
    request = request_in(S.ACTIVE)
    with pytest.raises(ValueError, match="keeps the state"):
        request.transition("proofs_check")
    assert stored(request)["state"] == S.ACTIVE
