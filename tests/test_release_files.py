"""The files of a release: written in one streaming pass, read back exactly, diffed as sorted streams."""

import hashlib
import json
import tracemalloc
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exclusions import release_files
from exclusions.release_files import (
    BLOBS_SCHEMA,
    REPOSITORIES_SCHEMA,
    ExcludedRow,
    blobs_read,
    blobs_write,
    changes_diff,
    changes_read,
    changes_write,
    file_info,
    repositories_read,
    repositories_write,
)

SINCE = "2026-11-26T21:52:00Z"

ROWS = [
    ExcludedRow("github.com/acme", "namespace", ("opt-out",), SINCE),
    ExcludedRow(
        "github.com/acme-labs/tool", "repository", ("administrative", "opt-out"), "2026-11-27T08:00:00.250000Z"
    ),
    ExcludedRow("github.com/pallets/flask", "repository", ("license:GPL-3.0-only",), "2026-11-28T00:00:00.000001Z"),
    ExcludedRow("github.com/zoë/ünïcode", "repository", ("license:LicenseRef-scancode-ünknown", "opt-out"), SINCE),
]


@pytest.fixture
def folder(tmp_path):
    """A release folder of its own: tmp_path also holds the data dir the shared fixtures make."""
    release = tmp_path / "release"
    release.mkdir()
    return release


def row(repository, reasons=("opt-out",), since=SINCE, scope="repository"):
    return ExcludedRow(f"github.com/{repository}", scope, reasons, since)


def blob(number):
    return f"{number:040x}"


def jsonl_lines(path):
    return path.read_bytes().decode("utf-8").split("\n")[:-1]


def test_repositories_round_trip_through_jsonl_and_parquet_row_for_row(folder):
    jsonl_info, parquet_info = repositories_write(iter(ROWS), folder)

    assert list(repositories_read(folder / "repositories.parquet")) == ROWS
    from_jsonl = [json.loads(line) for line in jsonl_lines(folder / "repositories.jsonl")]
    assert from_jsonl == [
        {"repository": r.repository, "scope": r.scope, "reasons": list(r.reasons), "since": r.since} for r in ROWS
    ]
    assert all(list(record) == ["repository", "scope", "reasons", "since"] for record in from_jsonl)
    assert (jsonl_info.name, jsonl_info.rows, parquet_info.name, parquet_info.rows) == (
        "repositories.jsonl",
        4,
        "repositories.parquet",
        4,
    )


def test_jsonl_is_utf8_with_newline_endings_and_no_escaped_letters(folder):
    repositories_write(ROWS, folder)

    raw = (folder / "repositories.jsonl").read_bytes()
    assert raw.endswith(b"\n") and b"\r" not in raw and raw.count(b"\n") == len(ROWS)
    assert "github.com/zoë/ünïcode".encode() in raw


def test_parquet_columns_have_exactly_the_published_types(folder):
    repositories_write(ROWS, folder)
    blobs_write([blob(1)], folder)

    repositories = pq.read_schema(folder / "repositories.parquet")
    assert repositories.equals(REPOSITORIES_SCHEMA)
    assert [field.type for field in repositories] == [
        pa.string(),
        pa.string(),
        pa.list_(pa.string()),
        pa.timestamp("us", tz="UTC"),
    ]
    assert pq.read_schema(folder / "blobs.parquet").equals(BLOBS_SCHEMA)
    assert BLOBS_SCHEMA.field("blob_id").type == pa.string()


def test_since_is_stored_as_the_exact_instant_and_spelled_one_way(folder):
    rows = [
        row("a/plain", since="2026-11-26T21:52:00Z"),
        row("b/offset", since="2026-11-26T22:52:00+01:00"),
        row("c/micro", since="2026-11-26T21:52:00.000001Z"),
        row("d/utc-offset", since="2026-11-26T21:52:00.5+00:00"),
    ]
    repositories_write(rows, folder)

    stored = pq.read_table(folder / "repositories.parquet").column("since").to_pylist()
    assert stored == [
        datetime(2026, 11, 26, 21, 52, tzinfo=UTC),
        datetime(2026, 11, 26, 21, 52, tzinfo=UTC),
        datetime(2026, 11, 26, 21, 52, 0, 1, tzinfo=UTC),
        datetime(2026, 11, 26, 21, 52, 0, 500_000, tzinfo=UTC),
    ]
    spelled = [
        "2026-11-26T21:52:00Z",
        "2026-11-26T21:52:00Z",
        "2026-11-26T21:52:00.000001Z",
        "2026-11-26T21:52:00.500000Z",
    ]
    assert [r.since for r in repositories_read(folder / "repositories.parquet")] == spelled
    assert [json.loads(line)["since"] for line in jsonl_lines(folder / "repositories.jsonl")] == spelled


def test_rows_spanning_several_batches_keep_their_order(folder, monkeypatch):
    monkeypatch.setattr(release_files, "BATCH_ROWS", 3)
    rows = [row(f"owner/repo-{number:02d}") for number in range(10)]

    jsonl_info, parquet_info = repositories_write(rows, folder)

    assert list(repositories_read(folder / "repositories.parquet")) == rows
    assert [json.loads(line)["repository"] for line in jsonl_lines(folder / "repositories.jsonl")] == [
        r.repository for r in rows
    ]
    assert jsonl_info.rows == parquet_info.rows == 10
    assert pq.ParquetFile(folder / "repositories.parquet").metadata.num_row_groups == 4


@pytest.mark.parametrize(
    "rows, message",
    [
        ([row("b/b"), row("a/a")], "comes after"),
        ([row("a/a"), row("a/a", reasons=("administrative",))], "appears twice"),
        ([row("a", scope="repository"), row("a", scope="namespace")], "comes after"),
    ],
)
def test_rows_out_of_order_are_refused_and_leave_no_files(folder, rows, message):
    with pytest.raises(ValueError, match=message):
        repositories_write(rows, folder)

    assert list(folder.iterdir()) == []


def test_a_failed_write_keeps_the_files_written_before(folder):
    repositories_write(ROWS, folder)
    before = (folder / "repositories.parquet").read_bytes()

    with pytest.raises(ValueError):
        repositories_write([row("b/b"), row("a/a")], folder)

    assert (folder / "repositories.parquet").read_bytes() == before
    assert sorted(path.name for path in folder.iterdir()) == ["repositories.jsonl", "repositories.parquet"]


@pytest.mark.parametrize(
    "bad_row, message",
    [
        (row("a/a", scope="organisation"), "scope must be"),
        (row("a/a", reasons=("opt-out", "administrative")), "reasons must be sorted"),
        (row("a/a", reasons=("opt-out", "opt-out")), "reasons must be sorted"),
        (row("a/a", since="2026-11-26T21:52:00"), "with a zone"),
        (row("a/a", since="yesterday"), "ISO 8601"),
    ],
)
def test_rows_that_cannot_be_published_are_refused(folder, bad_row, message):
    with pytest.raises(ValueError, match=message):
        repositories_write([bad_row], folder)


def test_empty_inputs_give_valid_empty_files(folder):
    jsonl_info, parquet_info = repositories_write([], folder)
    blobs_info = blobs_write([], folder)
    changes_info = changes_write([], folder)

    assert (folder / "repositories.jsonl").read_bytes() == b""
    assert (folder / "changes.jsonl").read_bytes() == b""
    for path, schema in (
        (folder / "repositories.parquet", REPOSITORIES_SCHEMA),
        (folder / "blobs.parquet", BLOBS_SCHEMA),
    ):
        table = pq.read_table(path)
        assert table.num_rows == 0 and table.schema.equals(schema)
    assert [info.rows for info in (jsonl_info, parquet_info, blobs_info, changes_info)] == [0, 0, 0, 0]
    assert list(repositories_read(folder / "repositories.parquet")) == []
    assert list(blobs_read(folder / "blobs.parquet")) == []
    assert list(changes_read(folder / "changes.jsonl")) == []


def test_blobs_round_trip_without_repeats_even_across_batches(folder, monkeypatch):
    monkeypatch.setattr(release_files, "BATCH_ROWS", 3)
    ids = [blob(1), blob(1), blob(2), blob(2), blob(2), blob(3), blob(3), blob(10), blob(11), blob(11)]

    info = blobs_write(iter(ids), folder)

    assert list(blobs_read(folder / "blobs.parquet")) == [blob(1), blob(2), blob(3), blob(10), blob(11)]
    assert info.rows == 5 and info.name == "blobs.parquet"


@pytest.mark.parametrize(
    "bad_id",
    ["A" * 40, "a" * 39, "a" * 41, "g" * 40, " " + "a" * 39, "é" + "a" * 39, "", None, 123],
)
def test_blob_ids_must_be_40_lower_case_hex_characters(folder, bad_id):
    with pytest.raises(ValueError, match="blob id"):
        blobs_write([blob(1), bad_id], folder)

    assert list(folder.iterdir()) == []


def test_blob_ids_out_of_order_are_refused_even_across_batches(folder, monkeypatch):
    monkeypatch.setattr(release_files, "BATCH_ROWS", 2)

    with pytest.raises(ValueError, match="sorted ascending"):
        blobs_write([blob(1), blob(5), blob(4)], folder)
    with pytest.raises(ValueError, match="sorted ascending"):
        blobs_write([blob(2), blob(1)], folder)


def test_changes_add_new_rows_and_remove_gone_ones():
    previous = [row("a/kept"), row("b/gone")]
    current = [row("a/kept"), row("c/new", reasons=("administrative", "opt-out"))]

    assert list(changes_diff(previous, current)) == [
        {"op": "remove", "repository": "github.com/b/gone", "scope": "repository"},
        {
            "op": "add",
            "repository": "github.com/c/new",
            "scope": "repository",
            "reasons": ["administrative", "opt-out"],
            "since": SINCE,
        },
    ]


def test_a_row_whose_reasons_changed_is_removed_then_added():
    previous = [row("a/a", reasons=("opt-out",))]
    current = [row("a/a", reasons=("license:GPL-3.0-only", "opt-out"))]

    assert [(change["op"], change.get("reasons")) for change in changes_diff(previous, current)] == [
        ("remove", None),
        ("add", ["license:GPL-3.0-only", "opt-out"]),
    ]


def test_identical_releases_have_no_changes_even_when_since_is_spelled_differently():
    previous = [row("a/a"), row("b", scope="namespace")]
    current = [row("a/a", since="2026-11-26T21:52:00+00:00"), row("b", scope="namespace")]

    assert list(changes_diff(previous, current)) == []
    assert list(changes_diff([], [])) == []


def test_a_namespace_and_a_repository_of_the_same_name_are_different_rows():
    previous = [row("acme", scope="namespace")]
    current = [row("acme", scope="namespace"), row("acme/tool")]

    assert [change["op"] for change in changes_diff(previous, current)] == ["add"]


def test_with_one_side_empty_everything_is_added_or_removed():
    assert [change["op"] for change in changes_diff([], ROWS)] == ["add"] * len(ROWS)
    assert list(changes_diff(ROWS, [])) == [
        {"op": "remove", "repository": r.repository, "scope": r.scope} for r in ROWS
    ]


def test_unsorted_input_to_the_diff_is_refused():
    with pytest.raises(ValueError, match="previous rows must be sorted"):
        list(changes_diff([row("b/b"), row("a/a")], []))
    with pytest.raises(ValueError, match="current rows must be sorted"):
        list(changes_diff([], [row("a/a"), row("a/a")]))


RELEASES = st.dictionaries(
    st.sampled_from(["a", "a/a", "a/b", "a-b", "ab/a", "b"]),
    st.tuples(
        st.sampled_from([("opt-out",), ("administrative",), ("administrative", "opt-out")]),
        st.sampled_from([SINCE, "2026-12-01T00:00:00.500000Z"]),
    ),
)


def release_rows(release):
    return [
        row(name, reasons, since, scope="repository" if "/" in name else "namespace")
        for name, (reasons, since) in sorted(release.items())
    ]


@given(previous=RELEASES, current=RELEASES)
def test_applying_the_changes_to_the_previous_release_gives_the_current_one(previous, current):
    applied = {(r.repository, r.scope): r for r in release_rows(previous)}
    for change in changes_diff(release_rows(previous), release_rows(current)):
        key = (change["repository"], change["scope"])
        if change["op"] == "remove":
            del applied[key]
        else:
            assert key not in applied
            applied[key] = ExcludedRow(*key, tuple(change["reasons"]), change["since"])

    assert [applied[key] for key in sorted(applied)] == release_rows(current)


def test_changes_round_trip_one_object_a_line(folder):
    changes = list(changes_diff([row("a/a")], [row("b/b")]))

    info = changes_write(iter(changes), folder)

    assert list(changes_read(folder / "changes.jsonl")) == changes
    assert len(jsonl_lines(folder / "changes.jsonl")) == info.rows == 2
    with pytest.raises(ValueError, match="op"):
        changes_write([{"op": "rename", "repository": "github.com/a/a"}], folder)


def test_file_info_matches_hashlib_and_stat(folder):
    infos = [*repositories_write(ROWS, folder), blobs_write([blob(1), blob(2)], folder)]
    infos.append(changes_write(changes_diff([], ROWS), folder))

    for info in infos:
        path = folder / info.name
        assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert info.bytes == path.stat().st_size
    assert infos[0].as_dict() == {
        "name": "repositories.jsonl",
        "bytes": infos[0].bytes,
        "rows": 4,
        "sha256": infos[0].sha256,
    }
    assert file_info(folder / "blobs.parquet", rows=2) == infos[2]


def test_a_million_rows_are_written_in_bounded_memory(folder):
    # tracemalloc sees Python allocations only: a writer that kept its rows would hold several hundred MB.
    count = 1_000_000
    reasons = ("license:GPL-3.0-only", "opt-out")
    rows = (ExcludedRow(f"github.com/owner-{n:07d}/repository", "repository", reasons, SINCE) for n in range(count))

    tracemalloc.start()
    try:
        jsonl_info, parquet_info = repositories_write(rows, folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert jsonl_info.rows == parquet_info.rows == count
    assert pq.ParquetFile(folder / "repositories.parquet").metadata.num_rows == count
    assert peak < 100 * 2**20, f"peak traced memory {peak / 2**20:.0f} MiB"
