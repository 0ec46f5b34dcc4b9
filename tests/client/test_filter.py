"""The client's `filter` and its Python API: The Stack v2 shards keep every allowed row exactly as it was."""

import gzip
import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exclusions.filtering import filter_table_counted
from exclusions.release import load_release
from tests.client_helpers import OTHER_BLOB, OWN_BLOB, run

pytestmark = pytest.mark.django_db(transaction=True)

# --- filter ------------------------------------------------------------------------------------------------

STACK_SCHEMA = pa.schema(
    [
        pa.field("blob_id", pa.string()),
        pa.field("path", pa.string()),
        pa.field("detected_licenses", pa.list_(pa.string())),
        pa.field("repo_name", pa.string()),
        pa.field("visit_date", pa.timestamp("ns")),
        pa.field("github_id", pa.int64()),
        pa.field("is_vendor", pa.bool_()),
        pa.field("length_bytes", pa.int64()),
    ],
    metadata={b"huggingface": b'{"info": "kept as it was"}'},
)
# (repo_name, blob_id, kept?) — the reason in the comment.
STACK_ROWS = [
    ("keeper/lib", OTHER_BLOB, True),
    ("Opted/Out", "d" * 40, False),  # the repository, in another case
    ("GONE-OWNER/anything", "e" * 40, False),  # a namespace
    ("fork/copy", OWN_BLOB, False),  # a blob of an opted-out repository, in a fork
    ("opted/out.git", "f" * 40, False),  # another spelling of the repository
    ("gone-owner.x/y", "1" * 40, True),  # a host, not the owner: names no repository
    ("keeper/other", None, True),
    (None, "2" * 40, True),
]


def stack_table() -> pa.Table:
    rows = [
        {
            "blob_id": blob,
            "path": f"src/file_{index}.py",
            "detected_licenses": ["MIT"] if index % 2 else [],
            "repo_name": repo,
            "visit_date": 1_700_000_000_000_000_000 + index * 1000,
            "github_id": 1000 + index,
            "is_vendor": bool(index % 3),
            "length_bytes": 10 * index,
        }
        for index, (repo, blob, _kept) in enumerate(STACK_ROWS)
    ]
    return pa.Table.from_pylist(rows, schema=STACK_SCHEMA)


def test_filter_keeps_the_allowed_rows_of_parquet_and_jsonl_with_the_schema_as_it_was(pulled, tmp_path, capsys):
    table = stack_table()
    shards = tmp_path / "shards"
    shards.mkdir()
    pq.write_table(table, shards / "part-0.parquet", row_group_size=3, compression="snappy")
    lines = [json.dumps(row, default=str, separators=(", ", ": ")) for row in table.to_pylist()]
    (shards / "part-1.jsonl").write_text("\n".join(lines) + "\n")
    with gzip.open(shards / "part-2.jsonl.gz", "wt") as compressed:
        compressed.write("\n".join(lines) + "\n")
    inputs = sorted(shards.iterdir())
    status, _ = run(
        "filter", pulled, *inputs, "--output", tmp_path / "out", "--report", tmp_path / "report.json", capsys=capsys
    )
    assert status == 0
    kept = [index for index, (_repo, _blob, keep) in enumerate(STACK_ROWS) if keep]
    written = pq.read_table(tmp_path / "out" / "part-0.parquet")
    assert written.schema.equals(pq.read_schema(shards / "part-0.parquet"), check_metadata=True)
    assert written.schema.metadata[b"huggingface"] == b'{"info": "kept as it was"}'
    assert written.to_pylist() == table.take(kept).to_pylist()
    assert pq.ParquetFile(tmp_path / "out" / "part-0.parquet").metadata.row_group(0).column(0).compression == "SNAPPY"
    expected_lines = "".join(lines[index] + "\n" for index in kept)
    assert (tmp_path / "out" / "part-1.jsonl").read_text() == expected_lines
    with gzip.open(tmp_path / "out" / "part-2.jsonl.gz", "rt") as written_lines:
        assert written_lines.read() == expected_lines
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["release"]["dataset"] == "the-stack" and report["release"]["version"] == 1
    assert (
        report["release"]["manifest_sha256"]
        == hashlib.sha256((pulled / "releases/1/manifest.json").read_bytes()).hexdigest()
    )
    assert (report["rows_in"], report["rows_kept"]) == (3 * len(STACK_ROWS), 3 * len(kept))
    assert report["rows_dropped"] == {"repository": 6, "namespace": 3, "blob": 3, "total": 12}
    assert [shard["rows_kept"] for shard in report["shards"]] == [len(kept)] * 3
    assert report["unreadable_repositories"] == 3  # gone-owner.x/y: a host with no repository path


def test_filter_reads_urls_and_canonical_names_with_gitlab_subgroups(pulled, tmp_path, capsys):
    names = [
        "https://github.com/Opted/Out.git",  # the repository
        "git@github.com:gone-owner/thing.git",  # under a GitHub namespace
        "gitlab.com/group/sub/project",  # under a GitLab group, two levels down
        "https://gitlab.com/groupie/project",  # not under gitlab.com/group
        "github.com/keeper/lib",
        "not a repository",
    ]
    table = pa.table({"repository": names, "n": list(range(len(names)))})
    pq.write_table(table, tmp_path / "urls.parquet")
    status, _ = run(
        "filter",
        pulled,
        tmp_path / "urls.parquet",
        "--output",
        tmp_path / "kept.parquet",
        "--repo-column",
        "repository",
        "--blob-column",
        "",
        capsys=capsys,
    )
    assert status == 0
    assert pq.read_table(tmp_path / "kept.parquet").column("n").to_pylist() == [3, 4, 5]


def test_filter_refuses_a_missing_column_or_an_unreadable_shard_and_leaves_no_output(pulled, tmp_path, capsys):
    pq.write_table(pa.table({"repository": ["a/b"]}), tmp_path / "no-repo-name.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    pq.write_table(stack_table(), tmp_path / "good.parquet")
    status, error = run(
        "filter",
        pulled,
        tmp_path / "no-repo-name.parquet",
        tmp_path / "broken.parquet",
        tmp_path / "good.parquet",
        "--output",
        tmp_path / "out",
        capsys=capsys,
    )
    assert status == 1
    assert "no-repo-name.parquet: no column 'repo_name'" in error and "broken.parquet" in error
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["good.parquet"]
    status, error = run(
        "filter", tmp_path / "empty-dir", tmp_path / "good.parquet", "--output", tmp_path / "o.parquet", capsys=capsys
    )
    assert status == 1 and "run `exclusions pull" in error and not (tmp_path / "o.parquet").exists()


def test_plain_looking_names_that_name_no_repository_are_counted_unreadable(pulled):
    release = load_release(pulled)
    names = ["settings/x", "Localhost/foo", "owner/..", "keeper/lib", "opted/out.git"]
    table = pa.table({"repo_name": names, "blob_id": [None] * len(names)})
    kept, counts = filter_table_counted(release, table)
    # As the portal reads them: GitHub pages, a local host and ".." name no repository; ".git" is stripped.
    assert counts.unreadable_repositories == 3
    assert kept.column("repo_name").to_pylist() == names[:4]


def test_the_python_api_and_the_filter_agree_row_for_row(pulled):
    release = load_release(pulled)
    assert release.is_excluded("https://github.com/OPTED/out") and release.is_excluded(blob_id=OWN_BLOB)
    assert not release.is_excluded("keeper/lib") and not release.is_excluded(None)
    names = [repo for repo, _blob, _keep in STACK_ROWS] + [
        "gitlab.com/group/x",
        "gitlab.com/Group/Sub/y",
        " opted/out ",
        "opted/out?x=1",
        "settings/x",
    ]
    blobs = [blob for _repo, blob, _keep in STACK_ROWS] + [None] * 5
    # Many small batches: verdicts must come back paired with their own rows, in order.
    table = pa.table({"repo_name": names * 500, "blob_id": blobs * 500, "row": list(range(len(names) * 500))})
    table = pa.Table.from_batches(table.to_batches(max_chunksize=7))
    kept, counts = filter_table_counted(release, table)
    expected = [
        row
        for row, (name, blob) in enumerate(zip(names * 500, blobs * 500, strict=True))
        if not release.is_excluded(name, blob_id=blob)
    ]
    assert kept.column("row").to_pylist() == expected and kept.schema == table.schema
    assert release.keep(names, blobs) == [
        not release.is_excluded(name, blob_id=blob) for name, blob in zip(names, blobs, strict=True)
    ]
    assert counts.rows_in == len(table) and counts.rows_kept == len(expected)
