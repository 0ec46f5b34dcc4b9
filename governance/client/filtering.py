"""Which rows of a record-batch stream a release excludes, computed by Arrow a batch at a time.

Arrow's `is_in` builds a hash set of its value set on every call; for ten million blob ids that costs
seconds, so calling it per batch would dominate. Inside a dataset Scanner, a bound expression builds it
once and probes it for every batch: the key columns of every batch are fed through one Scanner
(`Scanner.from_batches`, single-threaded, so batches come out in the order they went in), and the
verdicts are paired back with the batches they came from by row count.

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

from governance.client.errors import ClientError
from governance.identity import GITHUB_NOT_OWNERS, RepositoryParseError, canonical_and_namespace

if TYPE_CHECKING:  # a release holds the lookups this module applies; release.py imports this module
    from governance.client.release import Release

# Why a row is dropped, in the order the counts name them.
REASONS = ("repository", "namespace", "blob")

KEY_SCHEMA = pa.schema([("repo", pa.string()), ("blob", pa.string())])
# An owner/name GitHub can have, typed as The Stack writes it. Anything else goes through identity parsing.
_PLAIN_REPO_NAME = r"^(?P<owner>[a-z0-9_-]+)/(?P<name>[a-z0-9._-]+)$"
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


class Matcher:
    """The release's lookups as Arrow expressions, plus the per-value fallback for other spellings."""

    def __init__(self, release: "Release", *, repositories: bool = True, blobs: bool = True):
        self.release = release
        low = pc.ascii_lower(pc.field("repo"))
        false = pc.scalar(False)
        projection = {"plain": false, "repository": false, "namespace": false, "blob": false}
        if repositories:
            owners = release.github_paths("namespace")
            parts = pc.extract_regex(low, _PLAIN_REPO_NAME)
            owner, name = pc.struct_field(parts, "owner"), pc.struct_field(parts, "name")
            if len(owners):
                projection["namespace"] = pc.is_in(owner, value_set=owners)
            # What identity reads differently takes the slow path, to be matched (or refused) as it does: names
            # ending in ".git" (stripped), "." and "..", and owners that are GitHub pages or a local host.
            plain = pc.and_kleene(
                pc.is_valid(parts),
                pc.invert(
                    pc.or_kleene(
                        pc.or_kleene(pc.ends_with(low, ".git"), pc.is_in(name, value_set=pa.array([".", ".."]))),
                        pc.is_in(owner, value_set=_NOT_OWNERS),
                    )
                ),
            )
            projection["plain"] = pc.coalesce(plain, pc.scalar(True))  # null: no repository, nothing to parse
            projection["repository"] = pc.is_in(low, value_set=release.github_paths("repository"))
            projection["namespace"] = pc.and_kleene(projection["namespace"], projection["plain"])
            projection["repository"] = pc.and_kleene(projection["repository"], projection["plain"])
        if blobs and len(release.blob_ids):
            projection["blob"] = pc.is_in(pc.field("blob"), value_set=release.blob_ids)
        self.projection = {name: pc.coalesce(expression, false) for name, expression in projection.items()}
        self.repositories = repositories
        self._slow_cache: dict[str, str | None] = {}

    def verdicts(self, items: Iterable[tuple[object, pa.RecordBatch]]) -> Iterator[tuple[object, pa.Array, Counts]]:
        """For each (payload, keys) in order: (payload, keep mask, counts). `keys` holds `repo` and `blob` columns."""
        pending: deque = deque()
        # The Scanner pulls `keys()` from a thread of its own and reads well ahead; each batch in flight holds
        # its whole payload, so the reader waits for a free slot (never for long: a stall only costs memory).
        slots = threading.Semaphore(READ_AHEAD_BATCHES)
        finished = threading.Event()

        def keys() -> Iterator[pa.RecordBatch]:
            for payload, key_batch in items:
                waited = 0.0
                while not slots.acquire(timeout=0.05) and waited < 1.0 and not finished.is_set():
                    waited += 0.05
                pending.append((payload, key_batch))
                if key_batch.num_rows:
                    yield key_batch.select(["repo", "blob"])

        scanner = ds.Scanner.from_batches(
            keys(),
            schema=KEY_SCHEMA,
            columns=self.projection,
            use_threads=False,
            batch_readahead=1,
            fragment_readahead=1,
        )
        parts: list[pa.RecordBatch] = []
        buffered = 0
        try:
            for batch in scanner.to_batches():
                parts.append(batch)
                buffered += batch.num_rows
                while pending and pending[0][1].num_rows <= buffered:
                    payload, key_batch = pending.popleft()
                    slots.release()
                    if not key_batch.num_rows:
                        yield payload, pa.array([], pa.bool_()), Counts()
                        continue
                    verdict, parts, buffered = _take_rows(parts, key_batch.num_rows, buffered)
                    yield (payload, *self._decide(key_batch, verdict))
        finally:
            finished.set()
        while pending:  # empty batches (and, at worst, a scanner that lost rows: caught below)
            payload, key_batch = pending.popleft()
            if key_batch.num_rows:
                raise ClientError(f"internal error: {key_batch.num_rows} rows came back without a verdict")
            yield payload, pa.array([], pa.bool_()), Counts()

    def _decide(self, key_batch: pa.RecordBatch, verdict: pa.Table) -> tuple[pa.Array, Counts]:
        repository = _column(verdict, "repository")
        namespace = _column(verdict, "namespace")
        counts = Counts(rows_in=key_batch.num_rows)
        if self.repositories:
            slow = pc.and_(pc.invert(_column(verdict, "plain")), pc.is_valid(key_batch.column("repo")))
            if pc.any(slow).as_py():
                repository, namespace, counts.unreadable_repositories = self._slow_path(
                    key_batch.column("repo"), slow, repository, namespace
                )
        blob = _column(verdict, "blob")
        by_repository = pc.or_(repository, namespace)
        dropped = pc.or_(by_repository, blob)
        counts.dropped["repository"] = _true_count(repository)
        counts.dropped["namespace"] = _true_count(pc.and_(namespace, pc.invert(repository)))
        counts.dropped["blob"] = _true_count(pc.and_(blob, pc.invert(by_repository)))
        keep = pc.invert(dropped)
        counts.rows_kept = counts.rows_in - sum(counts.dropped.values())
        return keep, counts

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


def _column(verdict: pa.Table, name: str) -> pa.Array:
    column = verdict.column(name)
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _true_count(mask: pa.Array) -> int:
    return pc.sum(mask).as_py() or 0
