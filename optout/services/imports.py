"""Importing an existing opt-out registry: each record becomes an imported request, in force at once.

Imports are idempotent: a record whose targets, datasets and author are as last imported is left alone (no
row, no event). New records are written in chunks, a few statements each, so a registry of tens of thousands
of records imports in seconds; changed, restored and revoked records go one by one through the registry's
ordinary functions, with their events.
"""

import re
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.exceptions import GovernanceError
from governance.models import Dataset
from governance.services import repositories_ensure, repository_from_ref
from optout import registry
from optout.import_formats import RecordProblem, RegistryFile, SourceRecord
from optout.models import ImportedRecord, OptOutRequest, RequestEvent, Verification
from optout.services.events import counted, request_event_record
from optout.services.exclusions import datasets_from_slugs

REASON = "opt-out"
CHUNK_RECORDS = 1000
_SOURCE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass
class ImportSummary:
    """What an import did (or, dry, would do). Never holds an author."""

    source: str
    format: str
    file_sha256: str
    datasets: list[str]
    dry_run: bool
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def optouts_import(
    *,
    source: str,
    path: str | Path,
    file_format: str,
    dataset_slugs: list[str] | None = None,
    dry_run: bool = False,
    revoke_missing: bool = False,
) -> ImportSummary:
    """Import a registry export as requests of origin `imported`; raises ImportFileError when it cannot be read."""
    if not _SOURCE_RE.fullmatch(source or ""):
        raise GovernanceError(
            f"Source name {source!r} is not usable: letters, digits, '.', '_' and '-', at most 100 characters"
        )
    registry_file = RegistryFile(path, file_format)
    datasets = sorted(datasets_from_slugs(dataset_slugs), key=lambda dataset: dataset.slug)
    summary = ImportSummary(
        source=source,
        format=file_format,
        file_sha256=registry_file.sha256,
        datasets=[dataset.slug for dataset in datasets],
        dry_run=dry_run,
    )
    run = _Import(summary, datasets)
    if dry_run:
        # Everything is done as for real, then rolled back: the summary is exactly what the import would do.
        with transaction.atomic():
            run.records(registry_file, revoke_missing=revoke_missing)
            transaction.set_rollback(True)
    else:
        run.records(registry_file, revoke_missing=revoke_missing)
    return summary


class _Import:
    def __init__(self, summary: ImportSummary, datasets: list[Dataset]):
        self.summary, self.datasets = summary, datasets
        self.dataset_slugs = [dataset.slug for dataset in datasets]
        self.known: dict[str, tuple] = {
            record_id: rest
            for record_id, *rest in ImportedRecord.objects.filter(source=summary.source).values_list(
                "record_id", "pk", "repositories", "namespaces", "datasets", "author", "revoked_at"
            )
        }

    def records(self, registry_file: RegistryFile, *, revoke_missing: bool) -> None:
        seen: set[str] = set()
        new: list[SourceRecord] = []
        for item in registry_file:
            self.summary.read += 1
            if isinstance(item, RecordProblem):
                (self.summary.skipped if item.skipped else self.summary.failed).append(item.as_dict())
                if item.record_id:
                    seen.add(item.record_id)  # still listed, only unreadable this time: not missing
                continue
            seen.add(item.record_id)
            known = self.known.get(item.record_id)
            if known is None:
                new.append(item)
                if len(new) >= CHUNK_RECORDS:
                    self._create(new)
                    new = []
            elif self._unchanged(item, known):
                self.summary.unchanged += 1
            else:
                self._update(known[0], item)
        self._create(new)
        missing = sorted(
            (record_id for record_id, known in self.known.items() if record_id not in seen and known[-1] is None),
            key=lambda record_id: (len(record_id), record_id),
        )
        self.summary.missing = missing
        if revoke_missing:
            for record_id in missing:
                _record_revoke(self.known[record_id][0], source=self.summary.source)
                self.summary.revoked.append(record_id)

    def _unchanged(self, item: SourceRecord, known: tuple) -> bool:
        _, repositories, namespaces, datasets, author, revoked_at = known
        return (
            revoked_at is None
            and repositories == item.canonicals
            and namespaces == list(item.namespaces)
            and datasets == self.dataset_slugs
            and author == item.author
        )

    def _create(self, items: list[SourceRecord]) -> None:
        """New records, a chunk at a time: each statement writes the whole chunk's rows."""
        if not items:
            return
        now = timezone.now()
        source, sha256 = self.summary.source, self.summary.file_sha256
        try:
            with transaction.atomic():
                repository_ids = repositories_ensure(refs=[ref for item in items for ref in item.repositories])
                requests = OptOutRequest.objects.bulk_create(
                    [_request_row(item, all_datasets=not self.datasets, now=now) for item in items]
                )
                if self.datasets:
                    through = OptOutRequest.datasets.through
                    through.objects.bulk_create(
                        [
                            through(optoutrequest_id=request.pk, dataset_id=dataset.pk)
                            for request in requests
                            for dataset in self.datasets
                        ]
                    )
                ImportedRecord.objects.bulk_create(
                    [
                        ImportedRecord(
                            request=request,
                            source=source,
                            record_id=item.record_id,
                            author=item.author,
                            file_sha256=sha256,
                            line=item.line,
                            repositories=item.canonicals,
                            namespaces=list(item.namespaces),
                            datasets=self.dataset_slugs,
                            imported_at=now,
                            updated_at=now,
                        )
                        for request, item in zip(requests, items, strict=True)
                    ]
                )
                placements, verifications, events = [], [], []
                for request, item in zip(requests, items, strict=True):
                    events.append(_event(request.pk, "imported", _imported_message(source, item)))
                    targets = [(repository_ids[c], c, "") for c in item.canonicals]
                    targets += [(None, namespace, namespace) for namespace in item.namespaces]
                    for repository_id, target, namespace in targets:
                        placements.append(registry.Placement(request.pk, repository_id, target))
                        verifications.append(_verification_row(request.pk, repository_id, namespace, now))
                        events.append(_event(request.pk, "excluded", f"{target} is now excluded."))
                Verification.objects.bulk_create(verifications, batch_size=2000)
                registry.exclusions_add_many(placements=placements, datasets=self.datasets, reason=REASON)
                RequestEvent.objects.bulk_create(events, batch_size=2000)
        except IntegrityError:
            raise GovernanceError(
                f"Another import of {source!r} wrote the same records meanwhile: run this one again when it is done"
            ) from None
        self.summary.created += len(items)

    def _update(self, record_pk: int, item: SourceRecord) -> None:
        """A record that changed (or came back): drop the targets it lost, add the new ones, each as an event."""
        now = timezone.now()
        with transaction.atomic():
            record = ImportedRecord.objects.select_related("request").select_for_update().get(pk=record_pk)
            request = record.request
            before = set(record.repositories) | set(record.namespaces)
            if record.revoked_at is not None:
                request.transition("import_restore", closed_at=None)
                request_event_record(request, "import_restored", f"{_named(record)} is listed again: in force again.")
                before = set()
            elif record.datasets != self.dataset_slugs:
                # Other datasets: every target is put in force again for the new ones.
                registry.exclusion_sources_revoke(request=request)
                before = set()
            if record.datasets != self.dataset_slugs:
                request.all_datasets = not self.datasets
                request.save(update_fields=["all_datasets"])
                request.datasets.set(self.datasets)
                request_event_record(request, "datasets", f"Datasets now: {', '.join(self.dataset_slugs) or 'all'}.")
            after = set(item.targets)
            dropped = (set(record.repositories) | set(record.namespaces)) - after
            if dropped:
                registry.exclusion_sources_revoke(request=request, targets=dropped)
                _verifications_of(request, dropped).update(state=Verification.State.WITHDRAWN)
                for target in sorted(dropped):
                    request_event_record(request, "import_dropped", f"{_named(record)} no longer names {target}.")
            for ref in item.repositories:
                if ref.canonical not in before:
                    _target_add(request, repository=repository_from_ref(ref=ref), namespace="", now=now)
            for namespace in item.namespaces:
                if namespace not in before:
                    _target_add(request, repository=None, namespace=namespace, now=now)
            request.scope, request.namespace = _scope(item)
            request.save(update_fields=["scope", "namespace"])
            ImportedRecord.objects.filter(pk=record.pk).update(
                author=item.author,
                file_sha256=self.summary.file_sha256,
                line=item.line,
                repositories=item.canonicals,
                namespaces=list(item.namespaces),
                datasets=self.dataset_slugs,
                updated_at=now,
                revoked_at=None,
            )
        self.summary.updated += 1


def _record_revoke(record_pk: int, *, source: str) -> None:
    """A record its registry no longer lists: its exclusions are revoked through the registry, with events."""
    now = timezone.now()
    with transaction.atomic():
        record = ImportedRecord.objects.select_related("request").select_for_update().get(pk=record_pk)
        request = record.request
        registry.exclusion_sources_revoke(request=request)
        request.verifications.filter(state=Verification.State.VERIFIED).update(state=Verification.State.WITHDRAWN)
        request.transition("import_revoke", closed_at=now)
        ImportedRecord.objects.filter(pk=record.pk).update(revoked_at=now, updated_at=now)
        request_event_record(
            request, "import_revoked", f"{_named(record)} is no longer in {source}: its exclusions are revoked."
        )


def _target_add(request: OptOutRequest, *, repository, namespace: str, now) -> None:
    target = repository.canonical if repository else namespace
    kept = {state: pk for pk, state in _verifications_of(request, {target}).values_list("pk", "state")}
    if Verification.State.WITHDRAWN in kept and Verification.State.VERIFIED not in kept:
        Verification.objects.filter(pk=kept[Verification.State.WITHDRAWN]).update(
            state=Verification.State.VERIFIED, verified_at=now
        )
    elif not kept:
        _verification_row(request.pk, repository.pk if repository else None, namespace, now).save()
    registry.exclusion_add(request=request, repository=repository, namespace=namespace, reason=REASON)
    request_event_record(request, "excluded", f"{target} is now excluded.")


def _verifications_of(request: OptOutRequest, targets: set[str]):
    return request.verifications.filter(repository__canonical__in=targets) | request.verifications.filter(
        repository__isnull=True, namespace__in=targets
    )


def _request_row(item: SourceRecord, *, all_datasets: bool, now) -> OptOutRequest:
    scope, namespace = _scope(item)
    # In force at once: the registry it comes from already took the owner's word; there is no status page.
    return OptOutRequest(
        origin=OptOutRequest.Origin.IMPORTED,
        scope=scope,
        namespace=namespace,
        all_datasets=all_datasets,
        state=OptOutRequest.State.ACTIVE,
        proof_token=f"imported-{secrets.token_urlsafe(24)}",
        confirmed_at=now,
        verified_at=now,
        decided_at=now,
    )


def _scope(item: SourceRecord) -> tuple[str, str]:
    if item.namespaces and not item.repositories and len(item.namespaces) == 1:
        return OptOutRequest.Scope.NAMESPACE, item.namespaces[0]
    return OptOutRequest.Scope.REPOSITORIES, ""


def _verification_row(request_pk: int, repository_id: int | None, namespace: str, now) -> Verification:
    return Verification(
        request_id=request_pk,
        repository_id=repository_id,
        namespace=namespace,
        method=Verification.Method.IMPORTED,
        state=Verification.State.VERIFIED,
        verified_at=now,
        result="Imported record.",
    )


def _event(request_pk: int, kind: str, message: str) -> RequestEvent:
    return RequestEvent(request_id=request_pk, kind=kind, message=message)


def _imported_message(source: str, item: SourceRecord) -> str:
    targets = counted(len(item.targets), "target")
    return f"Imported from {source} (record {item.record_id}, line {item.line}): {targets}."


def _named(record: ImportedRecord) -> str:
    return f"Record {record.record_id} of {record.source}"
