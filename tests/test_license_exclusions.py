"""License decisions reach pipelines: releases carry `license:<spdx>` rows, the batch check answers with them,
and a policy change shows up in the next release's changes — all without rescanning."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from audits.models import DatasetDecision, RepositoryAudit, Scan, Verdict
from audits.services import dataset_policy_changed, decisions_refresh
from exclusions.release_files import changes_read, repositories_read
from governance.models import Dataset, DatasetRepository
from governance.services import dataset_get_or_create, repository_ensure
from releases.publication import release_folder, release_publish

pytestmark = pytest.mark.django_db


def _verdict(canonical: str, *, effective: str, classification: str, uncertainties=()):
    repository = repository_ensure(text=canonical)
    scan = Scan.objects.create(repository=repository, status="done", commit="a" * 40, scanner_version="test")
    verdict = Verdict.objects.create(
        scan=scan,
        repository=repository,
        commit="a" * 40,
        declared_license=effective,
        effective_license=effective,
        detected_licenses=[effective] if effective else [],
        classification=classification,
        uncertainties=list(uncertainties),
        evidence_digest=f"digest-{canonical}-{effective}",
    )
    RepositoryAudit.objects.create(repository=repository, verdict=verdict)
    return repository


@pytest.fixture
def dataset():
    dataset = dataset_get_or_create(slug="the-stack")[0]
    for canonical, effective, classification in [
        ("github.com/a/mit", "MIT", "permissive"),
        ("github.com/a/gpl", "GPL-3.0-only", "copyleft"),
        ("github.com/a/dual", "MIT OR GPL-3.0-only", "permissive"),
        ("github.com/a/both", "MIT AND GPL-3.0-only", "copyleft"),
        ("github.com/a/none", "", "no_license"),
    ]:
        DatasetRepository.objects.create(
            dataset=dataset, repository=_verdict(canonical, effective=effective, classification=classification)
        )
    decisions_refresh(dataset=dataset)
    return dataset


def _decisions(dataset):
    return dict(DatasetDecision.objects.filter(dataset=dataset).values_list("repository__canonical", "decision"))


def test_the_policy_decides_on_the_expression_as_a_formula(dataset):
    assert _decisions(dataset) == {
        "github.com/a/mit": "include",
        "github.com/a/gpl": "exclude",
        "github.com/a/dual": "include",
        "github.com/a/both": "exclude",
        "github.com/a/none": "include",
    }


def test_a_release_carries_license_exclusions_with_their_spdx_reason(dataset):
    call_command("exclude", "the-stack", "github.com/a/gpl", "--reason", "legal", stdout=StringIO())
    release = release_publish(dataset_slug="the-stack")
    rows = {row.repository: row.reasons for row in repositories_read(release_folder(release) / "repositories.parquet")}
    assert rows == {
        "github.com/a/both": ("license:MIT AND GPL-3.0-only",),
        "github.com/a/gpl": ("administrative", "license:GPL-3.0-only"),
    }


def test_the_batch_check_answers_with_license_reasons(client, dataset):
    body = json.dumps({"repositories": ["https://github.com/a/gpl", "a/mit", "github.com/a/both"]})
    results = client.post("/api/v1/datasets/the-stack/check/", body, content_type="application/json").json()["results"]
    assert [(r["repository"], r["excluded"], r["reasons"]) for r in results] == [
        ("github.com/a/gpl", True, ["license:GPL-3.0-only"]),
        ("github.com/a/mit", False, []),
        ("github.com/a/both", True, ["license:MIT AND GPL-3.0-only"]),
    ]


def test_the_check_merges_every_reason_once_and_sorted_live_and_from_a_release(client, dataset):
    call_command("exclude", "the-stack", "github.com/a/gpl", "--reason", "legal", stdout=StringIO())
    call_command("exclude", "all", "github.com/a/gpl", "--reason", "again", stdout=StringIO())
    call_command("exclude", "the-stack", "github.com/a", "--namespace", "--reason", "owner", stdout=StringIO())
    body = json.dumps({"repositories": ["a/gpl", "a/mit", "a/gpl"]})
    expected = [
        ("github.com/a/gpl", True, ["administrative", "license:GPL-3.0-only"]),
        ("github.com/a/mit", True, ["administrative"]),
        ("github.com/a/gpl", True, ["administrative", "license:GPL-3.0-only"]),
    ]
    live = client.post("/api/v1/datasets/the-stack/check/", body, content_type="application/json").json()["results"]
    assert [(r["repository"], r["excluded"], r["reasons"]) for r in live] == expected
    release_publish(dataset_slug="the-stack")
    url = "/api/v1/datasets/the-stack/check/?release=1"
    frozen = client.post(url, body, content_type="application/json").json()["results"]
    assert [(r["repository"], r["excluded"], r["reasons"]) for r in frozen] == expected


def test_a_policy_change_reclassifies_without_a_scan_and_the_next_release_says_so(dataset):
    release_publish(dataset_slug="the-stack")
    scans = Scan.objects.count()
    Dataset.objects.filter(pk=dataset.pk).update(
        allowed_licenses=[*dataset.allowed_licenses, "GPL-3.0-only"], no_license="exclude"
    )
    dataset.refresh_from_db()
    dataset_policy_changed(dataset=dataset)
    assert Scan.objects.count() == scans
    assert _decisions(dataset)["github.com/a/gpl"] == "include"
    assert _decisions(dataset)["github.com/a/none"] == "exclude"

    second = release_publish(dataset_slug="the-stack")
    changes = [(c["op"], c["repository"]) for c in changes_read(release_folder(second) / "changes.jsonl")]
    assert changes == [
        ("remove", "github.com/a/both"),
        ("remove", "github.com/a/gpl"),
        ("add", "github.com/a/none"),
    ]
    rows = {row.repository: row.reasons for row in repositories_read(release_folder(second) / "repositories.parquet")}
    assert rows == {"github.com/a/none": ("license:none",)}
