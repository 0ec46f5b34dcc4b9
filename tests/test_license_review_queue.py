"""The license review queue: who may see the review pages, what waits in the queue and in which order."""

import datetime

import pytest
from django.utils import timezone

from audits import services
from audits.models import Review, Verdict
from governance.models import Dataset, DatasetRepository
from tests.review_helpers import (
    CLUE_ONLY,
    repository_named,
    review_form,
    verdict_written,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    return Dataset.objects.create(slug="the-stack", name="The Stack")


def test_the_review_pages_are_only_for_maintainers_with_the_permission(client, outsider, reviewer, unsure):
    pages = ["/review/licenses/", f"/review/licenses/{unsure.pk}/", f"/review/scans/{unsure.verdict.scan_id}/"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    client.force_login(outsider)
    for page in pages:
        assert client.get(page).status_code == 403
    assert client.post(f"/review/licenses/{unsure.pk}/", review_form(unsure)).status_code == 403
    assert not Review.objects.exists()
    client.force_login(reviewer)
    for page in pages:
        assert client.get(page).status_code == 200


def test_superusers_may_review(client, django_user_model, unsure):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "root-password-1"))
    assert client.get("/review/licenses/").status_code == 200


def test_the_queue_lists_what_needs_review_oldest_first_and_filters_by_dataset(client, reviewer, dataset, unsure):
    older = repository_named("github.com/acme/older")
    DatasetRepository.objects.create(dataset=dataset, repository=older)
    verdict_written(older, effective="", uncertainties=[{**CLUE_ONLY, "license": ""}])
    Verdict.objects.filter(repository=older).update(created_at=timezone.now() - datetime.timedelta(days=3))
    clear = repository_named("github.com/acme/clear")
    DatasetRepository.objects.create(dataset=dataset, repository=clear)
    verdict_written(clear)
    other = Dataset.objects.create(slug="other", name="Other")
    DatasetRepository.objects.create(dataset=other, repository=older)
    services.decisions_refresh(repository=older)
    client.force_login(reviewer)

    page = client.get("/review/licenses/").content.decode()

    assert "Open one, read the evidence" in page
    assert page.index("github.com/acme/older") < page.index("github.com/acme/unsure")
    assert "github.com/acme/clear" not in page
    assert "only a clue of MIT" in page and "3\xa0days" in page
    assert "<strong>3</strong>" in page  # older twice (two datasets) and unsure
    filtered = client.get("/review/licenses/", {"dataset": "other"}).content.decode()
    assert "github.com/acme/older" in filtered and "github.com/acme/unsure" not in filtered


def test_the_opt_out_queue_links_to_the_license_queue_with_its_count(client, reviewer, unsure):
    client.force_login(reviewer)
    page = client.get("/review/requests/").content.decode()
    assert 'href="/review/licenses/"' in page and "<strong>1</strong> waiting" in page
