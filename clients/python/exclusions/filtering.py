"""Which rows of a record-batch stream a release excludes, computed by Arrow a batch at a time.

Arrow's `is_in` builds a hash set of its value set on every call; for ten million blob ids that costs
seconds, so calling it per batch would dominate. Inside a dataset Scanner, a bound expression builds it
once and probes it for every batch: the lookup columns of every batch (the lower-cased repository, its
owner, the blob id; derived once per batch, as the Scanner shares no work between expressions) are fed
through one Scanner (`Scanner.from_batches`, single-threaded, so batches come out in the order they went
in), and the verdicts are paired back with the batches they came from by row count.

Blob ids of a release that lists millions of them are looked up otherwise, with no hash set: the release's
membership filter answers for every row, in the thread that derives the lookup columns, and its "perhaps"
is confirmed by binary search in the sorted ids (exclusions.membership).

Repository values that look like The Stack v2's `repo_name` (`owner/name`, letters, digits, `._-`)
are matched vectorised, lower-cased, against the release's github.com entries; any other value (URLs,
canonical names of other forges) is parsed with the identity rules, once per distinct value.
"""

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from exclusions.errors import ClientError
from exclusions.identity import GITHUB_NOT_OWNERS, RepositoryParseError, canonical_and_namespace

if TYPE_CHECKING:  # a release holds the lookups this module applies; release.py imports this module
    from exclusions.release import Release

# Why a row is dropped, in the order the counts name them.
REASONS = ("repository", "namespace", "blob")

KEY_SCHEMA = pa.schema([("repo", pa.string()), ("blob", pa.string())])
LOOKUP_SCHEMA = pa.schema([("low", pa.string()), ("owner", pa.string()), ("blob", pa.string())])
# An owner/name GitHub can have, typed as The Stack writes it. Anything else goes through identity parsing.
_PLAIN_REPO_NAME = r"^[a-z0-9_-]+/[a-z0-9._-]+$"
_NOT_OWNERS = pa.array(sorted(GITHUB_NOT_OWNERS))
_SLOW_CACHE_LIMIT = 1_000_000
READ_AHEAD_BATCHES = 6


@dataclass
class Counts:
    rows_in: int = 0
    rows_kept: int = 0
    dropped: dict = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    unreadable_repositories: int = 0  # values of the repository column that name no repository (kept)

    def add(self, other: "Counts") -> None:
        self.rows_in += other.rows_in
        self.rows_kept += other.rows_kept
        self.unreadable_repositories += other.unreadable_repositories
        for reason in REASONS:
            self.dropped[reason] += other.dropped[reason]

    def as_dict(self) -> dict:
        return {
            "rows_in": self.rows_in,
            "rows_kept": self.rows_kept,
            "rows_dropped": {**self.dropped, "total": sum(self.dropped.values())},
            "unreadable_repositories": self.unreadable_repositories,
        }

    def summary(self) -> str:
        """The one line a command prints: rows in, kept and dropped per reason."""
        dropped = self.dropped
        return (
            f"{self.rows_in:,} rows in, {self.rows_kept:,} kept, {sum(dropped.values()):,} dropped (repository "
            f"{dropped['repository']:,}, namespace {dropped['namespace']:,}, blob {dropped['blob']:,})"
        )


class Matcher:
    """The release's lookups as Arrow expressions, plus the per-value fallback for other spellings."""

    def __init__(self, release: "Release", *, repositories: bool = True, blobs: bool = True):
        self.release = release
        self.repositories = repositories
        # Only set lookups go into the Scanner: it evaluates every expression on its own (no common
        # subexpressions), so the lower-casing and the owner are derived once per batch by `_derived`.
        projection = {}
        if repositories:
            listed = release.github_paths("repository")
            owners = release.github_paths("namespace")
            if len(listed):
                projection["repository"] = pc.is_in(pc.field("low"), value_set=listed)
            if len(owners):
                projection["namespace"] = pc.is_in(pc.field("owner"), value_set=owners)
        self.blob_membership = None
        if blobs and len(release.blob_ids):
            membership = release.blob_membership
            if membership is not None and membership.vectorised:
                self.blob_membership = membership
            else:
                projection["blob"] = pc.is_in(pc.field("blob"), value_set=release.blob_ids)
        self.projection = projection or {"nothing": pc.scalar(False)}  # a Scanner needs one column
        self._slow_cache: dict[str, str | None] = {}

    def verdicts(
        self, items: Iterable[tuple[object, pa.RecordBatch]], *, explain: bool = False
    ) -> Iterator[tuple[object, pa.Array, Counts]]:
        """For each (payload, keys) in order: (payload, keep mask, counts). `keys` holds `repo` and `blob` columns.

        With `explain`, each row's reason ("repository", "namespace", "blob"; null when kept) instead of the mask.
        """
        pending: deque = deque()
        # The Scanner pulls `lookups()` from a thread of its own and reads well ahead; each batch in flight holds
        # its whole payload, so the reader waits for a free slot (never for long: a stall only costs memory).
        slots = threading.Semaphore(READ_AHEAD_BATCHES)
        finished = threading.Event()

        def lookups() -> Iterator[pa.RecordBatch]:
            for payload, key_batch in items:
                waited = 0.0
                while not slots.acquire(timeout=0.05) and waited < 1.0 and not finished.is_set():
                    waited += 0.05
                if not key_batch.num_rows:
                    pending.append((payload, key_batch, None, None))
                    continue
                lookup, plain = self._derived(key_batch)
                listed = self.blob_membership.listed(key_batch.column("blob")) if self.blob_membership else None
                pending.append((payload, key_batch, plain, listed))
                yield lookup

        scanner = ds.Scanner.from_batches(
            lookups(),
            schema=LOOKUP_SCHEMA,
            columns=self.projection,
            use_threads=False,
            batch_readahead=1,
            fragment_readahead=1,
        )
        empty_type = pa.string() if explain else pa.bool_()
        parts: list[pa.RecordBatch] = []
        buffered = 0
        try:
            for batch in scanner.to_batches():
                parts.append(batch)
                buffered += batch.num_rows
                while pending and pending[0][1].num_rows <= buffered:
                    payload, key_batch, plain, listed = pending.popleft()
                    slots.release()
                    if not key_batch.num_rows:
                        yield payload, pa.array([], empty_type), Counts()
                        continue
                    verdict, parts, buffered = _take_rows(parts, key_batch.num_rows, buffered)
                    yield (payload, *self._decide(key_batch, plain, verdict, listed, explain=explain))
        finally:
            finished.set()
        while pending:  # empty batches (and, at worst, a scanner that lost rows: caught below)
            payload, key_batch, _plain, _listed = pending.popleft()
            if key_batch.num_rows:
                raise ClientError(f"internal error: {key_batch.num_rows} rows came back without a verdict")
            yield payload, pa.array([], empty_type), Counts()

    def _derived(self, key_batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.Array | None]:
        # The lookup columns (lower-cased `owner/name`, its owner, the blob id) and which rows are plain `owner/name`
        # values; everything else identity reads differently and takes the slow path, to be matched (or refused)
        # as it does: names ending in ".git" (stripped), "." and "..", owners that are GitHub pages or a local host.
        rows = key_batch.num_rows
        blob = key_batch.column("blob")
        if not self.repositories:
            nothing = pa.nulls(rows, pa.string())
            return pa.record_batch([nothing, nothing, blob], schema=LOOKUP_SCHEMA), None
        low = pc.ascii_lower(key_batch.column("repo"))
        owner = pc.list_element(pc.split_pattern(low, "/", max_splits=1), 0)
        special = pc.or_kleene(
            pc.or_kleene(pc.ends_with(low, ".git"), pc.ends_with(low, "/.")),
            pc.or_kleene(pc.ends_with(low, "/.."), pc.is_in(owner, value_set=_NOT_OWNERS)),
        )
        plain = pc.and_(pc.match_substring_regex(low, _PLAIN_REPO_NAME), pc.invert(special))
        return pa.record_batch([low, owner, blob], schema=LOOKUP_SCHEMA), pc.fill_null(plain, False)

    def _decide(
        self,
        key_batch: pa.RecordBatch,
        plain: pa.Array | None,
        verdict: pa.Table,
        listed: pa.Array | None,
        *,
        explain: bool = False,
    ) -> tuple[pa.Array, Counts]:
        rows = key_batch.num_rows
        counts = Counts(rows_in=rows)
        blob = listed if listed is not None else _column(verdict, "blob", rows)
        if self.repositories:
            # Set lookups answer for plain values only; `plain` is false where the repository is null.
            repository = pc.and_(_column(verdict, "repository", rows), plain)
            namespace = pc.and_(_column(verdict, "namespace", rows), plain)
            slow = pc.and_(pc.invert(plain), pc.is_valid(key_batch.column("repo")))
            if pc.any(slow).as_py():
                repository, namespace, counts.unreadable_repositories = self._slow_path(
                    key_batch.column("repo"), slow, repository, namespace
                )
            by_repository = pc.or_(repository, namespace)
            counts.dropped["repository"] = _true_count(repository)
            counts.dropped["namespace"] = _true_count(pc.and_(namespace, pc.invert(repository)))
            counts.dropped["blob"] = _true_count(pc.and_(blob, pc.invert(by_repository)))
            dropped = pc.or_(by_repository, blob)
            matched = {"repository": repository, "namespace": namespace, "blob": blob}
        else:
            counts.dropped["blob"] = _true_count(blob)
            dropped = blob
            matched = {"blob": blob}
        counts.rows_kept = rows - sum(counts.dropped.values())
        if explain:
            # The first rule a row meets, in REASONS order: the one its drop is counted under.
            conditions = pc.make_struct(*matched.values(), field_names=list(matched))
            return pc.case_when(conditions, *(pa.scalar(reason) for reason in matched)), counts
        return pc.invert(dropped), counts

    def _slow_path(self, values: pa.Array, slow: pa.Array, repository: pa.Array, namespace: pa.Array):
        # Each distinct value is parsed once (and remembered); rows get their value's answer by index.
        positions = pc.indices_nonzero(slow)
        texts = pc.take(values, positions)
        distinct = pc.unique(texts)
        answers = []
        for text in distinct.to_pylist():
            if text not in self._slow_cache:
                if len(self._slow_cache) >= _SLOW_CACHE_LIMIT:
                    self._slow_cache.clear()
                self._slow_cache[text] = _answer(self.release, text)
            answers.append(self._slow_cache[text])
        per_row = pc.take(pa.array(answers, pa.string()), pc.index_in(texts, value_set=distinct))
        unreadable = _true_count(pc.equal(per_row, "unreadable"))
        # Back into full-length masks: the slow rows' entries are in `positions` order, as the mask's are.
        repository = pc.replace_with_mask(repository, slow, pc.equal(per_row, "repository"))
        namespace = pc.replace_with_mask(namespace, slow, pc.equal(per_row, "namespace"))
        return repository, namespace, unreadable


def filter_table(
    release: "Release", table: pa.Table, *, repo_column: str | None = "repo_name", blob_column: str | None = "blob_id"
) -> pa.Table:
    """The rows of `table` the release lets through, with the same schema; `None` skips a column's rule."""
    kept, _counts = filter_table_counted(release, table, repo_column=repo_column, blob_column=blob_column)
    return kept


def filter_table_counted(release, table, *, repo_column="repo_name", blob_column="blob_id") -> tuple[pa.Table, Counts]:
    matcher = Matcher(release, repositories=repo_column is not None, blobs=blob_column is not None)
    counts = Counts()
    kept = []
    items = ((batch, key_batch(batch, repo_column, blob_column)) for batch in table.to_batches())
    for batch, keep, batch_counts in matcher.verdicts(items):
        counts.add(batch_counts)
        kept.append(batch.filter(keep) if batch.num_rows else batch)
    return pa.Table.from_batches(kept, schema=table.schema), counts


def key_batch(batch: pa.RecordBatch, repo_column: str | None, blob_column: str | None, *, source: str = "the table"):
    """The `repo` and `blob` columns the matcher reads, as plain strings (nulls when a rule is off)."""
    columns = []
    for wanted in (repo_column, blob_column):
        if wanted is None:
            columns.append(pa.nulls(batch.num_rows, pa.string()))
            continue
        index = batch.schema.get_field_index(wanted)
        if index < 0:
            raise ClientError(f"{source}: no column {wanted!r} (it has {', '.join(batch.schema.names)})")
        column = batch.column(index)
        if column.type != pa.string():
            try:
                column = column.cast(pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise ClientError(f"{source}: column {wanted!r} is {column.type}, not text") from None
        columns.append(column)
    return pa.record_batch(columns, schema=KEY_SCHEMA)


def _answer(release: "Release", text: str) -> str:
    # One parse tells a value that names no repository ("unreadable", counted) from one the release lets through.
    try:
        canonical, namespace = canonical_and_namespace(text)
    except RepositoryParseError:
        return "unreadable"
    return release.listed_reason(canonical, namespace) or "kept"


def _take_rows(parts: list[pa.RecordBatch], count: int, buffered: int):
    table = pa.Table.from_batches(parts)
    taken = table.slice(0, count)
    rest = table.slice(count)
    rest_batches = rest.to_batches() if rest.num_rows else []
    return taken, rest_batches, buffered - count


def _column(verdict: pa.Table, name: str, rows: int) -> pa.Array:
    # A rule the release lists nothing for has no lookup: no row matches it. Nulls (no value) match nothing.
    if name not in verdict.column_names:
        return pa.repeat(pa.scalar(False), rows)
    column = verdict.column(name)
    column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return pc.fill_null(column, False) if column.null_count else column


def _true_count(mask: pa.Array) -> int:
    return pc.sum(mask).as_py() or 0
