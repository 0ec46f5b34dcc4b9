"""Streaming readers for inventory files: JSON Lines, CSV (either optionally gzipped) and Parquet.

A file is read a batch at a time, never whole, and a row that cannot be read
becomes a row with a `problem` instead of stopping the file: one bad line in a
million must not cost the other 999,999. Only a file that cannot be read at all
(missing, unknown format, no repository column) raises InventoryFileError.
"""

import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from governance.exceptions import GovernanceError

REPOSITORY_COLUMNS = ("repository", "repo_name")
COMMIT_COLUMNS = ("commit", "revision_id")
PARQUET_BATCH_ROWS = 65_536
_COMMIT_RE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class InventoryFileError(GovernanceError):
    code = "unreadable_file"


@dataclass(slots=True)
class InventoryRow:
    row: int  # as a person finds it: the line in JSONL and CSV, the 1-based row in Parquet
    repository: str | None = None
    commit: str = ""
    problem: str | None = None


def normalize_commit(value) -> tuple[str, str | None]:
    """('' or a lower-case SHA, None) or ('', why the value is not a commit)."""
    if value is None:
        return "", None
    if not isinstance(value, str):
        return "", f"commit {value!r} is not text"
    commit = value.strip().lower()
    if commit == "" or _COMMIT_RE.fullmatch(commit):
        return commit, None
    shown = value if len(value) <= 80 else value[:77] + "…"
    return "", f"commit {shown!r} is not a full 40- or 64-character hex SHA"


def _row_from_values(row: int, repository, commit) -> InventoryRow:
    if repository is None or (isinstance(repository, str) and not repository.strip()):
        return InventoryRow(row, problem="has no repository (the repo_name or repository value is empty)")
    if not isinstance(repository, str):
        return InventoryRow(row, problem=f"repository {repository!r} is not text")
    commit_value, problem = normalize_commit(commit)
    if problem:
        return InventoryRow(row, repository=repository, problem=problem)
    return InventoryRow(row, repository=repository, commit=commit_value)


def _pick(columns, wanted: tuple[str, ...]) -> str | None:
    return next((name for name in wanted if name in columns), None)


class InventoryFile:
    """One inventory file; iterate it for InventoryRow, read `fraction_done` for progress."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        name = self.path.name.lower()
        self.compressed = name.endswith(".gz")
        stem = name.removesuffix(".gz")
        if stem.endswith((".jsonl", ".ndjson")):
            self.format = "jsonl"
        elif stem.endswith(".csv"):
            self.format = "csv"
        elif stem.endswith(".parquet") and not self.compressed:
            self.format = "parquet"
        else:
            raise InventoryFileError(
                f"{self.path.name}: unknown format; name the file .jsonl, .csv (either may end in .gz) or .parquet"
            )
        if not self.path.is_file():
            raise InventoryFileError(f"{self.path}: no such file")
        self.size = self.path.stat().st_size
        self.rows_total: int | None = None
        self._raw = None
        self._parquet = None
        self._rows_yielded = 0
        if self.format == "parquet":
            self._open_parquet()

    def _open_parquet(self) -> None:
        try:
            self._parquet = pq.ParquetFile(self.path)
        except (pa.ArrowInvalid, OSError) as error:
            raise InventoryFileError(f"{self.path.name}: not a readable Parquet file ({error})") from error
        names = self._parquet.schema_arrow.names
        self._repository_column = _pick(names, REPOSITORY_COLUMNS)
        self._commit_column = _pick(names, COMMIT_COLUMNS)
        if self._repository_column is None:
            raise InventoryFileError(
                f"{self.path.name}: no 'repo_name' or 'repository' column (it has: {', '.join(names[:20])})"
            )
        column_type = self._parquet.schema_arrow.field(self._repository_column).type
        if not (pa.types.is_string(column_type) or pa.types.is_large_string(column_type)):
            raise InventoryFileError(
                f"{self.path.name}: column {self._repository_column!r} holds {column_type}, not text"
            )
        self.rows_total = self._parquet.metadata.num_rows

    @property
    def fraction_done(self) -> float:
        if self.format == "parquet":
            return self._rows_yielded / self.rows_total if self.rows_total else 1.0
        if self._raw is None or not self.size:
            return 0.0
        try:
            return min(self._raw.tell() / self.size, 1.0)
        except (OSError, ValueError):
            return 0.0

    def __iter__(self) -> Iterator[InventoryRow]:
        if self.format == "parquet":
            yield from self._parquet_rows()
            return
        with open(self.path, "rb") as raw:
            self._raw = raw
            stream = gzip.GzipFile(fileobj=raw) if self.compressed else raw
            try:
                if self.format == "jsonl":
                    yield from self._jsonl_rows(stream)
                else:
                    yield from self._csv_rows(stream)
            except (OSError, EOFError, gzip.BadGzipFile) as error:
                # A truncated or corrupt gzip stream: the rows before it are kept.
                raise InventoryFileError(f"{self.path.name}: the file is damaged and stops early ({error})") from error

    def _parquet_rows(self) -> Iterator[InventoryRow]:
        columns = [self._repository_column] + ([self._commit_column] if self._commit_column else [])
        row = 0
        for batch in self._parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
            repositories = batch.column(0).to_pylist()
            commits = batch.column(1).to_pylist() if self._commit_column else [None] * len(repositories)
            for repository, commit in zip(repositories, commits, strict=True):
                row += 1
                yield _row_from_values(row, repository, commit)
            self._rows_yielded = row

    def _jsonl_rows(self, stream) -> Iterator[InventoryRow]:
        loads = json.loads
        for line_number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                record = loads(line)
            except UnicodeDecodeError:
                yield InventoryRow(line_number, problem="is not UTF-8 text")
                continue
            except json.JSONDecodeError as error:
                yield InventoryRow(line_number, problem=f"is not valid JSON ({error.msg} at character {error.pos + 1})")
                continue
            if not isinstance(record, dict):
                yield InventoryRow(line_number, problem="is not a JSON object")
                continue
            column = _pick(record, REPOSITORY_COLUMNS)
            if column is None:
                yield InventoryRow(line_number, problem="has no 'repo_name' or 'repository' field")
                continue
            commit_column = _pick(record, COMMIT_COLUMNS)
            yield _row_from_values(line_number, record[column], record.get(commit_column) if commit_column else None)

    def _csv_rows(self, stream) -> Iterator[InventoryRow]:
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise InventoryFileError(f"{self.path.name}: the header line is not CSV ({error})") from error
        header = [name.strip().lstrip("\ufeff") for name in header]
        repository_column = _pick(header, REPOSITORY_COLUMNS)
        if repository_column is None:
            raise InventoryFileError(
                f"{self.path.name}: no 'repo_name' or 'repository' column in the header "
                f"(it has: {', '.join(header[:20])})"
            )
        repository_index = header.index(repository_column)
        commit_column = _pick(header, COMMIT_COLUMNS)
        commit_index = header.index(commit_column) if commit_column else None
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield InventoryRow(reader.line_num, problem=f"is not valid CSV ({error})")
                continue
            if not fields or all(not field.strip() for field in fields):
                continue
            if len(fields) != len(header):
                yield InventoryRow(
                    reader.line_num, problem=f"has {len(fields)} fields where the header has {len(header)}"
                )
                continue
            commit = fields[commit_index] if commit_index is not None else None
            yield _row_from_values(reader.line_num, fields[repository_index], commit)
