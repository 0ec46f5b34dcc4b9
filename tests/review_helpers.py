"""Shared steps for license review tests: verdicts written as a scan would leave them (no scancode), an unsure one."""

import hashlib

from django.contrib.auth.models import Permission
from django.utils import timezone

from audits import services
from audits.models import DatasetDecision, RepositoryAudit, Scan, Verdict
from governance.models import Dataset, DatasetRepository, Repository

CLUE_ONLY = {
    "code": "clue_only",
    "file": "LICENSE",
    "license": "MIT",
    "detail": "LICENSE: only a clue of MIT (lines 1–3, rule mit_30.RULE, score 40)",
}
EVIDENCE = [
    {
        "file": "LICENSE",
        "role": "license",
        "noise": False,
        "blob_id": "a" * 40,
        "license": "",
        "timed_out": False,
        "error": "",
        "matches": [
            {
                "license": "MIT",
                "start_line": 1,
                "end_line": 3,
                "rule": "mit_30.RULE",
                "matcher": "3-seq",
                "score": 40.0,
                "clue": True,
            }
        ],
    },
    {
        "file": "locale/de/LC_MESSAGES/django.po",
        "role": "other",
        "noise": True,
        "blob_id": "b" * 40,
        "license": "GPL-2.0-only",
        "timed_out": False,
        "error": "",
        "matches": [
            {
                "license": "GPL-2.0-only",
                "start_line": 4,
                "end_line": 4,
                "rule": "gpl-2.0_12.RULE",
                "matcher": "2-aho",
                "score": 100.0,
                "clue": False,
            }
        ],
    },
]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def repository_named(canonical: str) -> Repository:
    host, namespace = canonical.split("/", 1)[0], canonical.rsplit("/", 1)[0]
    return Repository.objects.create(
        canonical=canonical, host=host, namespace=namespace, clone_url=f"https://{canonical}.git"
    )


def verdict_written(repository, *, effective="MIT", uncertainties=(), conflicts=(), evidence=(), evidence_digest=""):
    """What scan_finish leaves behind: a done scan, its verdict as the repository's latest, decisions refreshed."""
    commit = digest(f"{repository.canonical}{Scan.objects.count()}")[:40]
    scan = Scan.objects.create(
        repository=repository,
        commit=commit,
        status=Scan.Status.DONE,
        step="done",
        files_total=40,
        files_to_scan=4,
        files_done=4,
        files_scanned=3,
        files_reused=1,
        files_skipped={"binary": 2, "too_large": 1},
        scanner_version="scancode-toolkit 32.5.0 index:test",
        finished_at=timezone.now(),
    )
    verdict = Verdict.objects.create(
        scan=scan,
        repository=repository,
        commit=commit,
        declared_license=effective,
        effective_license=effective,
        detected_licenses=sorted({effective} - {""}),
        classification="permissive" if effective else "unknown",
        uncertainties=list(uncertainties),
        conflicts=list(conflicts),
        evidence=list(evidence),
        evidence_digest=evidence_digest or digest(repr((effective, uncertainties, conflicts))),
    )
    RepositoryAudit.objects.update_or_create(repository=repository, defaults={"verdict": verdict})
    services.decisions_refresh(repository=repository)
    return verdict


def unsure_decision(dataset: Dataset) -> DatasetDecision:
    """A repository whose LICENSE gave only a clue: the policy cannot decide it."""
    repository = repository_named("github.com/acme/unsure")
    DatasetRepository.objects.create(dataset=dataset, repository=repository)
    verdict_written(repository, uncertainties=[CLUE_ONLY], evidence=EVIDENCE, evidence_digest=digest("clue"))
    return DatasetDecision.objects.get(dataset=dataset, repository=repository)


def with_review_permission(maintainer):
    maintainer.user_permissions.add(Permission.objects.get(codename="review_license"))
    return maintainer


def review_form(settled, /, **fields):
    return {
        "decision": "include",
        "reason_code": "license_confirmed",
        "comment": "",
        "evidence_digest": settled.verdict.evidence_digest,
        **fields,
    }
