"""Spark: drop the rows a release excludes from a DataFrame, on the executors, with the client's own Matcher.

The release is verified on the driver (`directory_verify`, as `exclusions filter` does) before any job runs.
The three files the matcher reads (manifest.json with its signature, repositories.parquet, blobs.parquet) then
travel to the executors as bytes in one broadcast variable, so executors never need to see the driver's
filesystem, and each executor fetches them once. A Python worker checks the bytes again before use (the
manifest's sha256 against the one the driver verified, its signature against the key the driver trusted, each
file's size and sha256 against the signed manifest), loads the release once and keeps it (one release per worker
process, by the manifest's sha256); `DataFrame.mapInArrow` then sends the Arrow batches of each partition through
`exclusions.filtering.Matcher`, the code behind `exclusions filter` and `filter_table`: the same rules, the same
verdicts. Every column is kept as it was; the output schema is the input's.

    spark-submit clients/python/exclusions/spark.py --release exclusions/ --input shards/ --output kept/
    python -m exclusions.spark --release exclusions/ --input shards/*.parquet --output kept/ --master 'local[*]'

Exit status as the `exclusions` command's: 0 when everything worked, 1 with one line on stderr when the release
is refused or the job fails, 2 for a command line that cannot be read.
"""

import argparse
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

if __name__ == "__main__" and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    # spark-submit …/exclusions/spark.py puts this folder first on sys.path, where `errors`, `release` or `cli`
    # would shadow any top-level module of those names.
    del sys.path[0]

try:
    from py4j.protocol import Py4JError
    from pyspark.accumulators import Accumulator, AccumulatorParam
    from pyspark.errors import PySparkException, PythonException
    from pyspark.sql import DataFrame, SparkSession
except ImportError as error:  # the core client never needs Spark; this module only exists for it
    raise ImportError(
        f"exclusions.spark needs pyspark ({error}): pip install 'dataset-exclusions[spark]'", name=error.name
    ) from error
import pyarrow as pa

from exclusions.errors import ClientError
from exclusions.filtering import Counts, Matcher, key_batch
from exclusions.manifest import MANIFEST, manifest_parse, manifest_verify, public_key_parse
from exclusions.membership import MEMBERSHIP_FILE
from exclusions.release import Release
from exclusions.release_files import BLOBS_PARQUET, REPOSITORIES_PARQUET
from exclusions.store import Store, write_atomic
from exclusions.verify import VerifiedRelease, directory_verify

# What the matcher reads, and so what executors receive: the signed manifest and the two Parquet files it lists.
SHIPPED = (MANIFEST, REPOSITORIES_PARQUET, BLOBS_PARQUET)


def shipped_files(verified: VerifiedRelease) -> dict[str, bytes]:
    """What is broadcast to the executors: the bytes of the release's files they need, by name."""
    return {name: (verified.folder / name).read_bytes() for name in _shipped_names(verified.manifest)}


def _shipped_names(manifest: dict) -> tuple[str, ...]:
    """The files the executors need: the manifest, the two lists and the membership filter where the release has one."""
    listed = {info["name"] for info in manifest["files"]}
    return SHIPPED + ((MEMBERSHIP_FILE,) if MEMBERSHIP_FILE in listed else ())


# The job's defaults, unless its command line or spark-submit sets them.
JOB_SETTINGS = {
    # Spark's default writes timestamps with a time zone as INT96, which other readers take for nanoseconds.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # Each partition builds the matcher's hash sets once (seconds for millions of blob ids): fewer, larger
    # partitions than Spark's 128 MB (Spark still splits the input over all cores).
    "spark.sql.files.maxPartitionBytes": "1g",
}


def filter_dataframe(
    df: DataFrame,
    release_dir: Path | str,
    *,
    repo_column: str | None = "repo_name",
    blob_column: str | None = "blob_id",
    version: int | None = None,
    key: str | None = None,
) -> DataFrame:
    """The rows of `df` the release in `release_dir` lets through, every column as it was; `None` skips a rule."""
    kept, _counts = filter_dataframe_counted(
        df, release_dir, repo_column=repo_column, blob_column=blob_column, version=version, key=key
    )
    return kept


def filter_dataframe_counted(
    df: DataFrame,
    release_dir: Path | str,
    *,
    repo_column: str | None = "repo_name",
    blob_column: str | None = "blob_id",
    version: int | None = None,
    key: str | None = None,
) -> tuple[DataFrame, Accumulator]:
    """filter_dataframe, and an accumulator whose `.value` (a Counts) holds rows in, kept and dropped per reason.

    The counts are complete once an action has consumed the whole DataFrame, and count a task twice if Spark
    runs it twice (a retried task, a DataFrame computed again by a second action).
    """
    verified, trusted_key = _release_verify(release_dir, version=version, key=key)
    return _filter(df, verified, trusted_key, repo_column=repo_column, blob_column=blob_column)


def _release_verify(release_dir, *, version, key) -> tuple[VerifiedRelease, bytes]:
    # As `exclusions filter` verifies; the executors then check the shipped bytes against the very key used here.
    verified = directory_verify(release_dir, version=version, key=key)
    trusted_key = public_key_parse(key) if key is not None else Store(release_dir).trusted_keys()[verified.key_id]
    return verified, trusted_key


def _filter(df, verified: VerifiedRelease, trusted_key: bytes, *, repo_column, blob_column):
    if repo_column is None and blob_column is None:
        raise ClientError("--repo-column and --blob-column are both off: there would be nothing to filter by")
    for wanted in (repo_column, blob_column):
        if wanted is not None and wanted not in df.columns:
            raise ClientError(f"the DataFrame: no column {wanted!r} (it has {', '.join(df.columns)})")
    files = shipped_files(verified)
    # The bytes shipped are the bytes verified: a file replaced since directory_verify is refused here, not on
    # every executor.
    shipped_release_verify(files, manifest_sha256=verified.manifest_sha256, trusted={verified.key_id: trusted_key})
    context = df.sparkSession.sparkContext
    shipment = context.broadcast(files)
    del files
    counter = context.accumulator(Counts(), _CountsParam())
    filter_batches = functools.partial(
        _filter_partition,
        shipment=shipment,
        manifest_sha256=verified.manifest_sha256,
        trusted={verified.key_id: trusted_key},
        repo_column=repo_column,
        blob_column=blob_column,
        counter=counter,
    )
    return _map_in_arrow(df, filter_batches), counter


def _map_in_arrow(df: DataFrame, function) -> DataFrame:
    # pyspark builds mapInArrow's plan through pandas_udf, which needs pandas on the driver (the [spark] extra
    # installs pyspark[sql]); the workers pass Arrow batches through and never touch it.
    return df.mapInArrow(function, df.schema)


def shipped_release(files: dict[str, bytes], *, manifest_sha256: str, trusted: dict[str, bytes]) -> Release:
    """The release in `files` (name → bytes), checked as `exclusions verify` checks a folder; ClientError if not."""
    manifest, key_id = shipped_release_verify(files, manifest_sha256=manifest_sha256, trusted=trusted)
    # Release reads its files from a folder: a private one, read at once below and removed.
    folder = Path(tempfile.mkdtemp(prefix="exclusions-release-"))
    try:
        for name in _shipped_names(manifest)[1:]:
            (folder / name).write_bytes(files[name])
        release = Release(VerifiedRelease(folder, manifest, key_id, manifest_sha256))
        release.repositories, release.blob_ids, release.blob_membership  # noqa: B018 - cached now, while the files exist
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return release


def shipped_release_verify(
    files: dict[str, bytes], *, manifest_sha256: str, trusted: dict[str, bytes]
) -> tuple[dict, str]:
    """The manifest and key id of the release in `files`, once its bytes are those the driver verified."""
    source = f"{MANIFEST} (as shipped to Spark)"
    content = files.get(MANIFEST, b"")
    digest = hashlib.sha256(content).hexdigest()
    if digest != manifest_sha256:
        raise ClientError(f"{source}: sha256 {digest} is not the {manifest_sha256} the driver verified")
    manifest = manifest_parse(content, source=source)
    key_id = manifest_verify(manifest, trusted, source=source)
    listed = {info["name"]: info for info in manifest["files"]}
    for name in _shipped_names(manifest)[1:]:
        content, info = files.get(name, b""), listed.get(name)
        if info is None:
            raise ClientError(f"{name}: not part of the release (the signed manifest does not list it)")
        if len(content) != info["bytes"]:
            raise ClientError(
                f"{name} (as shipped): {len(content):,} bytes, the signed manifest says {info['bytes']:,}"
            )
        digest = hashlib.sha256(content).hexdigest()
        if digest != info["sha256"]:
            raise ClientError(
                f"{name} (as shipped): sha256 {digest} does not match the signed manifest's {info['sha256']}"
            )
    return manifest, key_id


# One release per Python worker process, kept across tasks (Spark reuses workers): (manifest sha256, key, rules) →
# Matcher.
_matchers: dict[tuple, Matcher] = {}


def _worker_matcher(shipment, manifest_sha256: str, trusted: dict, repositories: bool, blobs: bool) -> Matcher:
    wanted = (manifest_sha256, tuple(sorted(trusted.items())), repositories, blobs)
    if wanted not in _matchers:
        _matchers.clear()  # another release: its hash sets are what the memory holds, never two at once
        release = shipped_release(shipment.value, manifest_sha256=manifest_sha256, trusted=trusted)
        _matchers[wanted] = Matcher(release, repositories=repositories, blobs=blobs)
    return _matchers[wanted]


def _filter_partition(
    batches: Iterator[pa.RecordBatch], *, shipment, manifest_sha256, trusted, repo_column, blob_column, counter
) -> Iterator[pa.RecordBatch]:
    matcher = _worker_matcher(shipment, manifest_sha256, trusted, repo_column is not None, blob_column is not None)
    items = ((batch, key_batch(batch, repo_column, blob_column, source="the DataFrame")) for batch in batches)
    counts = Counts()
    for batch, keep, batch_counts in matcher.verdicts(items):
        counts.add(batch_counts)
        yield batch.filter(keep) if batch.num_rows else batch
    counter.add(counts)


class _CountsParam(AccumulatorParam):
    def zero(self, value: Counts) -> Counts:
        return Counts()

    def addInPlace(self, value1: Counts, value2: Counts) -> Counts:  # noqa: N802 - pyspark's name
        value1.add(value2)
        return value1


# --- the job: spark-submit exclusions/spark.py … or python -m exclusions.spark … --------------------------------


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    repo_column, blob_column = arguments.repo_column or None, arguments.blob_column or None
    started = time.perf_counter()
    try:
        if repo_column is None and blob_column is None:
            raise ClientError("--repo-column and --blob-column are both off: there would be nothing to filter by")
        # Before Spark starts: a release that does not verify is refused in a second, and no job runs.
        verified, trusted_key = _release_verify(arguments.release, version=arguments.version, key=arguments.key)
        counts = _job(arguments, verified, trusted_key, repo_column, blob_column)
    except (ClientError, OSError) as error:
        print(f"exclusions spark: {error}", file=sys.stderr)
        return 1
    except (PySparkException, Py4JError) as error:
        print(f"exclusions spark: {_one_line(error)}", file=sys.stderr)
        return 1
    report = {
        "release": verified.describe(),
        "repo_column": repo_column,
        "blob_column": blob_column,
        "input": arguments.input,
        "output": arguments.output,
        **counts.as_dict(),
        "seconds": round(time.perf_counter() - started, 3),
    }
    if arguments.report:
        write_atomic(Path(arguments.report), (json.dumps(report, indent=2) + "\n").encode())
    release = f"release {verified.version} of {verified.dataset}"
    print(f"{release}: {counts.summary()} into {arguments.output}", file=sys.stderr)
    return 0


def _job(arguments, verified: VerifiedRelease, trusted_key: bytes, repo_column, blob_column) -> Counts:
    if arguments.master and arguments.master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # local workers: this very interpreter
    builder = SparkSession.builder.appName("exclusions filter")
    if arguments.master:
        builder = builder.master(arguments.master)
    for setting in arguments.conf:
        name, _, value = setting.partition("=")
        builder = builder.config(name, value)
    already = SparkSession.getActiveSession()
    spark = builder.getOrCreate()
    runtime = getattr(spark.conf, "getAll", None)  # the settings a session was given (pyspark 4)
    given = set(runtime if isinstance(runtime, dict) else ()) | {
        name for name, _ in spark.sparkContext.getConf().getAll()
    }
    defaults = {name: value for name, value in JOB_SETTINGS.items() if name not in given}
    for name, value in defaults.items():
        spark.conf.set(name, value)
    try:
        rows = spark.read.parquet(*arguments.input)
        kept, counter = _filter(rows, verified, trusted_key, repo_column=repo_column, blob_column=blob_column)
        kept.write.parquet(arguments.output, mode="overwrite" if arguments.overwrite else "errorifexists")
        return counter.value
    finally:
        if already is None:
            spark.stop()
        else:  # a session that was there before (a notebook's) is left running, as it was
            for name in defaults:
                spark.conf.unset(name)


def _one_line(error: Exception) -> str:
    # An executor's error arrives as a Python traceback inside the JVM's message: its last line says what failed.
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("exclusions.errors.ClientError: "):
            return line.removeprefix("exclusions.errors.ClientError: ")
    if not lines:
        return type(error).__name__
    return lines[-1] if isinstance(error, PythonException) else lines[0]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exclusions spark",
        description="Drop the rows a verified exclusion-list release excludes from Parquet shards, with Spark.",
    )
    parser.add_argument("--release", required=True, type=Path, metavar="DIR", help="an `exclusions pull` directory")
    parser.add_argument(
        "--input", required=True, nargs="+", metavar="PATH", help="Parquet files or folders (any URI Spark reads)"
    )
    parser.add_argument("--output", required=True, metavar="PATH", help="the output folder of Parquet files")
    parser.add_argument("--repo-column", default="repo_name", help="repository column; '' turns the rule off")
    parser.add_argument("--blob-column", default="blob_id", help="git blob SHA-1 column; '' turns the rule off")
    parser.add_argument("--version", type=int, help="a release number in DIR (default: the current one)")
    parser.add_argument("--key", help="check against this key instead of DIR/trust.json")
    parser.add_argument("--report", help="write the JSON report (rows in, dropped per reason, release) here")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    parser.add_argument("--master", help="e.g. 'local[4]' (default: spark-submit's --master, else Spark's default)")
    parser.add_argument("--conf", action="append", default=[], metavar="NAME=VALUE", help="a Spark setting, repeatable")
    return parser


if __name__ == "__main__":
    # Run as a file (spark-submit …/spark.py), this module is `__main__`, whose functions would be pickled by value
    # and re-created for every task: the job runs from the imported module instead, so that workers find
    # `exclusions.spark` (installed on the executors, as the matcher needs) and keep its release cache.
    from exclusions.spark import main as imported_main

    sys.exit(imported_main())
