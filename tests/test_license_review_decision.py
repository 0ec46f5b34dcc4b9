"""A decision's page: its evidence, and the review form that settles it."""

import datetime

import pytest
from django.utils import timezone

from audits.models import Review
from governance.models import Dataset
from tests.review_helpers import review_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    return Dataset.objects.create(slug="the-stack", name="The Stack")


def test_the_decision_page_shows_the_evidence_and_why_it_is_unsure(client, reviewer, unsure):
    client.force_login(reviewer)
    page = client.get(f"/review/licenses/{unsure.pk}/").content.decode()
    assert "Why it needs a person" in page and "only a clue of MIT" in page
    assert "<code>mit_30.RULE</code>" in page and "1–3" in page and ">40<" in page and "clue" in page
    assert "locale/de/LC_MESSAGES/django.po" in page and "<strong>ignored</strong>" in page
    assert f'href="/review/scans/{unsure.verdict.scan_id}/"' in page
    assert "Nobody has reviewed" in page and "@" not in page.split("<main", 1)[1].split("</main>")[0]


def test_a_review_settles_the_decision_and_records_who_when_and_why(client, reviewer, unsure):
    client.force_login(reviewer)
    response = client.post(
        f"/review/licenses/{unsure.pk}/", review_form(unsure, decision="include", comment="MIT, shortened")
    )
    assert response.status_code == 302 and response["Location"] == "/review/licenses/"
    unsure.refresh_from_db()
    review = Review.objects.get()
    assert unsure.decision == "include" and unsure.computed == "needs_review" and unsure.review == review
    assert review.reviewer == reviewer and review.reason_code == "license_confirmed"
    assert review.comment == "MIT, shortened" and review.evidence_digest == unsure.verdict.evidence_digest
    assert timezone.now() - review.created_at < datetime.timedelta(minutes=1)
    queue = client.get("/review/licenses/").content.decode()
    assert "github.com/acme/unsure is now “include”" in queue and f"/review/licenses/{unsure.pk}/" not in queue
    history = client.get(f"/review/licenses/{unsure.pk}/").content.decode()
    assert "maintainer" in history and "in force" in history and "MIT, shortened" in history


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason_code": "because"}, "Select a valid choice"),
        ({"reason_code": "other", "comment": "  "}, "say why in the comment"),
        ({"decision": "needs_review"}, "Select a valid choice"),
        ({"evidence_digest": "0" * 64}, "changed the evidence while you were reading"),
    ],
)
def test_bad_review_input_is_named_and_changes_nothing(client, reviewer, unsure, fields, message):
    client.force_login(reviewer)
    response = client.post(f"/review/licenses/{unsure.pk}/", review_form(unsure, **fields))
    page = response.content.decode()
    assert response.status_code == 400 and message in page
    # Sent back with the evidence on the page, so that reading it again and resubmitting works.
    assert f'name="evidence_digest" value="{unsure.verdict.evidence_digest}"' in page
    unsure.refresh_from_db()
    assert unsure.decision == "needs_review" and unsure.review is None and not Review.objects.exists()
