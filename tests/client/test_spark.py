"""The Spark job (exclusions.spark): on Stack v2 shards it keeps exactly the rows `exclusions filter` keeps."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exclusions import spark as exclusions_spark
from exclusions.errors import ClientError
from exclusions.release import load_release
from exclusions.spark import filter_dataframe, filter_dataframe_counted, shipped_files, shipped_release
from exclusions.store import Store
from exclusions.verify import directory_verify
from tests.client_helpers import OTHER_BLOB, OWN_BLOB, run

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
SPARK_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.driver.memory": "512m",
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",  # as the job sets it (Spark's default is INT96)
    # Batches of a few rows: verdicts must come back paired with their own rows across many batches a partition.
    "spark.sql.execution.arrow.maxRecordsPerBatch": "4",
}


@pytest.fixture(scope="session")
def spark():
    """One local Spark (2 cores) for the whole session: starting one costs seconds."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers: this interpreter, with `exclusions` on its path
    builder = SparkSession.builder.master("local[2]").appName("exclusions tests")
    for name, value in SPARK_SETTINGS.items():
        builder = builder.config(name, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    # py4j says goodbye while the interpreter exits, after pytest closed the stream Django's logging writes to.
    logging.getLogger("py4j").propagate = False
    yield session
    session.stop()


STACK_V2_SCHEMA = pa.schema(
    [
        ("blob_id", pa.string()),
        ("directory_id", pa.string()),
        ("path", pa.string()),
        ("content_id", pa.string()),
        ("detected_licenses", pa.list_(pa.string())),
        ("license_type", pa.string()),
        ("repo_name", pa.string()),
        ("snapshot_id", pa.string()),
        ("revision_id", pa.string()),
        ("branch_name", pa.string()),
        ("visit_date", pa.timestamp("us")),
        ("revision_date", pa.timestamp("us")),
        ("committer_date", pa.timestamp("us")),
        ("github_id", pa.int64()),
        ("star_events_count", pa.int64()),
        ("fork_events_count", pa.int64()),
        ("gha_license_id", pa.string()),
        ("gha_event_created_at", pa.timestamp("us", tz="UTC")),
        ("gha_created_at", pa.timestamp("us", tz="UTC")),
        ("gha_language", pa.string()),
        ("language", pa.string()),
        ("extension", pa.string()),
        ("src_encoding", pa.string()),
        ("is_vendor", pa.bool_()),
        ("is_generated", pa.bool_()),
        ("length_bytes", pa.int64()),
        ("content", pa.string()),
    ]
)
# (repo_name, blob_id) of the shards' rows; release 1 (conftest) excludes github.com/opted/out, its blob OWN_BLOB
# and everything under github.com/gone-owner.
STACK_ROWS = [
    ("keeper/lib", OTHER_BLOB),
    ("Opted/Out", "d" * 40),  # the repository, in another case
    ("Gone-Owner/x", "e" * 40),  # a namespace, in another case
    ("GONE-OWNER/Other.git", None),  # the same namespace, a spelling identity reads
    ("fork/copy", OWN_BLOB),  # the opted-out repository's blob, in a fork
    (None, "1" * 40),  # no repository: kept
    ("keeper/other", None),  # no blob id: kept
    (None, OWN_BLOB),  # no repository, an excluded blob
    ("gone-owner.x/y", "2" * 40),  # a host, not the owner: names no repository, kept
    ("Keeper/Lib", "3" * 40),
]


def stack_table(first: int, rows: list[tuple]) -> pa.Table:
    """Rows in The Stack v2's schema; every value depends on the row's number, so rows are told apart."""
    columns = {name: [] for name in STACK_V2_SCHEMA.names}
    for offset, (repo_name, blob_id) in enumerate(rows):
        number = first + offset
        moment = 1_600_000_000_000_000 + number * 86_400_000_123
        values = {
            "blob_id": blob_id,
            "directory_id": f"{number:040x}",
            "path": f"src/pkg_{number}/module.py",
            "content_id": f"{number * 7:040x}",
            "detected_licenses": [["MIT"], [], ["Apache-2.0", "MIT"], None][number % 4],
            "license_type": ["permissive", "no_license"][number % 2],
            "repo_name": repo_name,
            "snapshot_id": f"{number * 3:040x}",
            "revision_id": f"{number * 5:040x}",
            "branch_name": "refs/heads/main",
            "visit_date": moment,
            "revision_date": moment - 1_000,
            "committer_date": None if number % 5 == 0 else moment - 2_000,
            "github_id": 10_000 + number,
            "star_events_count": number * 11,
            "fork_events_count": number % 3,
            "gha_license_id": None if number % 2 else "mit",
            "gha_event_created_at": moment + 3_000,
            "gha_created_at": moment - 86_400_000_000,
            "gha_language": "Python",
            "language": "Python",
            "extension": "py",
            "src_encoding": "UTF-8",
            "is_vendor": number % 7 == 0,
            "is_generated": number % 11 == 0,
            "length_bytes": 100 + number,
            "content": f"print('row {number}')\n# é ✓ {'x' * number}\n",
        }
        for name, value in values.items():
            columns[name].append(value)
    return pa.table(columns, schema=STACK_V2_SCHEMA)


@pytest.fixture
def shards(tmp_path) -> Path:
    """Two Parquet shards of the rows above, several row groups each."""
    folder = tmp_path / "shards"
    folder.mkdir()
    pq.write_table(stack_table(0, STACK_ROWS * 3), folder / "part-0.parquet", row_group_size=7)
    pq.write_table(stack_table(100, STACK_ROWS), folder / "part-1.parquet", row_group_size=4)
    return folder


def cli_kept(pulled: Path, shards: Path, tmp_path: Path, capsys) -> pa.Table:
    status, error = run("filter", pulled, *sorted(shards.iterdir()), "--output", tmp_path / "cli", capsys=capsys)
    assert status == 0, error
    return pa.concat_tables(pq.read_table(path) for path in sorted((tmp_path / "cli").iterdir()))


def sorted_rows(table: pa.Table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda row: row["path"])


def assert_same_kept_rows(spark_output: Path, expected: pa.Table) -> None:
    written = pq.read_table(spark_output)
    assert written.column_names == STACK_V2_SCHEMA.names
    # Spark writes lists as Parquet's standard three levels, which pyarrow names `element`: the types are the same.
    assert written.schema.equals(expected.schema.remove_metadata().set(4, written.schema.field(4)))
    assert written.schema.field(4).type.value_type == pa.string()
    assert sorted_rows(written) == sorted_rows(expected)


def test_filter_dataframe_keeps_exactly_the_rows_and_columns_the_cli_keeps(spark, pulled, shards, tmp_path, capsys):
    expected = cli_kept(pulled, shards, tmp_path, capsys)
    rows = spark.read.parquet(str(shards))
    kept, counter = filter_dataframe_counted(rows, pulled)
    assert kept.schema == rows.schema
    kept.write.parquet(str(tmp_path / "spark"))
    assert_same_kept_rows(tmp_path / "spark", expected)
    assert spark.read.parquet(str(tmp_path / "spark")).schema == rows.schema
    dropped = {"repository": 4, "namespace": 8, "blob": 8, "total": 20}
    assert counter.value.as_dict() == {
        "rows_in": 4 * len(STACK_ROWS),
        "rows_kept": 4 * len(STACK_ROWS) - 20,
        "rows_dropped": dropped,
        "unreadable_repositories": 4,
    }
    assert expected.num_rows == 4 * len(STACK_ROWS) - 20


def test_the_executors_need_no_access_to_the_release_folder(spark, pulled, shards, tmp_path):
    rows = spark.read.parquet(str(shards))
    kept = filter_dataframe(rows, pulled, blob_column=None)
    pulled.rename(tmp_path / "moved-away")  # as on a cluster: only the driver ever saw these files
    names = {row["repo_name"] for row in kept.select("repo_name").collect()}
    assert names == {"keeper/lib", "Keeper/Lib", "keeper/other", "fork/copy", "gone-owner.x/y", None}


def test_a_tampered_release_is_refused_on_the_driver_before_any_job(spark, pulled, shards, tmp_path, capsys):
    rows = spark.read.parquet(str(shards))
    blobs = pulled / "releases" / "1" / "blobs.parquet"
    blobs.write_bytes(blobs.read_bytes()[:-9] + b"tampered!")
    tracker = spark.sparkContext.statusTracker()
    jobs_before = tracker.getJobIdsForGroup(None)
    with pytest.raises(ClientError, match=r"blobs\.parquet: sha256 [0-9a-f]+ does not match the signed manifest's"):
        filter_dataframe(rows, pulled)
    assert tracker.getJobIdsForGroup(None) == jobs_before
    # The job refuses it before it starts Spark at all: one line, exit 1, no output.
    status = exclusions_spark.main(
        ["--release", str(pulled), "--input", str(shards), "--output", str(tmp_path / "out")]
    )
    error = capsys.readouterr().err
    assert status == 1 and not (tmp_path / "out").exists()
    assert error.count("\n") == 1 and "blobs.parquet: sha256" in error and error.startswith("exclusions spark: ")


def test_a_missing_column_is_refused_on_the_driver(spark, pulled, shards):
    rows = spark.read.parquet(str(shards)).drop("blob_id")
    with pytest.raises(ClientError, match=r"the DataFrame: no column 'blob_id' \(it has directory_id, path,"):
        filter_dataframe(rows, pulled)
    assert filter_dataframe(rows, pulled, blob_column=None).count() == 4 * len(STACK_ROWS) - 12


def test_the_job_reports_a_failed_spark_job_in_one_line(spark, pulled, shards, tmp_path, capsys):
    arguments = ["--release", str(pulled), "--output", str(tmp_path / "out")]
    assert exclusions_spark.main([*arguments, "--input", str(tmp_path / "missing")]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Path does not exist" in error and "missing" in error
    # A rule that fails on the executors (a list is no repository name) comes back as the client's own message.
    status = exclusions_spark.main([*arguments, "--input", str(shards), "--repo-column", "detected_licenses"])
    error = capsys.readouterr().err
    assert status == 1 and error.count("\n") == 1
    assert error.startswith("exclusions spark: the DataFrame: column 'detected_licenses' is list<")
    assert spark.range(3).count() == 3  # the job leaves a session it did not start running


def test_executors_refuse_shipped_bytes_that_differ_from_the_verified_release(pulled):
    verified = directory_verify(pulled)
    trusted = {verified.key_id: Store(pulled).trusted_keys()[verified.key_id]}
    files = shipped_files(verified)
    release = shipped_release(files, manifest_sha256=verified.manifest_sha256, trusted=trusted)
    assert release.describe() == verified.describe()
    assert release.blob_ids.to_pylist() == load_release(pulled).blob_ids.to_pylist()

    changed = {**files, "blobs.parquet": files["blobs.parquet"][:-1] + b"\0"}
    with pytest.raises(ClientError, match=r"blobs\.parquet \(as shipped\): sha256 .* signed manifest's"):
        shipped_release(changed, manifest_sha256=verified.manifest_sha256, trusted=trusted)
    with pytest.raises(ClientError, match="is not the 0000 the driver verified"):
        shipped_release(files, manifest_sha256="0000", trusted=trusted)
    with pytest.raises(ClientError, match="which is not trusted here"):
        shipped_release(files, manifest_sha256=verified.manifest_sha256, trusted={"another": b"\1" * 32})


def test_a_python_worker_loads_the_release_once_for_all_its_partitions(pulled, shards):
    verified = directory_verify(pulled)

    class Shipment:  # what a broadcast variable offers a worker: `.value`
        reads = 0

        @property
        def value(self):
            Shipment.reads += 1
            return shipped_files(verified)

    class Counter:
        def add(self, counts):
            self.counts = counts

    trusted = {verified.key_id: Store(pulled).trusted_keys()[verified.key_id]}
    table = pq.read_table(shards / "part-0.parquet")
    release = load_release(pulled)
    for _partition in range(3):
        kept = pa.Table.from_batches(
            exclusions_spark._filter_partition(
                iter(table.to_batches(max_chunksize=5)),
                shipment=Shipment(),
                manifest_sha256=verified.manifest_sha256,
                trusted=trusted,
                repo_column="repo_name",
                blob_column="blob_id",
                counter=Counter(),
            ),
            schema=table.schema,
        )
        assert kept.equals(release.filter_table(table))
    assert Shipment.reads == 1


def test_the_spark_submit_job_writes_what_the_cli_keeps(pulled, shards, tmp_path, capsys):
    expected = cli_kept(pulled, shards, tmp_path, capsys)
    import pyspark

    spark_submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    settings = [argument for name, value in SPARK_SETTINGS.items() for argument in ("--conf", f"{name}={value}")]
    command = [spark_submit, "--master", "local[2]", *settings, ROOT / "clients/python/exclusions/spark.py"]
    command += ["--release", pulled, "--input", *sorted(shards.iterdir()), "--output", tmp_path / "out"]
    command += ["--report", tmp_path / "report.json"]
    environment = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same_kept_rows(tmp_path / "out", expected)
    # spark-submit passes the Python driver's stderr on to its own stdout.
    assert f"{4 * len(STACK_ROWS):,} rows in, {expected.num_rows:,} kept" in done.stdout
    assert json.loads((tmp_path / "report.json").read_text())["rows_kept"] == expected.num_rows


def test_the_client_imports_without_pyspark_and_the_spark_module_says_what_to_install():
    code = (
        "import sys; sys.modules['pyspark'] = None\n"
        "import exclusions, exclusions.cli, exclusions.release, exclusions.filtering\n"
        "try:\n    import exclusions.spark\nexcept ImportError as error:\n    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'dataset-exclusions[spark]'" in done.stdout, done.stderr
