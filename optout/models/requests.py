"""Opt-out requests: the request, its lifecycle (the legal transitions, next to it), its proofs, its history."""

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q

from governance.exceptions import GovernanceError
from governance.models import Dataset, Repository


class RequestStateError(GovernanceError):
    """An action the request's state does not allow (confirming twice, approving a withdrawn request, …)."""


@dataclass(frozen=True)
class Transition:
    """One legal step of a request: from which states, to which one (None: the state stays, the action is allowed).

    `refusal` is the message when the state does not allow it, formatted with `pk` and `state` (the state's label,
    lower case); `refusals` gives a message of its own for some states.
    """

    sources: tuple[str, ...]
    target: str | None
    refusal: str
    refusals: tuple[tuple[str, str], ...] = ()

    def refusal_for(self, request: "OptOutRequest") -> str:
        message = dict(self.refusals).get(request.state, self.refusal)
        return message.format(pk=request.pk, state=request.get_state_display().lower())


class OptOutRequest(models.Model):
    class State(models.TextChoices):
        AWAITING_EMAIL = "awaiting_email", "Waiting for e-mail confirmation"
        AWAITING_PROOF = "awaiting_proof", "Waiting for proof"
        VERIFIED = "verified", "Proof verified"
        IN_REVIEW = "in_review", "In review"
        ACTIVE = "active", "Excluded"
        APPLIED = "applied", "Applied in a release"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Scope(models.TextChoices):
        REPOSITORIES = "repositories", "Listed repositories"
        NAMESPACE = "namespace", "Everything under an owner"

    class Origin(models.TextChoices):
        OWNER = "owner", "Owner's request"
        ADMINISTRATIVE = "administrative", "Administrative (e.g. legal takedown)"
        IMPORTED = "imported", "Imported from an existing registry"
        RESERVATION = "reservation", "Reservation found in the repository"

    OPEN_STATES = (State.AWAITING_EMAIL, State.AWAITING_PROOF, State.VERIFIED, State.IN_REVIEW)
    MAX_REASON_LENGTH = 2000

    origin = models.CharField(max_length=20, choices=Origin.choices, default=Origin.OWNER)
    email = models.EmailField(blank=True, help_text="Never published")
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.REPOSITORIES)
    namespace = models.CharField(max_length=1100, blank=True, help_text="host/owner, for a namespace request")
    all_datasets = models.BooleanField(default=True, help_text="Every dataset, including ones added later")
    datasets = models.ManyToManyField(Dataset, blank=True, related_name="optout_requests")
    reason = models.TextField(blank=True, max_length=MAX_REASON_LENGTH, help_text="Private: never published")
    state = models.CharField(max_length=20, choices=State.choices, default=State.AWAITING_EMAIL, db_index=True)
    proof_token = models.CharField(max_length=80, unique=True, help_text="What the owner commits as proof")
    status_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    confirm_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    confirm_expires_at = models.DateTimeField(null=True, blank=True)
    submitted_ip_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    proof_deadline = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_check_requested_at = models.DateTimeField(null=True, blank=True)
    reinclusion_token = models.CharField(
        max_length=80, blank=True, help_text="After a release applied it: the fresh proof that lifts the exclusion"
    )
    reinclusion_requested_at = models.DateTimeField(null=True, blank=True)
    check_round_started_at = models.DateTimeField(
        null=True, blank=True, help_text="When the current round of proof checks began (its time budget counts from it)"
    )
    # A lease: set when a check of the re-inclusion proof is sent, cleared when one ends; the sweep sends
    # again a check whose lease ran out (its worker died or its message was lost).
    reinclusion_check_due_at = models.DateTimeField(null=True, blank=True)
    enqueue_failed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the broker could not take its task: waiting for a worker"
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [("review_optoutrequest", "Can review opt-out requests")]
        indexes = [models.Index(fields=["email", "created_at"])]

    def __str__(self) -> str:
        return f"Request {self.pk} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @classmethod
    def states_allowing(cls, name: str) -> tuple[str, ...]:
        """The states from which the transition (or action) `name` is legal: for querysets of requests."""
        return REQUEST_TRANSITIONS[name].sources

    def may(self, name: str) -> bool:
        """Whether the request's current state allows the transition (or action) `name`."""
        return self.state in REQUEST_TRANSITIONS[name].sources

    def require(self, name: str) -> None:
        """Raise RequestStateError, saying why, unless the current state allows `name`."""
        if not self.may(name):
            raise RequestStateError(REQUEST_TRANSITIONS[name].refusal_for(self))

    def transition(self, name: str, **fields) -> None:
        """Take the legal step `name`: set the new state and `fields` together and save just them.

        Raises RequestStateError, with nothing changed in memory or in the row, when the state does not allow it.
        The caller holds the row's lock (select_for_update) when other processes may change it.
        """
        self.require(name)
        target = REQUEST_TRANSITIONS[name].target
        if target is None:
            raise ValueError(f"{name!r} keeps the state: check it with require(), there is nothing to save")
        self.state = target
        for field, value in fields.items():
            setattr(self, field, value)
        self.save(update_fields=["state", *fields])


_State = OptOutRequest.State
# The request's lifecycle in one place: every legal change of OptOutRequest.state, and the actions that only some
# states allow (target None). Services call request.transition() / require() / may() with these names.
REQUEST_TRANSITIONS: dict[str, Transition] = {
    # The requester used the confirmation link: the request waits for its proof.
    "confirm": Transition(
        sources=(_State.AWAITING_EMAIL,),
        target=_State.AWAITING_PROOF,
        refusal=(
            "This confirmation link is not valid any more: it was already used, or it was mistyped. "
            "If you confirmed before, use the status link from the second e-mail."
        ),
    ),
    # The first proof of the request was read.
    "proof_verified": Transition(
        sources=(_State.AWAITING_PROOF,),
        target=_State.VERIFIED,
        refusal="Request {pk} is {state}: it is not waiting for its first proof.",
    ),
    # Proven, and maintainers decide (OPTOUT_AUTO_APPROVE off).
    "review": Transition(
        sources=(_State.VERIFIED,),
        target=_State.IN_REVIEW,
        refusal="Request {pk} is {state}: only a verified request goes to review.",
    ),
    # Proven, and proof is enough (OPTOUT_AUTO_APPROVE on).
    "approve_automatically": Transition(
        sources=(_State.VERIFIED,),
        target=_State.ACTIVE,
        refusal="Request {pk} is {state}: only a verified request is approved on its proof.",
    ),
    "approve": Transition(
        sources=(_State.IN_REVIEW,),
        target=_State.ACTIVE,
        refusal="Request {pk} is {state}, not in review.",
    ),
    "reject": Transition(
        sources=(_State.AWAITING_PROOF, _State.VERIFIED, _State.IN_REVIEW),
        target=_State.REJECTED,
        refusal="Request {pk} is {state}: it cannot be rejected.",
    ),
    # The requester takes the request back; once a release applied it, only a fresh proof lifts it (reinclude).
    "withdraw": Transition(
        sources=(_State.AWAITING_EMAIL, _State.AWAITING_PROOF, _State.VERIFIED, _State.IN_REVIEW, _State.ACTIVE),
        target=_State.WITHDRAWN,
        refusal="This request is already {state}.",
        refusals=(
            (
                _State.APPLIED,
                "This exclusion is already applied in a published release: re-inclusion needs a fresh proof "
                '("Ask to re-include" on this page).',
            ),
        ),
    ),
    "confirmation_expire": Transition(
        sources=(_State.AWAITING_EMAIL,),
        target=_State.EXPIRED,
        refusal="Request {pk} is {state}: only an unconfirmed request expires for want of confirmation.",
    ),
    "proof_expire": Transition(
        sources=(_State.AWAITING_PROOF,),
        target=_State.EXPIRED,
        refusal="Request {pk} is {state}: only a request still waiting for its first proof expires for want of it.",
    ),
    # A build applied a release that carried the request's exclusions.
    "apply": Transition(
        sources=(_State.ACTIVE,),
        target=_State.APPLIED,
        refusal="Request {pk} is {state}: only an active request is applied by a release.",
    ),
    # The fresh proof of an applied request was found: its exclusions are lifted.
    "reinclude": Transition(
        sources=(_State.APPLIED,),
        target=_State.WITHDRAWN,
        refusal="Request {pk} is {state}: re-inclusion is for applied requests.",
    ),
    # An imported record its registry no longer lists (import_optouts --revoke-missing): its exclusions are lifted,
    # applied or not, because the registry it came from is the owner's word, not a proof kept here.
    "import_revoke": Transition(
        sources=(_State.ACTIVE, _State.APPLIED),
        target=_State.WITHDRAWN,
        refusal="Request {pk} is {state}: only an imported request in force is revoked with its record.",
    ),
    # The record came back in a later version of its registry: in force again at once, as when first imported.
    "import_restore": Transition(
        sources=(_State.WITHDRAWN,),
        target=_State.ACTIVE,
        refusal="Request {pk} is {state}: only a revoked imported request comes back with its record.",
    ),
    # Actions that keep the state.
    # Proof checks run ("Verify now", the sweep, each recorded check) while a proof can still count.
    "proofs_check": Transition(
        sources=(_State.AWAITING_PROOF, _State.VERIFIED, _State.IN_REVIEW, _State.ACTIVE),
        target=None,
        refusal="This request is {state}: there is nothing to verify.",
    ),
    # A proof read after approval takes effect at once.
    "exclusion_extend": Transition(
        sources=(_State.ACTIVE, _State.APPLIED),
        target=None,
        refusal="Request {pk} is {state}: its proofs take effect only once it is approved.",
    ),
    # Ask to lift an applied exclusion, and check its fresh proof.
    "reinclusion_ask": Transition(
        sources=(_State.APPLIED,),
        target=None,
        refusal="Re-inclusion is for applied requests; before that, withdraw the request instead.",
    ),
}


class Verification(models.Model):
    """Proof of control for one repository, or for a namespace through one repository under it."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for the proof file"
        UNREACHABLE = "unreachable", "Could not reach the repository; retrying"
        VERIFIED = "verified", "Verified"
        EXPIRED = "expired", "Expired without proof"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Method(models.TextChoices):
        PROOF_FILE = "proof_file", "Proof file committed to the default branch"
        ADMINISTRATIVE = "administrative", "Administrative decision"
        IMPORTED = "imported", "Record of an existing registry"

    WAITING_STATES = (State.PENDING, State.UNREACHABLE)

    request = models.ForeignKey(OptOutRequest, on_delete=models.CASCADE, related_name="verifications")
    repository = models.ForeignKey(
        Repository, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="What is excluded"
    )
    namespace = models.CharField(max_length=1100, blank=True, help_text="What is excluded, for a namespace")
    proof_repository = models.ForeignKey(
        Repository,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where the proof file is read (none for an administrative decision)",
    )
    proof_url = models.CharField(
        max_length=1200, blank=True, help_text="The URL the proof is read from: the one the owner submitted"
    )
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.PROOF_FILE)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    result = models.CharField(max_length=500, blank=True, help_text="The last check's outcome, as shown to the owner")
    detail = models.CharField(
        max_length=500, blank=True, help_text="Why the last check could not read the repository: maintainers only"
    )
    evidence = models.JSONField(default=dict, blank=True, help_text="commit, checked_at, url of a successful proof")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_seconds = models.FloatField(null=True, blank=True, help_text="How long the last git read took")
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    check_queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a check was queued and not yet recorded: it counts as in flight"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    enqueue_failed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the broker could not take its task: waiting for a worker"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(repository__isnull=False, namespace="") | Q(repository__isnull=True) & ~Q(namespace=""),
                name="verification_one_target",
            ),
        ]

    def __str__(self) -> str:
        return self.target

    @property
    def target(self) -> str:
        return self.repository.canonical if self.repository_id else self.namespace

    @property
    def scope(self) -> str:
        return "repository" if self.repository_id else "namespace"

    @property
    def public_state(self) -> str:
        """The state as the owner's status page shows it: a proof not read yet is awaited, whatever kept it unread
        (a closed port, a missing repository), so the page cannot be used to probe hosts."""
        return self.State.PENDING if self.state in self.WAITING_STATES else self.state

    def get_public_state_display(self) -> str:
        return self.State(self.public_state).label


class RequestEvent(models.Model):
    """Append-only history of a request, shown on its status page; never edited or deleted."""

    request = models.ForeignKey(OptOutRequest, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=1000, help_text="Shown to the requester and maintainers")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    ip_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.kind}"
