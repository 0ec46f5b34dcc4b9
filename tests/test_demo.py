"""manage.py demo fills every page with data made on the spot."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from governance.git import git_run
from governance.models import Dataset, DatasetRepository, InventoryImport, Release
from optout.models import Exclusion, OptOutRequest

# The demo files requests whose mails leave on commit.
pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_builds_real_repositories_and_inventories_and_can_run_twice(data_dir):
    out = StringIO()
    call_command("demo", stdout=out)
    repositories = data_dir / "demo" / "repositories"
    license_file = (repositories / "acme" / "mit-widgets" / "LICENSE").read_text()
    assert "Permission is hereby granted, free of charge" in license_file
    assert "GNU GENERAL PUBLIC LICENSE" in (repositories / "copyleft-labs" / "gpl-editor" / "LICENSE").read_text()
    assert not (repositories / "solo-dev" / "scripts" / "LICENSE").exists()
    assert git_run("log", "--oneline", cwd=repositories / "acme" / "mit-widgets").strip()

    assert set(Dataset.objects.values_list("slug", flat=True)) == {"the-stack-demo", "starcoder-demo"}
    counts = {
        slug: DatasetRepository.objects.filter(dataset__slug=slug).count()
        for slug in ["the-stack-demo", "starcoder-demo"]
    }
    assert all(count > 200 for count in counts.values())
    assert DatasetRepository.objects.filter(repository__canonical__startswith="file:///").exists()
    assert all(result.rows_failed == 2 for result in InventoryImport.objects.all())
    assert get_user_model().objects.get(username="admin").is_superuser
    assert "password" in out.getvalue()
    states = set(OptOutRequest.objects.values_list("state", flat=True))
    assert states >= {"applied", "awaiting_proof", "awaiting_email", "in_review", "withdrawn", "expired"}
    assert Release.objects.filter(dataset__slug="the-stack-demo").count() == 1  # published, and applied by a build
    assert Exclusion.objects.filter(revoked_at__isnull=True).count() == 2  # a proven one and a takedown
    assert out.getvalue().count("/opt-out/r/") == 5
    # Every demo repository has a license verdict: several classifications, one waiting for a maintainer,
    # and the copyleft ones excluded from the permissive dataset's release with a license reason.
    from audits.models import DatasetDecision, Scan, Verdict

    assert set(Verdict.objects.values_list("classification", flat=True)) >= {
        "permissive",
        "copyleft",
        "proprietary",
        "no_license",
    }
    assert DatasetDecision.objects.filter(dataset__slug="the-stack-demo", decision="needs_review").exists()
    release = Release.objects.get(dataset__slug="the-stack-demo")
    assert release.counts["repositories"] >= 4
    scans = Scan.objects.count()

    again = StringIO()
    call_command("demo", stdout=again)
    assert again.getvalue().count("/opt-out/r/") == 5 and OptOutRequest.objects.count() == 7
    assert Scan.objects.count() == scans  # unchanged repositories keep their verdicts
    assert counts == {
        slug: DatasetRepository.objects.filter(dataset__slug=slug).count()
        for slug in ["the-stack-demo", "starcoder-demo"]
    }
    assert all(result.repositories_added == 0 for result in InventoryImport.objects.order_by("-id")[:2])
