"""manage.py demo fills every page with data made on the spot."""

import re
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

import governance.git
from governance.git import git_run
from governance.models import Dataset, DatasetRepository, InventoryImport, Release
from optout.models import Exclusion, OptOutRequest, ReservedFile
from releases.selectors import lookup_examples

# The demo files requests whose mails leave on commit.
pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_builds_real_repositories_and_inventories_and_can_run_twice(data_dir, client):
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
    assert states >= {"applied", "active", "awaiting_proof", "awaiting_email", "in_review", "withdrawn", "expired"}
    assert "rejected" in states
    # Six weeks of weekly releases and today's, each applied by a build; the second dataset every two weeks.
    assert Release.objects.filter(dataset__slug="the-stack-demo").count() == 7
    assert Release.objects.filter(dataset__slug="starcoder-demo").count() == 4
    # Proven ones, a namespace, a takedown (11); an imported owner and two imported repositories; a reservation.
    assert Exclusion.objects.filter(revoked_at__isnull=True).count() == 15
    origins = dict(OptOutRequest.objects.values_list("origin").annotate(n=Count("id")).values_list("origin", "n"))
    assert origins["imported"] == 2 and origins["reservation"] == 2  # a record naming something unreadable fails
    reserved = ReservedFile.objects.in_force().values_list("repository__canonical", "path")
    assert [(canonical.rsplit("/", 2)[-2:], path) for canonical, path in reserved] == [
        (["reserving-org", "vendored"], "vendor/lib.py")
    ]
    assert Exclusion.objects.filter(revoked_at__isnull=False).count() == 1  # withdrawn before a build applied it
    first_request = OptOutRequest.objects.order_by("created_at").first()
    assert timezone.now() - first_request.created_at > timedelta(days=30)
    assert out.getvalue().count("/opt-out/r/") == 5
    # The excluded request's owner sees when each dataset's next release is due (weekly, fortnightly) and the
    # releases and builds that carry the exclusion.
    excluded_page = re.search(r"excluded \(proof verified\): \S+(/opt-out/r/\S+)", out.getvalue()).group(1)
    status = client.get(excluded_page).content.decode()
    assert "Next release due" in status and "(one every 168 hours)" in status and "(one every 336 hours)" in status
    assert "Excluded from releases" in status and "Applied by build" in status
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
    release = Release.objects.filter(dataset__slug="the-stack-demo").order_by("-version").first()
    assert release.counts["repositories"] >= 4 and release.counts["namespaces"] == 2  # an owner's, an imported one
    assert Scan.objects.filter(status="failed").exists()  # for the maintainers' overview
    # The home page offers two of its repositories to try the lookup with: one excluded, one not.
    examples = lookup_examples()
    assert [example.excluded for example in examples] == [True, False]
    home = client.get("/").content.decode()
    assert all(f"?q={example.canonical}" in home for example in examples)
    scans = Scan.objects.count()

    again = StringIO()
    call_command("demo", stdout=again)
    assert again.getvalue().count("/opt-out/r/") == 5 and OptOutRequest.objects.count() == 23
    assert Release.objects.count() == 11
    assert Scan.objects.count() == scans  # unchanged repositories keep their verdicts
    assert counts == {
        slug: DatasetRepository.objects.filter(dataset__slug=slug).count()
        for slug in ["the-stack-demo", "starcoder-demo"]
    }
    assert all(result.repositories_added == 0 for result in InventoryImport.objects.order_by("-id")[:2])


NETWORK_SCHEMES = ("https://", "http://", "ssh://", "git://")


def test_the_demo_never_reaches_the_network(data_dir, names_resolve_on_loopback_only):
    # Every remote read of governance/git.py asks the fetch policy first, and every git command goes through git_run.
    fetch_plan = mock.patch.object(governance.git, "_fetch_plan", autospec=True, side_effect=governance.git._fetch_plan)
    git = mock.patch.object(governance.git, "git_run", autospec=True, side_effect=governance.git.git_run)
    with fetch_plan as planned, git as ran:
        call_command("demo", stdout=StringIO())

    fetched = [call.args[0] for call in planned.call_args_list]
    assert fetched, "the demo reads its own repositories through the fetch policy"
    assert [url for url in fetched if not url.startswith("file://")] == []
    assert [
        call.args
        for call in ran.call_args_list
        if any(scheme in arg for arg in call.args for scheme in NETWORK_SCHEMES)
    ] == []
    names_resolve_on_loopback_only.assert_not_called()  # not even a host name was looked up


def test_after_the_demo_the_overview_shows_its_one_failed_scan_and_nothing_overdue(data_dir, client):
    call_command("demo", stdout=StringIO())
    client.force_login(get_user_model().objects.get(username="admin"))
    page = client.get("/review/").content.decode()

    assert "<strong data-failed-count>1</strong>" in page and "1 background job failed in the last day" in page
    failed = page.split("Failed in the last 24 hours", 1)[1].split("</table>", 1)[0]
    assert "License scan of file://" in failed and "demo-owners/half-copied" in failed  # the one made to fail
    assert "Blob listing" not in page and "github.com/demo-user" not in failed
    assert "<dd>0 (queued or running" in page and "Stalled work" not in page  # no proof check overdue
    assert "made no progress" not in page
