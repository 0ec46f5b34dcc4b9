"""Reviews hold until the evidence they saw changes (services.review_record, services.decision_apply)."""

import pytest

from audits import services
from governance.models import Dataset
from tests.review_helpers import CLUE_ONLY, EVIDENCE, digest, verdict_written

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    return Dataset.objects.create(slug="the-stack", name="The Stack")


def test_a_review_holds_while_the_evidence_is_unchanged(reviewer, dataset, unsure):
    review = services.review_record(
        decision_id=unsure.pk, decision="exclude", reason_code="incompatible", comment="", reviewer=reviewer
    )
    rescan = verdict_written(
        unsure.repository, uncertainties=[CLUE_ONLY], evidence=EVIDENCE, evidence_digest=unsure.verdict.evidence_digest
    )
    decision = services.decision_apply(dataset=dataset, verdict=rescan)
    review.refresh_from_db()
    assert decision.decision == "exclude" and decision.review == review and decision.verdict == rescan
    assert review.stale_at is None


def test_a_review_goes_stale_and_the_verdict_returns_to_the_queue_when_the_evidence_changes(
    client, reviewer, dataset, unsure
):
    review = services.review_record(
        decision_id=unsure.pk, decision="include", reason_code="false_positive", comment="", reviewer=reviewer
    )
    changed = verdict_written(
        unsure.repository,
        uncertainties=[CLUE_ONLY, {**CLUE_ONLY, "file": "COPYING"}],
        evidence=EVIDENCE,
        evidence_digest=digest("two clues"),
    )
    decision = services.decision_apply(dataset=dataset, verdict=changed)
    review.refresh_from_db()
    assert decision.decision == "needs_review" and decision.review is None
    assert review.stale_at is not None and review.stale_reason == "evidence_changed"
    client.force_login(reviewer)
    assert f'href="/review/licenses/{decision.pk}/"' in client.get("/review/licenses/").content.decode()
    history = client.get(f"/review/licenses/{decision.pk}/").content.decode()
    assert "stale" in history and "the evidence changed" in history
    replaced = client.get(f"/review/scans/{unsure.verdict.scan_id}/").content.decode()
    assert "A later scan replaced this verdict" in replaced and f'href="/review/scans/{changed.scan_id}/"' in replaced


def test_a_review_replaced_by_a_later_one_says_so_even_when_the_evidence_came_back(client, reviewer, dataset, unsure):
    first = services.review_record(
        decision_id=unsure.pk, decision="include", reason_code="false_positive", comment="", reviewer=reviewer
    )
    # The evidence changes (the first review goes stale), then a later scan finds the original evidence again.
    changed = verdict_written(unsure.repository, uncertainties=[CLUE_ONLY], evidence=EVIDENCE, evidence_digest="x")
    services.decision_apply(dataset=dataset, verdict=changed)
    back = verdict_written(
        unsure.repository, uncertainties=[CLUE_ONLY], evidence=EVIDENCE, evidence_digest=unsure.verdict.evidence_digest
    )
    decision = services.decision_apply(dataset=dataset, verdict=back)
    second = services.review_record(
        decision_id=decision.pk, decision="exclude", reason_code="incompatible", comment="", reviewer=reviewer
    )
    first.refresh_from_db()
    assert first.stale_reason == "evidence_changed" and second.stale_at is None
    third = services.review_record(
        decision_id=decision.pk, decision="include", reason_code="owner_statement", comment="", reviewer=reviewer
    )
    second.refresh_from_db()
    assert second.stale_reason == "superseded" and third.stale_at is None
    client.force_login(reviewer)
    history = client.get(f"/review/licenses/{decision.pk}/").content.decode()
    assert "the evidence changed" in history and "replaced by a later review" in history
