"""The audits admin: a policy change reclassifies stored verdicts, scans again, finds a blob finding."""

import pytest

from audits.models import BlobFinding, DatasetDecision, Scan
from governance.models import Dataset, DatasetRepository
from tests.review_helpers import repository_named, verdict_written

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    return Dataset.objects.create(slug="the-stack", name="The Stack")


def test_a_policy_change_in_the_admin_reclassifies_stored_verdicts(client, reviewer, dataset):
    copyleft = repository_named("github.com/acme/copyleft")
    DatasetRepository.objects.create(dataset=dataset, repository=copyleft)
    verdict_written(copyleft, effective="GPL-3.0-only")
    assert DatasetDecision.objects.get(repository=copyleft).decision == "exclude"
    client.force_login(reviewer)

    response = client.post(
        f"/admin/governance/dataset/{dataset.pk}/change/",
        {
            "slug": dataset.slug,
            "name": dataset.name,
            "description": "",
            "allowed_licenses": '["MIT", "GPL-3.0-only"]',
            "no_license": "include",
            "publish_every_hours": "0",
        },
    )

    assert response.status_code == 302
    assert DatasetDecision.objects.get(repository=copyleft).decision == "include"
    assert Scan.objects.filter(repository=copyleft).count() == 1  # reclassified, not rescanned


def test_the_admin_scans_again_and_links_to_the_scan_page(client, reviewer, unsure):
    client.force_login(reviewer)
    scan = unsure.verdict.scan
    assert f'href="/review/scans/{scan.pk}/"' in client.get(f"/admin/audits/scan/{scan.pk}/change/").content.decode()

    response = client.post("/admin/audits/scan/", {"action": "deep_scan", "_selected_action": [scan.pk]})

    assert response.status_code == 302
    queued = Scan.objects.get(repository=unsure.repository, status=Scan.Status.QUEUED)
    assert queued.deep and queued.requested_by == "admin"
    client.post("/admin/audits/scan/", {"action": "scan_again", "_selected_action": [scan.pk]})
    assert Scan.objects.filter(repository=unsure.repository).count() == 2  # one open scan per repository


def test_the_admin_finds_a_blob_finding_by_its_id(client, reviewer):
    BlobFinding.objects.create(blob_id="c" * 40, scanner_version="v1", spdx_expression="MIT")
    BlobFinding.objects.create(blob_id="d" * 40, scanner_version="v1", spdx_expression="Apache-2.0")
    client.force_login(reviewer)
    page = client.get("/admin/audits/blobfinding/", {"q": "C" * 40}).content.decode()
    assert "c" * 40 in page and "d" * 40 not in page
