"""`exclusions filter`: drop the excluded rows of Parquet and JSON Lines shards, streamed, several at once.

Each worker process loads the release once and sends all its shards through one Matcher (one set of
hash tables). Parquet is read a record batch at a time and written with the input's Arrow schema (and
its metadata) and compression, one output row group per input row group; JSON Lines are read in blocks
of lines, only the two key columns are parsed, and kept lines are written back byte for byte. Outputs go
to a temporary file renamed into place when the shard is complete: a failed shard leaves nothing.
"""

import gzip
import io
import itertools
import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from exclusions.errors import ClientError
from exclusions.filtering import KEY_SCHEMA, Counts, Matcher, key_batch
from exclusions.release import Release
from exclusions.verify import VerifiedRelease

BATCH_TARGET_BYTES = 32 << 20
MAX_BATCH_ROWS = 65_536
FLUSH_BYTES = 256 << 20
JSONL_BLOCK_BYTES = 16 << 20
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


@dataclass
class Shard:
    source: Path
    target: Path
    kind: str  # "parquet" | "jsonl"
    compressed: bool = False
    counts: Counts = field(default_factory=Counts)
    error: str | None = None
    seconds: float = 0.0

    def report(self) -> dict:
        return {
            "input": str(self.source),
            "output": None if self.error else str(self.target),
            "format": self.kind + (".gz" if self.compressed else ""),
            **self.counts.as_dict(),
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


def shards_plan(inputs: list[str], output: str) -> list[Shard]:
    """One Shard per input: OUT is a folder for several inputs (or an existing folder), else the output file."""
    if not inputs:
        raise ClientError("name at least one input shard")
    out = Path(output)
    into_folder = len(inputs) > 1 or out.is_dir() or output.endswith(os.sep)
    shards, targets = [], set()
    for text in inputs:
        source = Path(text)
        if not source.is_file():
            raise ClientError(f"{source}: no such file")
        kind, compressed = shard_format(source)
        target = out / source.name if into_folder else out
        if target in targets:
            raise ClientError(f"{source}: another input has the same name; filter them into separate folders")
        if target.exists() and target.resolve() == source.resolve():
            raise ClientError(f"{source}: the output would overwrite the input; choose another --output")
        targets.add(target)
        shards.append(Shard(source, target, kind, compressed))
    if into_folder:
        out.mkdir(parents=True, exist_ok=True)
    return shards


def shard_format(path: Path) -> tuple[str, bool]:
    name = path.name.lower()
    compressed = name.endswith(".gz")
    stem = name.removesuffix(".gz")
    if stem.endswith(".parquet") and not compressed:
        return "parquet", False
    if stem.endswith(_JSONL_SUFFIXES):
        return "jsonl", compressed
    raise ClientError(
        f"{path}: not a shard this filter reads (.parquet, .jsonl, .ndjson, optionally .gz for JSON Lines)"
    )


def shards_filter(
    verified: VerifiedRelease, shards: list[Shard], *, repo_column: str | None, blob_column: str | None, workers: int
) -> list[Shard]:
    """Filter every shard, spread over `workers` processes (1: in this process); return them with counts."""
    workers = max(1, min(workers, len(shards)))
    if workers == 1:
        return _worker(verified, shards, repo_column, blob_column)
    # Largest first to the least loaded worker: the slowest worker decides the wall time.
    loads = [[0, index, []] for index in range(workers)]
    for shard in sorted(shards, key=lambda shard: shard.source.stat().st_size, reverse=True):
        lightest = min(loads)
        lightest[0] += shard.source.stat().st_size
        lightest[2].append(shard)
    # spawn: no Arrow thread pool or open file is inherited half-way through by a forked child.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_worker, verified, group, repo_column, blob_column) for _, _, group in loads if group]
        done = {shard.source: shard for future in futures for shard in future.result()}
    return [done[shard.source] for shard in shards]


def _worker(verified, shards, repo_column, blob_column) -> list[Shard]:
    release = Release(verified)
    matcher = Matcher(release, repositories=repo_column is not None, blobs=blob_column is not None)
    writers: dict[int, _Writer] = {}
    started: dict[int, float] = {}

    def items():
        for index, shard in enumerate(shards):
            started[index] = time.perf_counter()
            try:
                read = _parquet_items if shard.kind == "parquet" else _jsonl_items
                for payload, keys in read(shard, repo_column, blob_column):
                    yield (index, payload), keys
            except (ClientError, OSError, EOFError, pa.ArrowException, ValueError) as error:
                message = str(error).splitlines()[0] if str(error) else type(error).__name__
                shard.error = message if message.startswith(str(shard.source)) else f"{shard.source}: {message}"
            yield (index, _END), _empty_keys()

    try:
        for (index, payload), keep, counts in matcher.verdicts(items()):
            shard = shards[index]
            if payload is _END:
                _finish(shard, writers.pop(index, None), repo_column, blob_column)
                shard.seconds = time.perf_counter() - started[index]
            elif not shard.error:
                if index not in writers:
                    writers[index] = _Writer.open(shard, repo_column, blob_column)
                shard.counts.add(counts)
                writers[index].write(payload, keep)
    finally:
        for writer in writers.values():  # only when something above failed: no half output stays behind
            writer.abort()
    return shards


def _finish(shard: Shard, writer, repo_column, blob_column) -> None:
    if shard.error:
        if writer is not None:
            writer.abort()
        return
    try:
        writer = writer or _Writer.open(shard, repo_column, blob_column)  # an empty shard: an empty output
        writer.close()
    except (OSError, pa.ArrowException) as error:
        shard.error = f"{shard.target}: {error}"
        if writer is not None:
            writer.abort()


_END = object()
_FLUSH = "flush"


def _empty_keys() -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=KEY_SCHEMA)


def _parquet_items(shard: Shard, repo_column, blob_column):
    with pq.ParquetFile(shard.source) as parquet:
        names = parquet.schema_arrow.names
        for wanted in (repo_column, blob_column):
            if wanted is not None and wanted not in names:
                raise ClientError(f"{shard.source}: no column {wanted!r} (it has {', '.join(names)})")
        metadata = parquet.metadata
        for group in range(metadata.num_row_groups):
            rows, size = metadata.row_group(group).num_rows, metadata.row_group(group).total_byte_size
            batch_rows = max(1024, min(MAX_BATCH_ROWS, BATCH_TARGET_BYTES * max(rows, 1) // max(size, 1)))
            for batch in parquet.iter_batches(batch_size=batch_rows, row_groups=[group]):
                yield batch, key_batch(batch, repo_column, blob_column, source=str(shard.source))
            yield _FLUSH, _empty_keys()


def _jsonl_items(shard: Shard, repo_column, blob_column):
    schema = pa.schema([(repo_column or "__no_repo__", pa.string()), (blob_column or "__no_blob__", pa.string())])
    parse = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    first = True
    with (gzip.open if shard.compressed else open)(shard.source, "rb") as stream:
        for block in _line_blocks(stream):
            lines = block.split(b"\n")
            lines.pop()  # the block ends with a newline
            if any(not line.strip() for line in lines):
                lines = [line for line in lines if line.strip()]  # blank lines are no rows
                block = b"\n".join(lines) + b"\n"
            options = pa_json.ReadOptions(use_threads=False, block_size=len(block) + 1)
            try:
                keys = pa_json.read_json(io.BytesIO(block), read_options=options, parse_options=parse)
            except pa.ArrowInvalid as error:
                raise ClientError(f"{shard.source}: not JSON Lines the filter can read ({error})") from None
            if keys.num_rows != len(lines):
                raise ClientError(f"{shard.source}: {len(lines)} lines gave {keys.num_rows} rows; one object a line")
            if first and lines:
                for wanted in (repo_column, blob_column):
                    if wanted is not None and keys.column(wanted).null_count == keys.num_rows:
                        raise ClientError(f"{shard.source}: no key {wanted!r} in its first {keys.num_rows:,} lines")
                first = False
            batch = keys.combine_chunks().to_batches()[0] if keys.num_rows else None
            if batch is None:
                continue
            columns = [batch.column(0), batch.column(1)]
            if repo_column is None:
                columns[0] = pa.nulls(batch.num_rows, pa.string())
            if blob_column is None:
                columns[1] = pa.nulls(batch.num_rows, pa.string())
            yield lines, pa.record_batch(columns, schema=KEY_SCHEMA)


def _line_blocks(stream):
    rest = b""
    while True:
        chunk = stream.read(JSONL_BLOCK_BYTES)
        if not chunk:
            if rest.strip():
                yield rest + b"\n"
            return
        chunk = rest + chunk
        cut = chunk.rfind(b"\n")
        if cut < 0:
            rest = chunk  # one line longer than a block: keep reading
            continue
        rest = chunk[cut + 1 :]
        yield chunk[: cut + 1]


class _Writer:
    def __init__(self, shard: Shard, temp: Path):
        self.shard, self.temp = shard, temp
        self.pending: list[pa.RecordBatch] = []
        self.pending_bytes = 0
        self.parquet = None
        self.lines = None
        # Encoding a row group is the longest step and runs on one core: it goes to a thread of its own (Arrow
        # lets go of the GIL), while this thread filters the next row group. At most one is in flight.
        self.encoder: ThreadPoolExecutor | None = None
        self.encoding: Future | None = None

    @classmethod
    def open(cls, shard: Shard, repo_column, blob_column) -> "_Writer":
        temp = shard.target.with_name(f".{shard.target.name}.partial-{os.getpid()}")
        writer = cls(shard, temp)
        try:
            if shard.kind == "parquet":
                with pq.ParquetFile(shard.source) as source:
                    schema = source.schema_arrow
                    metadata = source.metadata
                    codec = metadata.row_group(0).column(0).compression.lower() if metadata.num_row_groups else "zstd"
                codec = codec if codec in ("snappy", "gzip", "brotli", "zstd", "lz4", "none") else "zstd"
                writer.parquet = pq.ParquetWriter(temp, schema, compression=codec)
                writer.encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet-writer")
            elif shard.compressed:
                writer.lines = gzip.open(temp, "wb", compresslevel=6)  # noqa: SIM115 - closed by close() or abort()
            else:
                writer.lines = open(temp, "wb")  # noqa: SIM115 - closed by close() or abort()
        except BaseException:
            writer.abort()
            raise
        return writer

    def write(self, payload, keep: pa.Array) -> None:
        if payload is _FLUSH:
            self._flush()
        elif self.parquet is not None:
            kept = payload.filter(keep)
            if kept.num_rows:
                self.pending.append(kept)
                self.pending_bytes += kept.nbytes
                if self.pending_bytes >= FLUSH_BYTES:
                    self._flush()
        else:
            kept = list(itertools.compress(payload, keep.to_pylist()))
            if kept:
                kept.append(b"")
                self.lines.write(b"\n".join(kept))

    def _flush(self) -> None:
        if self.pending:
            table = pa.Table.from_batches(self.pending)
            self._encoded()
            self.encoding = self.encoder.submit(self.parquet.write_table, table, row_group_size=1 << 26)
        self.pending, self.pending_bytes = [], 0

    def _encoded(self) -> None:
        # The row group in flight is written (its error, if any, raised here).
        if self.encoding is not None:
            encoding, self.encoding = self.encoding, None
            encoding.result()

    def close(self) -> None:
        if self.parquet is not None:
            self._flush()
            self._encoded()
            self.encoder.shutdown()
            self.parquet.close()
        else:
            self.lines.close()
        os.replace(self.temp, self.shard.target)

    def abort(self) -> None:
        if self.encoder is not None:
            self.encoder.shutdown(wait=True)  # the row group in flight finishes before its file is closed
        for handle in (self.parquet, self.lines):
            try:
                if handle is not None:
                    handle.close()
            except Exception:  # noqa: BLE001, S110 - the temp file goes anyway
                pass
        self.temp.unlink(missing_ok=True)
