"""A datatrove block that drops the documents a verified release excludes, by the client's own rules.

    pip install 'dataset-exclusions[datatrove]'

    from exclusions.datatrove import ExclusionFilter
    pipeline = [
        ParquetReader("shards/", text_key="content"),
        ExclusionFilter("exclusions/", exclusion_writer=JsonlWriter("excluded/")),
        ParquetWriter("kept/"),
    ]

The documents' repository and blob id are read from `doc.metadata` (where datatrove's readers put every
column but the text and the id: The Stack v2's `repo_name` and `blob_id` by default) and go through the
Matcher of `exclusions filter`, a batch of documents at a time. The block pickles to the workers as its
arguments only; in a worker, the release is loaded and verified on first use, and its Matcher (Arrow's hash
tables, seconds to build for millions of blob ids) is kept for every later task of that process. A release
that does not verify fails the task with the client's message.
"""

import atexit
import contextlib
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

try:
    from datatrove.data import Document, DocumentsPipeline
    from datatrove.pipeline.filters.base_filter import BaseFilter
    from datatrove.pipeline.writers.disk_base import DiskWriter
    from datatrove.utils.batching import batched
    from datatrove.utils.logging import logger
    from datatrove.utils.typeshelper import StatHints
except ImportError as error:
    raise ImportError(
        f"exclusions.datatrove needs datatrove ({error}): pip install 'dataset-exclusions[datatrove]'"
    ) from error

import pyarrow as pa

from exclusions.errors import ClientError
from exclusions.filtering import KEY_SCHEMA, REASONS, Counts, Matcher
from exclusions.release import Release, load_release
from exclusions.store import Store

# Verified releases and open Matchers of this process: a worker running many tasks checks and builds once.
_releases: dict[tuple[str, int | None, str | None], Release] = {}
_streams: dict[tuple[int, bool, bool], "_MatcherStream"] = {}
_lock = threading.Lock()


def release_for_worker(directory: str, *, version: int | None = None, key: str | None = None) -> Release:
    """The release, loaded and verified on first use in this process; the same object afterwards."""
    # Unpinned, the directory's current release when the task starts (a later pull is taken by later tasks).
    if version is None:
        version = Store(directory).current()
    cache_key = (str(Path(directory).resolve()), version, key)
    with _lock:
        if cache_key not in _releases:
            release = load_release(directory, version=version, key=key)
            logger.info(f"exclusions: applying {release.describe()}")
            _releases[cache_key] = release
        return _releases[cache_key]


class ExclusionFilter(BaseFilter):
    """Drops documents whose repository, namespace or blob id the release lists, as `exclusions filter` does.

    Dropped documents go to `exclusion_writer` with `metadata["filter_reason"]` ("repository", "namespace" or
    "blob") and `metadata["exclusion_release"]` (the release's version); the stats count `dropped_<reason>`.
    `repo_column` / `blob_column` name the metadata keys (None turns that rule off); `version` pins a release
    (else each worker takes the directory's current one when it starts) and `key` is passed to verification.
    """

    name = "🚫 Exclusions"

    def __init__(
        self,
        release_dir: str | Path,
        *,
        version: int | None = None,
        key: str | None = None,
        repo_column: str | None = "repo_name",
        blob_column: str | None = "blob_id",
        exclusion_writer: DiskWriter | None = None,
        batch_size: int = 1000,
    ):
        if repo_column is None and blob_column is None:
            raise ValueError("ExclusionFilter: name a repo_column or a blob_column (both are None)")
        super().__init__(exclusion_writer=exclusion_writer, batch_size=batch_size)
        # Plain values only: this is what is pickled to the workers (and written to executor.json).
        self.release_dir = str(release_dir)
        self.version = version
        self.key = key
        self.repo_column = repo_column
        self.blob_column = blob_column

    def release(self) -> Release:
        """The verified release this block applies (loaded in this process on first use)."""
        return release_for_worker(self.release_dir, version=self.version, key=self.key)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        """True to keep one document, else (False, reason); `run` does the same for whole batches."""
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        """True or (False, reason) for each document of the batch."""
        return [True if why is None else (False, why) for _, reasons, _, _ in self._judged([batch]) for why in reasons]

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        """Yield the documents the release lets through; write the others to `exclusion_writer`."""
        version = self.release().version
        with self.exclusion_writer if self.exclusion_writer else contextlib.nullcontext() as writer:
            for docs, reasons, counts, key_seconds in self._judged(batched(data, self.batch_size)):
                started = time.perf_counter()
                kept = []
                for doc, reason in zip(docs, reasons, strict=True):
                    if reason is None:
                        kept.append(doc)
                        self.update_doc_stats(doc)
                    elif writer is not None:
                        doc.metadata["filter_reason"] = reason
                        doc.metadata["exclusion_release"] = version
                        writer.write(doc, rank)
                self._count(counts)
                # The block's own work (the steps before it run while it takes the next batch: not counted).
                self.stats.time_stats.update(key_seconds + time.perf_counter() - started, unit="batch")
                yield from kept

    def _judged(self, batches: Iterable[list[Document]]) -> Iterator[tuple[list[Document], list, Counts, float]]:
        # (documents, reason of each or None, counts, seconds spent on their keys), batch after batch.
        def items():
            for docs in batches:
                started = time.perf_counter()
                keys = self._keys(docs)
                yield (docs, time.perf_counter() - started), keys

        with _stream_for(self.release(), self.repo_column is not None, self.blob_column is not None) as stream:
            for (docs, key_seconds), reasons, counts in stream.judged(items()):
                yield docs, reasons.to_pylist(), counts, key_seconds

    def _keys(self, docs: list[Document]) -> pa.RecordBatch:
        columns = [self._column(docs, self.repo_column), self._column(docs, self.blob_column)]
        return pa.record_batch(columns, schema=KEY_SCHEMA)

    def _column(self, docs: list[Document], name: str | None) -> pa.Array:
        if name is None:
            return pa.nulls(len(docs), pa.string())
        try:
            values = [doc.metadata[name] for doc in docs]
        except KeyError:
            doc = next(doc for doc in docs if name not in doc.metadata)
            raise ClientError(
                f"document {doc.id}: no metadata {name!r} (it has {', '.join(doc.metadata) or 'none'}); "
                f"name the key with ExclusionFilter(repo_column=…, blob_column=…)"
            ) from None
        try:
            return pa.array(values, pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            doc = next(doc for doc in docs if not isinstance(doc.metadata[name], str | None))
            raise ClientError(f"document {doc.id}: metadata {name!r} is {doc.metadata[name]!r}, not text") from None

    def _count(self, counts: Counts) -> None:
        # Per batch, not per document: the totals are datatrove's usual names, their mean is per batch.
        self.stat_update("batches")
        self.stat_update(StatHints.total, value=counts.rows_in, unit="batch")
        self.stat_update(StatHints.forwarded, value=counts.rows_kept, unit="batch")
        dropped = sum(counts.dropped.values())
        if dropped:
            self.stat_update(StatHints.dropped, value=dropped, unit="batch")
        for reason in REASONS:
            if counts.dropped[reason]:
                self.stat_update(f"dropped_{reason}", value=counts.dropped[reason], unit="batch")
        if counts.unreadable_repositories:
            self.stat_update("unreadable_repositories", value=counts.unreadable_repositories, unit="batch")


_CLOSE = object()
_FLUSH = object()
# One null row: handed over after a task's last batch so that the Matcher answers it (its Scanner answers a
# batch once it holds the next one); its own verdict comes out, skipped, when the next task's first batch goes in.
_FLUSH_KEYS = pa.record_batch([pa.nulls(1, pa.string()), pa.nulls(1, pa.string())], schema=KEY_SCHEMA)
_AHEAD = 2  # batches handed over before a verdict is taken: bounds the documents held, whatever runs downstream


class _MatcherStream:
    """One Matcher kept open in this process, fed batch by batch from the task's thread through a queue."""

    def __init__(self, release: Release, repositories: bool, blobs: bool):
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        matcher = Matcher(release, repositories=repositories, blobs=blobs)
        self.verdicts = matcher.verdicts(iter(self.inbox.get, _CLOSE), explain=True)
        self.in_flight = 0
        self.in_use = threading.Lock()
        self.broken = False

    def judged(self, items: Iterable[tuple[object, pa.RecordBatch]]) -> Iterator[tuple[object, pa.Array, Counts]]:
        """(payload, reasons, counts) for each (payload, keys), in order; leaves the stream ready for the next."""
        complete = False
        try:
            for payload, keys in items:
                self._hand_over(payload, keys)
                if self.in_flight > _AHEAD:
                    yield from self._take()
            self._hand_over(_FLUSH, _FLUSH_KEYS)
            while self.in_flight > 1:
                yield from self._take()
            complete = True
        finally:
            if not complete:  # a failed or abandoned task leaves verdicts nobody will take: start afresh next time
                self.close()

    def _hand_over(self, payload, keys) -> None:
        self.inbox.put((payload, keys))
        self.in_flight += 1

    def _take(self):
        payload, reasons, counts = next(self.verdicts)
        self.in_flight -= 1
        if payload is not _FLUSH:
            yield payload, reasons, counts

    def close(self) -> None:
        self.broken = True
        self.inbox.put(_CLOSE)
        self.verdicts.close()


@contextlib.contextmanager
def _stream_for(release: Release, repositories: bool, blobs: bool) -> Iterator[_MatcherStream]:
    # The process's stream for this release and these rules; a private one while it is busy (two such blocks
    # in one pipeline), closed after use.
    cache_key = (id(release), repositories, blobs)
    with _lock:
        stream = _streams.get(cache_key)
        if stream is None or stream.broken:
            stream = _streams[cache_key] = _MatcherStream(release, repositories, blobs)
        shared = stream.in_use.acquire(blocking=False)
    if not shared:
        stream = _MatcherStream(release, repositories, blobs)
    try:
        yield stream
    finally:
        if shared:
            stream.in_use.release()
        else:
            stream.close()


@atexit.register
def _close_streams() -> None:
    # The Matcher's thread waits on its queue: let it finish before the interpreter does.
    for stream in list(_streams.values()):
        if not stream.broken:
            stream.close()
