"""Reads for license audits: verdict reports, review queues, scan pages."""

from django.db.models import Count, Min

from audits.file_exclusions import files_excluded_reason, files_refused
from audits.models import DatasetDecision, FileLabel, RepositoryAudit, Scan, Verdict
from audits.policy import DEFAULT_POLICY, Policy
from audits.scanning.verdicts import decision_for


def verdict_report(verdict: Verdict, *, scan: Scan, extra_policies: list[Policy] = ()) -> dict:
    """One verdict as `scan_repository --json` prints it: decisions under every policy that applies."""
    policies = {DEFAULT_POLICY.name: DEFAULT_POLICY}
    stored = {}
    for decision in DatasetDecision.objects.filter(repository=verdict.repository).select_related("dataset"):
        if decision.verdict_id == verdict.pk:
            stored[decision.dataset.slug] = decision
        else:  # decided on another verdict (the head's, when this one is of another ref): decide on this one
            policies[decision.dataset.slug] = Policy.from_dataset(decision.dataset)
    for policy in extra_policies:
        policies[policy.name] = policy
    decisions = {}
    reasons_by_policy = {}
    for name, policy in policies.items():
        if name in stored:
            continue
        decided = decision_for(verdict, policy)
        decisions[name] = decided.decision
        reasons_by_policy[name] = decided.reasons
        if decided.decision == "include" and (refused := files_refused(scan_id=verdict.scan_id, policy=policy)):
            reasons_by_policy[name] = [*decided.reasons, files_excluded_reason(refused)]
    for name, decision in stored.items():
        decisions[name] = decision.decision
        reasons_by_policy[name] = decision.reasons
        if decision.review_id:
            reasons_by_policy[name] = [
                {"code": "reviewed", "detail": f"settled by a maintainer: {decision.decision}"},
                *decision.reasons,
            ]
    reasons = reasons_by_policy[DEFAULT_POLICY.name]
    return {
        "repository": verdict.repository.canonical,
        "commit": verdict.commit,
        "declared_license": verdict.declared_license,
        "effective_license": verdict.effective_license,
        "detected_licenses": verdict.detected_licenses,
        "classification": verdict.classification,
        "decisions": decisions,
        "reasons": reasons,
        "reasons_by_dataset": {name: found for name, found in reasons_by_policy.items() if name != "default"},
        "notes": verdict.notes,
        "truncated": verdict.truncated,
        "file_labels": dict(scan_label_counts(scan)),
        "in_force": RepositoryAudit.objects.filter(repository=verdict.repository, verdict=verdict).exists(),
        "files_total": scan.files_total,
        "files_scanned": scan.files_scanned,
        "files_reused": scan.files_reused,
        "files_skipped": scan.files_skipped,
        "deep": scan.deep,
        "scanner_version": scan.scanner_version,
        "index_fingerprint": scan.index_fingerprint,
    }


def license_review_queue(*, dataset_slug: str | None = None):
    """needs_review decisions without a current review, oldest verdict first."""
    queue = (
        DatasetDecision.objects.filter(decision="needs_review")
        .select_related("dataset", "repository", "verdict")
        .order_by("verdict__created_at", "pk")
    )
    if dataset_slug:
        queue = queue.filter(dataset__slug=dataset_slug)
    return queue


def license_review_counts() -> dict:
    waiting = DatasetDecision.objects.filter(decision="needs_review").aggregate(
        count=Count("pk"), oldest=Min("verdict__created_at")
    )
    return {"waiting": waiting["count"], "oldest": waiting["oldest"]}


def scan_label_counts(scan: Scan) -> list[tuple[str, int]]:
    """How many of the scan's files carry each license type (permissive, non_permissive …), most first."""
    counts = FileLabel.objects.filter(scan=scan).values_list("license_type").annotate(count=Count("pk"))
    return sorted(counts, key=lambda pair: (-pair[1], pair[0]))
