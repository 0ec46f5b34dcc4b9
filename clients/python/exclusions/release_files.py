"""The files of one exclusion-list release, written and read as streams.

Writers take any iterable and hold one batch of rows at a time, so a release of any size is written in
bounded memory; readers yield rows from Parquet batches. Inputs must come sorted (repositories by
(repository, scope) in Python string order, which is UTF-8 byte order and PostgreSQL's COLLATE "C", not a
locale's order; blob ids ascending): sorted files are what let changes_diff compare two releases as a merge
without loading either. Pure Python + pyarrow, so the pipeline client can import it without Django.
"""

import hashlib
import heapq
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from json.encoder import encode_basestring as _quoted
from pathlib import Path
from typing import TextIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

BATCH_ROWS = 50_000
REPOSITORIES_JSONL = "repositories.jsonl"
REPOSITORIES_PARQUET = "repositories.parquet"
BLOBS_PARQUET = "blobs.parquet"
CHANGES_JSONL = "changes.jsonl"
SCOPES = ("repository", "namespace")
CHANGE_OPS = ("add", "remove")

REPOSITORIES_SCHEMA = pa.schema(
    [
        pa.field("repository", pa.string(), nullable=False),
        pa.field("scope", pa.string(), nullable=False),
        pa.field("reasons", pa.list_(pa.field("element", pa.string())), nullable=False),
        pa.field("since", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
BLOBS_SCHEMA = pa.schema(
    [
        pa.field("blob_id", pa.string(), nullable=False),
        # Null for a file of an excluded repository; for a file excluded alone (a path reservation, a license
        # that governs only part of a repository): its public reason and its path in the repository.
        pa.field("reason", pa.string()),
        pa.field("path", pa.string()),
    ]
)

_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class ExcludedRow:
    repository: str  # canonical "github.com/owner/name", or "github.com/owner" for a namespace
    scope: str  # "repository" | "namespace"
    reasons: tuple[str, ...]  # sorted public reason codes: "opt-out", "license:GPL-3.0-only", …
    since: str  # ISO 8601 date-time in UTC, "2026-11-26T21:52:00Z"


@dataclass(frozen=True, slots=True)
class ExcludedBlob:
    """A file excluded alone, the rest of its repository staying in."""

    blob_id: str  # git blob SHA-1, 40 lower-case hex
    reason: str  # public reason code: "reservation:gitattributes", "license:GPL-3.0-only", …
    path: str  # where the reservation or label found it


@dataclass(frozen=True)
class FileInfo:
    name: str
    bytes: int
    rows: int
    sha256: str  # hex digest of the file as written

    def as_dict(self) -> dict:
        return {"name": self.name, "bytes": self.bytes, "rows": self.rows, "sha256": self.sha256}


def repositories_write(rows: Iterable[ExcludedRow], folder: Path) -> tuple[FileInfo, FileInfo]:
    """Write repositories.jsonl and repositories.parquet in one pass over rows sorted by (repository, scope)."""
    jsonl_path, parquet_path = Path(folder) / REPOSITORIES_JSONL, Path(folder) / REPOSITORIES_PARQUET
    batch: dict[str, list] = {name: [] for name in REPOSITORIES_SCHEMA.names}
    count = 0
    with (
        _staged(jsonl_path) as jsonl_partial,
        _staged(parquet_path) as parquet_partial,
        open(jsonl_partial, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as jsonl,
        _parquet_writer(parquet_partial, REPOSITORIES_SCHEMA) as parquet,
    ):
        for row in _in_order(rows, "rows"):
            if row.scope not in SCOPES:
                raise ValueError(f"{row.repository}: scope must be 'repository' or 'namespace', not {row.scope!r}")
            if len(row.reasons) > 1 and list(row.reasons) != sorted(set(row.reasons)):
                raise ValueError(f"{row.repository}: reasons must be sorted and listed once each, not {row.reasons}")
            batch["repository"].append(row.repository)
            batch["scope"].append(row.scope)
            batch["reasons"].append(row.reasons)
            batch["since"].append(row.since)
            count += 1
            if count % BATCH_ROWS == 0:
                _flush(batch, jsonl, parquet)
        _flush(batch, jsonl, parquet)
    return file_info(jsonl_path, count), file_info(parquet_path, count)


def repositories_read(path: Path) -> Iterator[ExcludedRow]:
    """Yield the rows of a repositories.parquet in file order, one batch in memory at a time."""
    with pq.ParquetFile(path) as parquet:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=REPOSITORIES_SCHEMA.names):
            columns = batch.set_column(3, "since", _since_texts(batch.column("since"))).to_pydict()
            for repository, scope, reasons, since in zip(*columns.values(), strict=True):
                yield ExcludedRow(repository, scope, tuple(reasons), since)


def repositories_lookup(path: Path, names: Iterable[str]) -> dict[tuple[str, str], set[str]]:
    """The rows of a repositories.parquet naming one of `names`: (repository, scope) → public reasons.

    Filtered while reading (row-group statistics skip what cannot match), never loaded whole.
    """
    wanted = sorted(set(names))
    if not wanted:
        return {}
    table = pq.read_table(path, columns=["repository", "scope", "reasons"], filters=pc.field("repository").isin(wanted))
    return {(row["repository"], row["scope"]): set(row["reasons"]) for row in table.to_pylist()}


def blobs_write(blobs: Iterable[str | ExcludedBlob], folder: Path) -> FileInfo:
    """Write blobs.parquet from blobs in ascending blob id order: plain ids (files of excluded repositories) or
    ExcludedBlob rows (files excluded alone). A blob id given twice keeps its first row."""
    path = Path(folder) / BLOBS_PARQUET
    items = iter(blobs)
    last = ""  # sorts before every blob id, so the first batch needs no special case
    count = 0
    # Random ids never repeat within a file, so a dictionary would only cost time before falling back.
    with _staged(path) as partial, _parquet_writer(partial, BLOBS_SCHEMA, use_dictionary=False) as parquet:
        while chunk := list(islice(items, BATCH_ROWS)):
            batch = _blobs_batch(chunk, last)
            parquet.write_batch(batch)
            count += batch.num_rows
            last = batch.column(0)[-1].as_py() if batch.num_rows else last
    return file_info(path, count)


def _blobs_batch(chunk: list, last: str) -> pa.RecordBatch:
    try:  # the common case, ids only: no per-item Python work
        ids, reasons, paths = pa.array(chunk, pa.string()), None, None
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        rows = [(item, None, None) if isinstance(item, str) else _excluded_blob(item) for item in chunk]
        ids, reasons, paths = (pa.array(column, pa.string()) for column in zip(*rows, strict=True))
    kept = _checked_blob_ids(ids, last)
    nulls = pa.nulls(len(ids), pa.string())
    columns = [ids, nulls if reasons is None else reasons, nulls if paths is None else paths]
    return pa.record_batch([column.filter(kept) for column in columns], schema=BLOBS_SCHEMA)


def _excluded_blob(item) -> tuple:
    if not isinstance(item, ExcludedBlob):
        raise ValueError(f"blob ids must be text or ExcludedBlob rows, not {type(item).__name__}")
    return item.blob_id, item.reason, item.path


def blobs_read(path: Path) -> Iterator[str]:
    """Yield the blob ids of a blobs.parquet in file (ascending) order."""
    with pq.ParquetFile(path) as parquet:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=BLOBS_SCHEMA.names):
            yield from batch.column(0).to_pylist()


def blob_rows_read(path: Path) -> Iterator[tuple[str, str | None, str | None]]:
    """Yield the (blob_id, reason, path) rows of a blobs.parquet in file (ascending) order."""
    with pq.ParquetFile(path) as parquet:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=BLOBS_SCHEMA.names):
            yield from zip(*(column.to_pylist() for column in batch.columns), strict=True)


def blob_changes_diff(
    previous: Iterable[tuple[str, str | None, str | None]], current: Iterable[tuple[str, str | None, str | None]]
) -> Iterator[dict]:
    """Yield the blob changes (`"kind": "blob"`) that turn the previous release's blob rows into the current ones.

    Rows in ascending blob id order, as blobs.parquet holds them. A blob whose reason or path changed is a remove
    and then an add, as for repositories; an add carries the row (`reason` and `path` null for the blobs of
    excluded repositories), a remove only the id.
    """
    old_rows, new_rows = iter(previous), iter(current)
    old, new = next(old_rows, None), next(new_rows, None)
    while old is not None or new is not None:
        if new is None or (old is not None and old[0] < new[0]):
            yield {"op": "remove", "kind": "blob", "blob_id": old[0]}
            old = next(old_rows, None)
        elif old is None or new[0] < old[0]:
            yield {"op": "add", "kind": "blob", "blob_id": new[0], "reason": new[1], "path": new[2]}
            new = next(new_rows, None)
        else:
            if old != new:
                yield {"op": "remove", "kind": "blob", "blob_id": old[0]}
                yield {"op": "add", "kind": "blob", "blob_id": new[0], "reason": new[1], "path": new[2]}
            old, new = next(old_rows, None), next(new_rows, None)


def blob_changes_apply(
    rows: Iterable[tuple[str, str | None, str | None]], changes: Iterable[dict]
) -> Iterator[tuple[str, str | None, str | None]]:
    """Release N's blob rows from release N-1's (sorted) rows and N's blob changes, streamed in the same order."""
    removals, additions = set(), {}
    for change in changes:
        if change["op"] == "remove":
            removals.add(change["blob_id"])
        elif change["op"] == "add":
            additions[change["blob_id"]] = (change["blob_id"], change.get("reason"), change.get("path"))
        else:
            raise ValueError(f"unknown change op {change['op']!r}")

    def kept():
        for row in rows:
            if row[0] in removals:
                removals.discard(row[0])
            elif row[0] in additions:
                raise ValueError(f"the changes add blob {row[0]}, which the older release already holds")
            else:
                yield row
        if removals:
            raise ValueError(f"the changes remove blob {min(removals)}, which the older release does not hold")

    added = sorted(additions.values(), key=lambda row: row[0])
    return heapq.merge(kept(), added, key=lambda row: row[0])


def blob_rows_writable(rows: Iterable[tuple[str, str | None, str | None]]) -> Iterator[str | ExcludedBlob]:
    """(blob_id, reason, path) rows as blobs_write takes them: a plain id for the blob of an excluded repository."""
    for blob_id, reason, path in rows:
        yield blob_id if reason is None and path is None else ExcludedBlob(blob_id, reason, path)


def changes_diff(previous: Iterable[ExcludedRow], current: Iterable[ExcludedRow]) -> Iterator[dict]:
    """Yield the add and remove changes that turn the previous release's rows into the current ones."""
    # A row in both releases whose reasons or since changed yields a "remove" and then an "add" of the new
    # row: consumers then need only two operations, and applying the changes in order to release N-1 gives
    # release N exactly. Changes come in (repository, scope) order, like the rows.
    old_rows, new_rows = _in_order(previous, "previous rows"), _in_order(current, "current rows")
    old, new = next(old_rows, None), next(new_rows, None)
    while old is not None or new is not None:
        if new is None or (old is not None and (old.repository, old.scope) < (new.repository, new.scope)):
            yield _removal(old)
            old = next(old_rows, None)
        elif old is None or (new.repository, new.scope) < (old.repository, old.scope):
            yield _addition(new)
            new = next(new_rows, None)
        else:
            if not _same_content(old, new):
                yield _removal(old)
                yield _addition(new)
            old, new = next(old_rows, None), next(new_rows, None)


def changes_write(changes: Iterable[dict], folder: Path) -> FileInfo:
    """Write changes.jsonl, one change a line."""
    path = Path(folder) / CHANGES_JSONL
    count = 0
    with _staged(path) as partial, open(partial, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
        for change in changes:
            if change.get("op") not in CHANGE_OPS:
                raise ValueError(f"a change needs an op of 'add' or 'remove', not {change.get('op')!r}")
            out.write(_JSON.encode(change) + "\n")
            count += 1
    return file_info(path, count)


def changes_read(path: Path) -> Iterator[dict]:
    """Yield the changes of a changes.jsonl in file order."""
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def file_info(path: Path, rows: int) -> FileInfo:
    """Name, size, row count and SHA-256 of a written file, read in 1 MiB chunks."""
    path = Path(path)
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return FileInfo(name=path.name, bytes=size, rows=rows, sha256=digest.hexdigest())


@contextmanager
def _staged(path: Path) -> Iterator[Path]:
    # A writer stopped half-way (by unsorted input, say) must not leave a file that looks complete: a
    # Parquet writer closed by the exception would give a truncated list a valid footer.
    partial = path.with_name(path.name + ".partial")
    try:
        yield partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)


def _parquet_writer(path: Path, schema: pa.Schema, use_dictionary: bool = True) -> pq.ParquetWriter:
    # The sort order is recorded in the metadata so that readers may rely on it (and skip row groups).
    sorting = [pq.SortingColumn(index) for index in range(2 if schema is REPOSITORIES_SCHEMA else 1)]
    return pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=use_dictionary, sorting_columns=sorting)


def _flush(batch: dict[str, list], jsonl: TextIO, parquet: pq.ParquetWriter) -> None:
    if not batch["repository"]:
        return
    try:
        since = pa.array(batch["since"], pa.string()).cast(REPOSITORIES_SCHEMA.field("since").type)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise ValueError(
            f"since must be an ISO 8601 date-time with a zone, like 2026-11-26T21:52:00Z ({error})"
        ) from None
    since_texts = _since_texts(since).to_pylist()
    # Assembled by hand with json's own string escaping: json.dumps of a dict a row costs four times as much.
    lines = zip(batch["repository"], batch["scope"], batch["reasons"], since_texts, strict=True)
    for repository, scope, reasons, moment in lines:
        jsonl.write(
            f'{{"repository":{_quoted(repository)},"scope":{_quoted(scope)},'
            f'"reasons":[{",".join(map(_quoted, reasons))}],"since":"{moment}"}}\n'
        )
    columns = [batch["repository"], batch["scope"], batch["reasons"], since]
    parquet.write_batch(pa.record_batch(columns, schema=REPOSITORIES_SCHEMA))
    for values in batch.values():
        values.clear()


def _since_texts(since: pa.Array) -> pa.Array:
    # One spelling for one instant ("2026-11-26T21:52:00Z", microseconds only when there are some), made by
    # Arrow a batch at a time: converting each value to a Python datetime costs ten times as much.
    texts = pc.replace_substring(since.cast(pa.timestamp("us")).cast(pa.string()), " ", "T", max_replacements=1)
    return pc.replace_substring(pc.binary_join_element_wise(texts, "Z", ""), ".000000Z", "Z")


def _canonical_since(since: str) -> str:
    # Python spells a UTC instant as _since_texts does; rows from elsewhere may say "+00:00" for "Z".
    moment = datetime.fromisoformat(since)
    if moment.tzinfo is None:
        raise ValueError(f"since {since!r} has no time zone; give it in UTC, like 2026-11-26T21:52:00Z")
    return moment.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"


def _checked_blob_ids(column: pa.Array, last: str) -> pa.Array:
    """The mask of rows to keep (each id once), after checking the ids are blob ids in ascending order."""
    # Checked a batch at a time in Arrow: a per-id Python check would dominate writing ten million ids.
    # Forty characters, none left once hex digits are trimmed: a quarter of the time of a regex match.
    hex_only = pc.equal(pc.binary_length(pc.ascii_ltrim(column, "0123456789abcdef")), 0)
    valid = pc.fill_null(pc.and_(pc.equal(pc.binary_length(column), 40), hex_only), False)
    if not pc.all(valid).as_py():
        bad = column[pc.index(valid, False).as_py()].as_py()
        raise ValueError(f"{bad!r} is not a blob id: 40 lower-case hex characters (a git blob SHA-1)")
    before = pa.concat_arrays([pa.array([last], pa.string()), column.slice(0, len(column) - 1)])
    ordered = pc.greater_equal(column, before)
    if not pc.all(ordered).as_py():
        at = pc.index(ordered, False).as_py()
        raise ValueError(
            f"blob ids must be sorted ascending: {column[at].as_py()!r} comes after {before[at].as_py()!r}"
        )
    return pc.not_equal(column, before)


def _in_order(rows: Iterable[ExcludedRow], side: str) -> Iterator[ExcludedRow]:
    previous_key = None
    for row in rows:
        key = (row.repository, row.scope)
        if previous_key is not None and key <= previous_key:
            problem = "appears twice" if key == previous_key else f"comes after {previous_key}"
            raise ValueError(f"{side} must be sorted by (repository, scope): {key} {problem}")
        previous_key = key
        yield row


def _same_content(old: ExcludedRow, new: ExcludedRow) -> bool:
    same_since = old.since == new.since or _canonical_since(old.since) == _canonical_since(new.since)
    return tuple(old.reasons) == tuple(new.reasons) and same_since


def _removal(row: ExcludedRow) -> dict:
    return {"op": "remove", "repository": row.repository, "scope": row.scope}


def _addition(row: ExcludedRow) -> dict:
    since = _canonical_since(row.since)
    return {"op": "add", "repository": row.repository, "scope": row.scope, "reasons": list(row.reasons), "since": since}
