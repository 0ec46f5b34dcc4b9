"""manage.py import_inventory and the domain function behind it."""

import csv
import gzip
import json
from io import StringIO

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from governance.models import Dataset, DatasetRepository, InventoryImport, Repository
from governance.services import inventory_import_create, inventory_import_run, inventory_import_sweep

pytestmark = pytest.mark.django_db

COMMIT_A = "a" * 40
COMMIT_B = "b" * 40


def run_import(slug, path):
    out, err = StringIO(), StringIO()
    call_command("import_inventory", slug, str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write_jsonl(path, rows):
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))
    return path


def inventory(slug):
    return dict(DatasetRepository.objects.filter(dataset__slug=slug).values_list("repository__canonical", "commit"))


def test_stack_v2_rows_become_one_inventory_entry_per_repository(tmp_path):
    path = write_jsonl(
        tmp_path / "shard.jsonl",
        [
            {"repo_name": "Psf/Requests", "path": "a.py", "blob_id": "1" * 40},
            {"repo_name": "psf/requests", "path": "b.py", "blob_id": "2" * 40},
            {"repo_name": "pallets/flask", "path": "c.py", "blob_id": "3" * 40},
        ],
    )
    out, err = run_import("the-stack", path)
    assert inventory("the-stack") == {"github.com/psf/requests": "", "github.com/pallets/flask": ""}
    assert "3 rows read" in out and "2 repositories added" in out and "0 rows refused" in out
    assert err == ""


def test_import_creates_the_dataset_with_the_default_policy(tmp_path):
    run_import("new-set", write_jsonl(tmp_path / "x.jsonl", [{"repository": "github.com/a/b"}]))
    dataset = Dataset.objects.get(slug="new-set")
    assert dataset.allowed_categories == ["Permissive", "Public Domain"] and dataset.no_license == "include"


def test_bad_rows_are_named_by_row_number_and_the_good_ones_are_imported(tmp_path):
    path = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            {"repo_name": "good/one"},
            {"repo_name": "https://user:pw@github.com/x/y"},
            "not json at all",
            "",
            {"repo_name": "good/two", "commit": "xyz"},
            ["a", "list"],
            {"path": "no-repo.py"},
            {"repo_name": ""},
            {"repo_name": 42},
            {"repo_name": "good/three"},
        ],
    )
    out, err = run_import("mixed", path)
    assert set(inventory("mixed")) == {"github.com/good/one", "github.com/good/three"}
    lines = err.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["row 2", "row 3", "row 5", "row 6", "row 7", "row 8", "row 9"]
    assert "credentials" in lines[0] and "pw" not in lines[0]
    assert "not valid JSON" in lines[1]
    assert "not a full 40- or 64-character hex SHA" in lines[2]
    assert "not a JSON object" in lines[3]
    assert "no 'repo_name' or 'repository' field" in lines[4]
    assert "empty" in lines[5]
    assert "not text" in lines[6]
    assert "7 rows refused" in out
    stored = InventoryImport.objects.get()
    assert (
        stored.status == "done"
        and stored.rows_failed == 7
        and [row for row, _ in stored.row_errors]
        == [
            2,
            3,
            5,
            6,
            7,
            8,
            9,
        ]
    )


def test_reimporting_the_same_file_changes_nothing(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [{"repo_name": f"owner/repo-{n}", "commit": COMMIT_A} for n in range(50)])
    run_import("stable", path)
    before = list(DatasetRepository.objects.order_by("id").values("id", "repository_id", "commit", "updated_at"))
    out, _ = run_import("stable", path)
    assert "0 repositories added, 0 updated" in out
    assert (
        list(DatasetRepository.objects.order_by("id").values("id", "repository_id", "commit", "updated_at")) == before
    )
    assert Repository.objects.count() == 50


def test_a_new_commit_updates_the_entry_and_a_missing_one_keeps_it(tmp_path):
    run_import(
        "commits",
        write_jsonl(
            tmp_path / "1.jsonl", [{"repo_name": "a/b", "commit": COMMIT_A}, {"repo_name": "c/d", "commit": COMMIT_A}]
        ),
    )
    out, _ = run_import(
        "commits",
        write_jsonl(tmp_path / "2.jsonl", [{"repo_name": "a/b", "commit": COMMIT_B.upper()}, {"repo_name": "c/d"}]),
    )
    assert "0 repositories added, 1 updated" in out
    assert inventory("commits") == {"github.com/a/b": COMMIT_B, "github.com/c/d": COMMIT_A}


def test_csv_rows_are_numbered_as_lines_of_the_file(tmp_path):
    path = tmp_path / "inventory.csv"
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["repository", "commit"])
        writer.writerow(["https://gitlab.com/Group/Sub/Project.git", COMMIT_A])
        writer.writerow(["ftp://example.org/a/b", ""])
        writer.writerow(["only", "two", "extra"])
        writer.writerow(["git@github.com:psf/requests.git", ""])
    _, err = run_import("csv-set", path)
    assert inventory("csv-set") == {"gitlab.com/group/sub/project": COMMIT_A, "github.com/psf/requests": ""}
    assert err.splitlines()[0].startswith("row 3: ") and "ftp" in err.splitlines()[0]
    assert err.splitlines()[1].startswith("row 4: has 3 fields where the header has 2")


def test_gzipped_jsonl_and_csv_are_read(tmp_path):
    with gzip.open(tmp_path / "x.jsonl.gz", "wt") as out:
        out.write(json.dumps({"repo_name": "zip/one"}) + "\n")
    with gzip.open(tmp_path / "y.csv.gz", "wt") as out:
        out.write("repo_name\nzip/two\n")
    run_import("gz", tmp_path / "x.jsonl.gz")
    run_import("gz", tmp_path / "y.csv.gz")
    assert set(inventory("gz")) == {"github.com/zip/one", "github.com/zip/two"}


def test_parquet_in_the_stack_v2_shape_is_read_in_batches(tmp_path, settings):
    settings.INVENTORY_BATCH_SIZE = 7
    names = [f"Owner-{n % 13}/Repo-{n % 29}" for n in range(500)] + [None, "not a repo"]
    table = pa.table(
        {
            "blob_id": pa.array([f"{n:040x}" for n in range(len(names))]),
            "repo_name": pa.array(names, pa.string()),
            "path": pa.array(["f.py"] * len(names)),
            "revision_id": pa.array([COMMIT_A] * len(names)),
        }
    )
    pq.write_table(table, tmp_path / "shard.parquet", row_group_size=100)
    out, err = run_import("pq", tmp_path / "shard.parquet")
    expected = {f"github.com/owner-{n % 13}/repo-{n % 29}" for n in range(500)}
    assert set(inventory("pq")) == expected
    assert set(inventory("pq").values()) == {COMMIT_A}
    assert err.splitlines() == [
        "row 501: has no repository (the repo_name or repository value is empty)",
        "row 502: 'not a repo' contains a space: paste one repository per line, such as github.com/owner/name",
    ] or (err.splitlines()[0].startswith("row 501:") and err.splitlines()[1].startswith("row 502:"))
    assert f"{len(expected)} repositories added" in out
    assert InventoryImport.objects.get().progress == 1.0


def test_a_parquet_file_without_a_repository_column_is_refused_with_its_columns(tmp_path):
    pq.write_table(pa.table({"path": ["a"], "blob_id": ["b"]}), tmp_path / "bad.parquet")
    with pytest.raises(CommandError, match=r"no 'repo_name' or 'repository' column \(it has: path, blob_id\)"):
        run_import("bad", tmp_path / "bad.parquet")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.jsonl", None, "no such file"),
        ("inventory.xlsx", b"PK", "unknown format"),
        ("fake.parquet", b"not parquet", "not a readable Parquet file"),
        ("header.csv", b"path,blob_id\nx,y\n", "no 'repo_name' or 'repository' column in the header"),
    ],
)
def test_a_file_that_cannot_be_read_exits_non_zero_with_a_message(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        run_import("unreadable", path)


def test_a_damaged_gzip_keeps_the_rows_before_the_damage_and_fails(tmp_path):
    rows = "".join(json.dumps({"repo_name": f"o/r{n}"}) + "\n" for n in range(2000)).encode()
    packed = gzip.compress(rows)
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(CommandError, match="damaged"):
        run_import("cut", tmp_path / "cut.jsonl.gz")
    stored = InventoryImport.objects.get()
    assert stored.status == "failed" and stored.repositories_added == DatasetRepository.objects.count() > 0


def test_a_bad_dataset_slug_is_refused(tmp_path):
    with pytest.raises(CommandError, match="not a dataset slug"):
        run_import("no spaces!", write_jsonl(tmp_path / "x.jsonl", [{"repo_name": "a/b"}]))


@pytest.mark.parametrize("slug", ["all", "default"])
def test_a_slug_that_already_means_something_cannot_name_a_new_dataset(tmp_path, slug):
    from django.core.exceptions import ValidationError

    with pytest.raises(CommandError, match=f"'{slug}' cannot name a dataset"):
        run_import(slug, write_jsonl(tmp_path / "x.jsonl", [{"repo_name": "a/b"}]))
    assert not Dataset.objects.filter(slug=slug).exists()
    with pytest.raises(ValidationError, match="choose another slug"):
        Dataset(slug=slug, name="Clash").full_clean()
    made_before = Dataset.objects.create(slug=slug, name="Made before the rule")
    run_import(slug, write_jsonl(tmp_path / "y.jsonl", [{"repo_name": "a/b"}]))  # still imports into it
    assert made_before.inventory.count() == 1


def test_an_import_runs_once_even_when_its_task_arrives_twice(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [{"repo_name": "a/b"}])
    created = inventory_import_create(dataset_slug="twice", source_path=str(path), enqueue=False)
    first = inventory_import_run(import_id=created.pk)
    second = inventory_import_run(import_id=created.pk)
    assert first.status == second.status == "done"
    assert second.rows_read == 1 and second.finished_at == first.finished_at


def test_the_sweep_runs_imports_whose_message_was_lost_or_whose_worker_died(tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    path = write_jsonl(tmp_path / "x.jsonl", [{"repo_name": "lost/one"}])
    lost = inventory_import_create(dataset_slug="sweep", source_path=str(path), enqueue=False)
    died = inventory_import_create(dataset_slug="sweep", source_path=str(path), enqueue=False)
    fresh = inventory_import_create(dataset_slug="sweep", source_path=str(path), enqueue=False)
    long_ago = timezone.now() - timedelta(hours=1)
    InventoryImport.objects.filter(pk__in=[lost.pk, died.pk]).update(created_at=long_ago)
    InventoryImport.objects.filter(pk=died.pk).update(status="running", heartbeat_at=long_ago)

    assert sorted(inventory_import_sweep()) == sorted([lost.pk, died.pk])

    statuses = dict(InventoryImport.objects.values_list("pk", "status"))
    assert statuses == {lost.pk: "done", died.pk: "done", fresh.pk: "queued"}
    assert set(inventory("sweep")) == {"github.com/lost/one"}


def test_an_import_queued_from_the_portal_runs_once_the_transaction_commits(
    tmp_path, django_capture_on_commit_callbacks
):
    path = write_jsonl(tmp_path / "x.jsonl", [{"repo_name": "queued/one"}])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = inventory_import_create(dataset_slug="queued", source_path=str(path))
    assert InventoryImport.objects.get(pk=created.pk).status == "queued" and len(callbacks) == 1
    callbacks[0]()
    assert InventoryImport.objects.get(pk=created.pk).status == "done"
