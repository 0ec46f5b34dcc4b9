"""Writes on datasets, repositories and the inventory."""

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from governance.exceptions import GovernanceError
from governance.fetch_policy import FetchScreen
from governance.heartbeats import heartbeat
from governance.identity import RepositoryParseError, RepositoryRef, parse_repository
from governance.inventory_files import InventoryFile, InventoryFileError, normalize_commit
from governance.models import (
    RESERVED_DATASET_SLUGS,
    Dataset,
    DatasetRepository,
    InventoryImport,
    Repository,
    validate_dataset_slug,
)
from governance.queueing import task_send, task_send_on_commit

logger = logging.getLogger(__name__)

# Spellings an import remembers (≈100 bytes each), so repeated rows skip parsing and the database.
REMEMBERED_SPELLINGS = 500_000
# How long one import may spend looking up the hosts it names (fetch policy); later hosts are checked at fetch time.
IMPORT_LOOKUP_SECONDS = 60.0


def dataset_get_or_create(*, slug: str, name: str | None = None) -> tuple[Dataset, bool]:
    """The dataset with this slug, created (with the default policy) when missing."""
    try:
        validate_slug(slug)
    except ValidationError:
        raise GovernanceError(f"{slug!r} is not a dataset slug: use letters, digits, hyphens and underscores") from None
    if slug in RESERVED_DATASET_SLUGS and not Dataset.objects.filter(slug=slug).exists():
        try:
            validate_dataset_slug(slug)
        except ValidationError as error:
            raise GovernanceError(error.messages[0]) from None
    return Dataset.objects.get_or_create(slug=slug, defaults={"name": name or slug})


def repositories_ensure(*, refs: Iterable[RepositoryRef]) -> dict[str, int]:
    """Ids of these repositories by canonical name, creating the ones not yet known."""
    by_canonical = {ref.canonical: ref for ref in refs}
    ids = dict(Repository.objects.filter(canonical__in=by_canonical).values_list("canonical", "id"))
    missing = [by_canonical[canonical] for canonical in by_canonical.keys() - ids.keys()]
    if missing:
        # ignore_conflicts: another import may create the same repository at the same moment.
        Repository.objects.bulk_create(
            [Repository(**Repository.fields_from_ref(ref)) for ref in missing], ignore_conflicts=True
        )
        ids.update(
            Repository.objects.filter(canonical__in=[ref.canonical for ref in missing]).values_list("canonical", "id")
        )
    return ids


def repository_ensure(*, text: str) -> Repository:
    """The repository a pasted spelling names, created when missing."""
    return repository_from_ref(ref=parse_repository(text))


def repository_from_ref(*, ref: RepositoryRef) -> Repository:
    """The row of a parsed repository, created when missing; a known repository keeps its clone URL."""
    repository, _ = Repository.objects.get_or_create(canonical=ref.canonical, defaults=Repository.fields_from_ref(ref))
    return repository


def inventory_import_create(*, dataset_slug: str, source_path: str, source_name: str = "", enqueue: bool = True):
    """Record an import of an inventory file; with `enqueue`, a worker runs it once this commits."""
    InventoryFile(source_path)  # refuse a missing or unknown file now, not in the worker
    with transaction.atomic():
        dataset, _ = dataset_get_or_create(slug=dataset_slug)
        inventory_import = InventoryImport.objects.create(
            dataset=dataset, source_path=str(source_path), source_name=source_name or str(source_path)
        )
        if enqueue:
            waiting = InventoryImport.objects.filter(pk=inventory_import.pk)
            task_send_on_commit("governance.tasks.inventory_import_task", inventory_import.pk, waiting=waiting)
    return inventory_import


class _InventoryBatch:
    """Rows parsed and waiting for one round trip to the database."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset
        self.entries: dict[str, tuple[RepositoryRef, str]] = {}

    def add(self, ref: RepositoryRef, commit: str) -> None:
        known = self.entries.get(ref.canonical)
        # A row without a commit never erases one that another row of the same repository gave.
        if known is None or commit:
            self.entries[ref.canonical] = (ref, commit)

    def write(self) -> tuple[int, int]:
        """Upsert the batch into the inventory; (repositories added, repositories updated)."""
        try:
            if connection.vendor == "postgresql":
                return self._write_postgresql()
            return self._write_orm()
        finally:
            self.entries.clear()

    def _write_postgresql(self) -> tuple[int, int]:
        # Two statements over arrays instead of thousands of ORM objects: the import's hot path.
        refs = [ref for ref, _ in self.entries.values()]
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {Repository._meta.db_table} (canonical, host, namespace, clone_url, created_at)
                SELECT canonical, host, namespace, clone_url, now()
                FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) AS t(canonical, host, namespace, clone_url)
                ON CONFLICT (canonical) DO NOTHING
                """,
                [
                    [ref.canonical for ref in refs],
                    [ref.host for ref in refs],
                    [ref.namespace for ref in refs],
                    [ref.clone_url for ref in refs],
                ],
            )
            inventory = DatasetRepository._meta.db_table
            cursor.execute(
                f"""
                WITH upserted AS (
                    INSERT INTO {inventory} AS entry (dataset_id, repository_id, commit, added_at, updated_at)
                    SELECT %s, repository.id, t.commit, now(), now()
                    FROM unnest(%s::text[], %s::text[]) AS t(canonical, commit)
                    JOIN {Repository._meta.db_table} AS repository ON repository.canonical = t.canonical
                    ON CONFLICT (dataset_id, repository_id) DO UPDATE
                        SET commit = EXCLUDED.commit, updated_at = EXCLUDED.updated_at
                        WHERE EXCLUDED.commit <> '' AND entry.commit <> EXCLUDED.commit
                    RETURNING (xmax = 0) AS inserted
                )
                SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
                """,
                [self.dataset.pk, list(self.entries), [commit for _, commit in self.entries.values()]],
            )
            added, updated = cursor.fetchone()
        return added, updated

    def _write_orm(self) -> tuple[int, int]:
        ids = repositories_ensure(refs=(ref for ref, _ in self.entries.values()))
        wanted = {ids[canonical]: commit for canonical, (_, commit) in self.entries.items()}
        existing = {
            entry.repository_id: entry
            for entry in DatasetRepository.objects.filter(dataset=self.dataset, repository_id__in=wanted).only(
                "id", "repository_id", "commit"
            )
        }
        new = [
            DatasetRepository(dataset=self.dataset, repository_id=repository_id, commit=commit)
            for repository_id, commit in wanted.items()
            if repository_id not in existing
        ]
        changed = []
        for repository_id, entry in existing.items():
            commit = wanted[repository_id]
            if commit and entry.commit != commit:
                entry.commit = commit
                entry.updated_at = timezone.now()
                changed.append(entry)
        created = DatasetRepository.objects.bulk_create(new, ignore_conflicts=True)
        if changed:
            DatasetRepository.objects.bulk_update(changed, ["commit", "updated_at"])
        return len(created), len(changed)


def inventory_import_run(
    *,
    import_id: int,
    on_row_error: Callable[[int, str], None] | None = None,
    on_progress: Callable[[InventoryImport], None] | None = None,
) -> InventoryImport:
    """Read an import's file into its dataset's inventory, batch by batch; bad rows are counted and named."""
    now = timezone.now()
    claimed = InventoryImport.objects.filter(pk=import_id, status=InventoryImport.Status.QUEUED).update(
        status=InventoryImport.Status.RUNNING, started_at=now, heartbeat_at=now, error="", enqueue_failed_at=None
    )
    inventory_import = InventoryImport.objects.select_related("dataset").get(pk=import_id)
    if claimed != 1:
        # Another worker has it, or it is finished: running it again would only repeat the upserts.
        return inventory_import
    beating = InventoryImport.objects.filter(pk=import_id, status=InventoryImport.Status.RUNNING)
    try:
        # A batch write can outlast the stall threshold: the sweep must not take a live import for a lost one.
        with heartbeat(beating, every=settings.INVENTORY_IMPORT_STALL_SECONDS / 4):
            _inventory_import_read(inventory_import, on_row_error=on_row_error, on_progress=on_progress)
    except InventoryFileError as error:
        _inventory_import_finish(inventory_import, status=InventoryImport.Status.FAILED, error=str(error))
    except Exception as error:
        logger.exception("inventory import %s failed", import_id)
        _inventory_import_finish(
            inventory_import,
            status=InventoryImport.Status.FAILED,
            error=f"Stopped by an internal error ({type(error).__name__}); rows imported before it are kept.",
        )
        raise
    else:
        _inventory_import_finish(inventory_import, status=InventoryImport.Status.DONE)
    return inventory_import


def _inventory_import_read(inventory_import: InventoryImport, *, on_row_error, on_progress) -> None:
    from django.conf import settings

    batch_size = settings.INVENTORY_BATCH_SIZE
    inventory_file = InventoryFile(inventory_import.source_path)
    batch = _InventoryBatch(inventory_import.dataset)
    written: dict[str, str] = {}  # spelling → commit already sent to the database in this import
    refused: dict[str, str] = {}  # spelling → why it is not a repository, or why it may not be fetched
    screen = FetchScreen(budget_seconds=IMPORT_LOOKUP_SECONDS)
    counts = {"rows_read": 0, "rows_failed": 0, "repositories_added": 0, "repositories_updated": 0}
    new_errors: list[list] = []

    def refuse(row: int, message: str) -> None:
        counts["rows_failed"] += 1
        if len(inventory_import.row_errors) + len(new_errors) < InventoryImport.MAX_STORED_ROW_ERRORS:
            new_errors.append([row, message])
        if on_row_error:
            on_row_error(row, message)

    def flush() -> None:
        with transaction.atomic():
            added, updated = batch.write() if batch.entries else (0, 0)
            counts["repositories_added"] += added
            counts["repositories_updated"] += updated
            inventory_import.row_errors.extend(new_errors)
            new_errors.clear()
            inventory_import.progress = inventory_file.fraction_done
            inventory_import.heartbeat_at = timezone.now()
            for field, value in counts.items():
                setattr(inventory_import, field, value)
            inventory_import.save(update_fields=[*counts, "row_errors", "progress", "heartbeat_at"])
        if on_progress:
            on_progress(inventory_import)

    def read_row(item) -> None:
        counts["rows_read"] += 1
        if item.problem:
            refuse(item.row, item.problem)
            return
        text = item.repository
        # Stack-style files repeat a repository once per file: a spelling already written
        # with the same commit (or none) costs neither a parse nor a round trip.
        written_commit = written.get(text)
        if written_commit is not None and (not item.commit or item.commit == written_commit):
            return
        refusal = refused.get(text)
        if refusal is not None:
            refuse(item.row, refusal)
            return
        try:
            ref = parse_repository(text)
        except RepositoryParseError as error:
            if len(refused) >= REMEMBERED_SPELLINGS // 10:
                refused.clear()
            refused[text] = str(error)
            refuse(item.row, str(error))
            return
        # A repository the workers may never read would only fail every scan: refused with its row.
        refusal = screen.refusal(ref.clone_url)
        if refusal:
            if len(refused) >= REMEMBERED_SPELLINGS // 10:
                refused.clear()
            refused[text] = refusal
            refuse(item.row, refusal)
            return
        if len(written) >= REMEMBERED_SPELLINGS:
            written.clear()
        written[text] = item.commit or (written_commit or "")
        batch.add(ref, item.commit)
        if len(batch.entries) >= batch_size:
            flush()

    try:
        for item in inventory_file:
            read_row(item)
    except InventoryFileError:
        flush()  # the rows read before the damage are good: keep them
        raise
    flush()


def _inventory_import_finish(inventory_import: InventoryImport, *, status: str, error: str = "") -> None:
    InventoryImport.objects.filter(pk=inventory_import.pk).update(
        status=status, error=error, finished_at=timezone.now(), progress=1.0 if status == "done" else F("progress")
    )
    inventory_import.refresh_from_db()


def inventory_import_sweep() -> list[int]:
    """Requeue imports whose message was lost or whose worker died; returns their ids."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.INVENTORY_IMPORT_STALL_SECONDS)
    # A running import that stopped reporting goes back to the queue; upserts make the rerun safe.
    InventoryImport.objects.filter(status=InventoryImport.Status.RUNNING, heartbeat_at__lt=stale).update(
        status=InventoryImport.Status.QUEUED
    )
    # Queued ones are sent again when their send failed, or when their last message may have been lost;
    # one send per stall interval at most.
    queued = InventoryImport.objects.filter(status=InventoryImport.Status.QUEUED)
    waiting = list(
        queued.filter(
            Q(enqueue_failed_at__isnull=False) | Q(sent_at__lt=stale) | Q(sent_at__isnull=True, created_at__lt=stale)
        )
        .order_by("created_at")
        .values_list("id", flat=True)[:100]
    )
    queued.filter(pk__in=waiting).update(sent_at=now)
    for import_id in waiting:
        task_send(
            "governance.tasks.inventory_import_task", import_id, waiting=InventoryImport.objects.filter(pk=import_id)
        )
    return waiting


def inventory_add(*, dataset: Dataset, items: list) -> dict:
    """Register repositories (and commits) sent by a pipeline; each bad item fails alone, in input order."""
    batch = _InventoryBatch(dataset)
    screen = FetchScreen()
    results = []
    for item in items:
        text, commit = (item.get("repository"), item.get("commit")) if isinstance(item, dict) else (item, None)
        problem = None
        if not isinstance(text, str) or not text.strip():
            problem = 'an entry needs a repository: a string, or {"repository": ..., "commit": ...}'
        else:
            commit, problem = normalize_commit(commit)
        code = "invalid"
        if problem is None:
            try:
                ref = parse_repository(text)
            except RepositoryParseError as error:
                problem = str(error)
            else:
                if problem := screen.refusal(ref.clone_url):
                    code = "fetch_refused"
        if problem:
            results.append({"input": item, "error": {"code": code, "detail": problem}})
            continue
        batch.add(ref, commit)
        results.append({"input": item, "repository": ref.canonical})
    with transaction.atomic():
        added, updated = batch.write() if batch.entries else (0, 0)
    return {"added": added, "updated": updated, "results": results}
