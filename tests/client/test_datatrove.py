"""The datatrove block: a real LocalPipelineExecutor over The Stack v2 shards drops what `exclusions filter` drops."""

import gzip
import json
import pickle
import subprocess
import sys
import time
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datatrove.data import Document
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import ParquetReader
from datatrove.pipeline.writers import JsonlWriter, ParquetWriter
from datatrove.utils.stats import MetricStats

import exclusions.datatrove as exclusions_datatrove
from exclusions.datatrove import ExclusionFilter
from exclusions.errors import ClientError
from tests.client_helpers import OTHER_BLOB, OWN_BLOB, run

pytestmark = pytest.mark.django_db(transaction=True)

# (repo_name, blob_id, why the release drops the row or None), over three shards of four rows.
ROWS = [
    ("keeper/lib", OTHER_BLOB, None),
    ("Opted/Out", "d" * 40, "repository"),  # the repository, in another case
    ("opted/out.git", "1" * 40, "repository"),  # another spelling of it
    ("Gone-Owner/x", "e" * 40, "namespace"),  # under an excluded owner, in another case
    ("GONE-OWNER/tools", OWN_BLOB, "namespace"),  # the owner and an excluded blob: the first rule counts
    ("fork/copy", OWN_BLOB, "blob"),  # the opted-out repository's blob, in a fork
    ("keeper/other", None, None),
    (None, "2" * 40, None),
    ("gone-owner.x/y", "3" * 40, None),  # a host, not the owner: names no repository
    ("keeper/lib", "4" * 40, None),
    ("Keeper/Opted", "5" * 40, None),
    ("another/fork", OWN_BLOB, "blob"),
]
SHARD_ROWS = 4


def stack_rows(rows) -> pa.Table:
    """The rows in every column of The Stack v2's schema, plus `content`."""
    stamp = datetime(2023, 9, 6, 12, 30)
    return pa.Table.from_pylist(
        [
            {
                "blob_id": blob,
                "directory_id": f"{index:040x}",
                "path": f"src/file_{index}.py",
                "content_id": f"{index + 100:040x}",
                "detected_licenses": ["MIT"] if index % 2 else [],
                "license_type": "permissive" if index % 2 else "no_license",
                "repo_name": repo,
                "snapshot_id": f"{index + 200:040x}",
                "revision_id": f"{index + 300:040x}",
                "branch_name": "refs/heads/main",
                "visit_date": stamp,
                "revision_date": stamp,
                "committer_date": stamp,
                "github_id": 1000 + index,
                "star_events_count": index,
                "fork_events_count": 0,
                "gha_license_id": "mit" if index % 3 else None,
                "gha_event_created_at": stamp,
                "gha_created_at": stamp,
                "gha_language": "Python",
                "language": "Python",
                "extension": "py",
                "src_encoding": "UTF-8",
                "is_vendor": False,
                "is_generated": index == 5,
                "length_bytes": 20 + index,
                "content": f"print({index})\n",
            }
            for index, (repo, blob, _why) in enumerate(rows)
        ],
        schema=STACK_SCHEMA,
    )


STACK_SCHEMA = pa.schema(
    [("blob_id", pa.string()), ("directory_id", pa.string()), ("path", pa.string()), ("content_id", pa.string())]
    + [("detected_licenses", pa.list_(pa.string())), ("license_type", pa.string()), ("repo_name", pa.string())]
    + [(name, pa.string()) for name in ("snapshot_id", "revision_id", "branch_name")]
    + [(name, pa.timestamp("us")) for name in ("visit_date", "revision_date", "committer_date")]
    + [(name, pa.int64()) for name in ("github_id", "star_events_count", "fork_events_count")]
    + [("gha_license_id", pa.string())]
    + [(name, pa.timestamp("us")) for name in ("gha_event_created_at", "gha_created_at")]
    + [(name, pa.string()) for name in ("gha_language", "language", "extension", "src_encoding")]
    + [("is_vendor", pa.bool_()), ("is_generated", pa.bool_()), ("length_bytes", pa.int64()), ("content", pa.string())]
)


@pytest.fixture
def shards(tmp_path):
    folder = tmp_path / "shards"
    folder.mkdir()
    table = stack_rows(ROWS)
    for start in range(0, len(ROWS), SHARD_ROWS):
        pq.write_table(table.slice(start, SHARD_ROWS), folder / f"part-{start // SHARD_ROWS}.parquet", row_group_size=2)
    return folder


# Kept documents are written as the README shows: the input's columns, `content` as datatrove's text.
KEPT_SCHEMA = pa.schema([("text", pa.string()), ("id", pa.string())] + [f for f in STACK_SCHEMA if f.name != "content"])


def pipeline_run(release_dir, shards, out, *, workers=2, **options) -> LocalPipelineExecutor:
    executor = LocalPipelineExecutor(
        [
            ParquetReader(str(shards), text_key="content"),
            ExclusionFilter(release_dir, exclusion_writer=JsonlWriter(str(out / "excluded")), **options),
            ParquetWriter(str(out / "kept"), expand_metadata=True, schema=KEPT_SCHEMA),
        ],
        tasks=len(list(shards.glob("*.parquet"))),
        workers=workers,
        logging_dir=str(out / "logs"),
    )
    executor.run()
    return executor


def written(folder) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl.gz")) for line in gzip.open(path, "rt")]


def kept_rows(folder) -> list[dict]:
    """Rows of the Parquet files in a folder, in file name order (a task's rank, or a shard's name)."""
    return [row for path in sorted(folder.glob("*.parquet")) for row in pq.read_table(path).to_pylist()]


def filter_stats(logs) -> dict[str, int]:
    (block,) = [block for block in json.loads((logs / "stats.json").read_text()) if "Exclusions" in block["name"]]
    return {name: MetricStats.from_dict(value).total for name, value in block["stats"].items()}


# --- the pipeline ------------------------------------------------------------------------------------------


def test_a_pipeline_keeps_what_the_cli_keeps_and_writes_the_rest_with_their_reasons(pulled, shards, tmp_path, capsys):
    out = tmp_path / "datatrove"
    pipeline_run(pulled, shards, out)

    cli_out = tmp_path / "cli"
    status, _ = run("filter", pulled, *sorted(shards.iterdir()), "--output", cli_out, "--report", tmp_path / "r.json")
    assert status == 0
    by_cli = [(row["blob_id"], row["path"]) for row in kept_rows(cli_out)]
    kept = [(row["blob_id"], row["path"]) for row in kept_rows(out / "kept")]
    assert kept == by_cli  # in the same order, too: task i read shard i
    assert len(kept) == sum(why is None for _repo, _blob, why in ROWS)

    excluded = {doc["metadata"]["path"]: doc["metadata"]["filter_reason"] for doc in written(out / "excluded")}
    assert excluded == {f"src/file_{index}.py": why for index, (_r, _b, why) in enumerate(ROWS) if why}
    assert {doc["metadata"]["exclusion_release"] for doc in written(out / "excluded")} == {1}

    stats = filter_stats(out / "logs")
    cli_dropped = json.loads((tmp_path / "r.json").read_text())["rows_dropped"]
    assert {reason: stats[f"dropped_{reason}"] for reason in ("repository", "namespace", "blob")} == {
        reason: cli_dropped[reason] for reason in ("repository", "namespace", "blob")
    }
    assert (stats["total"], stats["forwarded"], stats["dropped"]) == (len(ROWS), len(kept), cli_dropped["total"])


def test_kept_documents_come_out_with_every_column_as_the_cli_writes_it(pulled, shards, tmp_path, capsys):
    out = tmp_path / "datatrove"
    pipeline_run(pulled, shards, out, workers=1)
    assert run("filter", pulled, *sorted(shards.iterdir()), "--output", tmp_path / "cli", capsys=capsys)[0] == 0
    by_cli = kept_rows(tmp_path / "cli")
    kept = kept_rows(out / "kept")
    assert [row.pop("text") for row in kept] == [row.pop("content") for row in by_cli]
    assert [{name: value for name, value in row.items() if name != "id"} for row in kept] == by_cli


def test_a_rule_turned_off_lets_its_rows_through(pulled, shards, tmp_path):
    out = tmp_path / "datatrove"
    pipeline_run(pulled, shards, out, workers=1, blob_column=None)
    excluded = {doc["metadata"]["filter_reason"] for doc in written(out / "excluded")}
    assert excluded == {"repository", "namespace"}
    assert "dropped_blob" not in filter_stats(out / "logs")


# --- the release: loaded in the worker, verified ----------------------------------------------------------


def test_the_block_pickles_without_its_release_which_the_worker_loads(pulled, tmp_path):
    nowhere = ExclusionFilter(tmp_path / "nowhere")  # built on the driver: nothing is read yet
    copy = pickle.loads(pickle.dumps(nowhere))
    with pytest.raises(ClientError, match="nowhere: no such directory; run `exclusions pull` first"):
        list(copy.run(iter([Document(text="x", id="1", metadata={"repo_name": "a/b", "blob_id": None})])))
    block = pickle.loads(pickle.dumps(ExclusionFilter(pulled, batch_size=2)))
    assert block.filter_batch([Document("x", "1", metadata={"repo_name": "Opted/Out", "blob_id": None})]) == [
        (False, "repository")
    ]
    assert block.release().version == 1


def test_a_tampered_release_fails_the_run_with_the_clients_message(pulled, shards, tmp_path):
    blobs = pulled / "releases" / "1" / "blobs.parquet"
    blobs.write_bytes(blobs.read_bytes() + b"\0")
    out = tmp_path / "datatrove"
    with pytest.raises(ClientError, match=r"blobs\.parquet: [\d,]+ bytes, the signed manifest says [\d,]+"):
        pipeline_run(pulled, shards, out, workers=2)
    assert not any((out / "kept").rglob("*.jsonl.gz"))
    assert not (out / "logs" / "completions").exists()


def test_a_document_without_the_repository_key_fails_naming_it(pulled):
    documents = [Document("x", "doc-7", metadata={"repository": "a/b", "blob_id": None})]
    with pytest.raises(ClientError, match=r"document doc-7: no metadata 'repo_name' \(it has repository, blob_id\)"):
        list(ExclusionFilter(pulled).run(iter(documents)))
    documents = [Document("x", "doc-8", metadata={"repo_name": 12, "blob_id": None})]
    with pytest.raises(ClientError, match="document doc-8: metadata 'repo_name' is 12, not text"):
        list(ExclusionFilter(pulled).run(iter(documents)))


def test_a_slow_step_downstream_holds_the_read_ahead_to_a_few_batches(pulled):
    read = []

    def upstream():
        for index in range(10_000):
            read.append(index)
            yield Document("x", str(index), metadata={"repo_name": "keeper/lib", "blob_id": None})

    documents = ExclusionFilter(pulled, batch_size=10).run(upstream())
    next(documents)
    settled = len(read)
    time.sleep(1.5)  # a datatrove step that takes seconds a batch: nothing more is read meanwhile
    assert len(read) == settled <= 4 * 10
    assert sum(1 for _ in documents) == 10_000 - 1


def test_the_hash_tables_are_built_once_per_process_for_all_its_tasks(pulled, shards, tmp_path, monkeypatch):
    built = []

    class CountedMatcher(exclusions_datatrove.Matcher):
        def __init__(self, *arguments, **options):
            built.append(options)
            super().__init__(*arguments, **options)

    monkeypatch.setattr(exclusions_datatrove, "Matcher", CountedMatcher)
    out = tmp_path / "datatrove"
    pipeline_run(pulled, shards, out, workers=1)  # three tasks, one after the other, in this process
    assert len(kept_rows(out / "kept")) == sum(why is None for _repo, _blob, why in ROWS)
    assert built == [{"repositories": True, "blobs": True}]
    ExclusionFilter(pulled, blob_column=None).filter_batch([Document("x", "1", metadata={"repo_name": "a/b"})])
    assert len(built) == 2  # other rules, other tables


# --- the optional dependency -------------------------------------------------------------------------------


def test_the_client_imports_without_datatrove_and_the_block_says_which_extra_to_install(tmp_path):
    script = """
import importlib, importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "datatrove":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Refuse())
for module in ("cli", "filtering", "shards", "release", "pull", "verify"):
    importlib.import_module("exclusions." + module)
try:
    import exclusions.datatrove
except ImportError as error:
    print(error)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pip install 'dataset-exclusions[datatrove]'" in result.stdout
