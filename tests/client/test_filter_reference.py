"""The vectorised filter keeps exactly the rows a plain per-row reference keeps, on a release with tricky cases."""

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exclusions.filtering import REASONS, Matcher, filter_table_counted, key_batch
from exclusions.identity import RepositoryParseError, canonical_and_namespace, namespace_chain
from exclusions.release import load_release
from governance.models import Repository, RepositoryBlob
from governance.services import dataset_get_or_create
from releases.publication import release_publish
from tests.client_helpers import OTHER_BLOB, OWN_BLOB, exclude, run

pytestmark = pytest.mark.django_db(transaction=True)

# Repository values and blob ids; the reference decides what each should give, the test only lists them.
TRICKY_ROWS = [
    ("keeper/lib", OTHER_BLOB),
    ("Opted/Out", "d" * 40),  # the repository, another case
    ("OPTED/OUT", OWN_BLOB),  # the repository and its blob: counted once, as the repository
    ("Mixed/Case", None),  # listed as github.com/Mixed/Case
    ("gone-owner/anything", "e" * 40),  # a GitHub owner
    ("Gone-Owner/Thing.git", None),  # the same owner, a spelling identity strips
    ("fork/copy", OWN_BLOB),  # the opted-out repository's blob, in a fork
    (None, OWN_BLOB),  # no repository, an excluded blob
    ("keeper/x", None),
    (None, None),
    ("gitlab.com/group/a", None),  # a top-level GitLab group
    ("gitlab.com/GROUP/sub/b", None),  # a subgroup of it, another case
    ("gitlab.com/deep/sub/c", None),  # a namespace two levels down
    ("gitlab.com/deep/other/c", None),  # beside it
    ("gitlab.com/deep/sub/inner/x/y", None),  # under a namespace three levels down
    ("gitlab.com/deep/sub", None),  # a value equal to a listed namespace
    ("https://gitlab.com/deep/sub/inner", None),  # the same, three levels down, as a URL
    ("github.com/gone-owner", None),  # the GitHub namespace itself
    ("gone-owner", None),  # its owner alone
    ("gitlab.com/solo/project", "f" * 40),  # a listed GitLab repository
    ("codeberg.org/gone-owner/x", None),  # the same owner name on another host
    ("group/a", None),  # a GitHub owner named as the GitLab group
    ("deep/sub", None),
    ("gone-owner.x/y", None),  # a host, not an owner
    ("settings/x", None),  # a GitHub page
    ("owner/..", None),
    ("", None),
    (" opted/out ", None),
]


@pytest.fixture
def tricky(live_server, live_server_connections_closed, tmp_path, capsys):
    """Release 1 with repositories, namespaces at three depths and a blob, pulled into a directory."""
    dataset_get_or_create(slug="the-stack", name="The Stack")
    exclude("github.com/opted/out", "github.com/Mixed/Case", "gitlab.com/solo/project")
    exclude(
        "github.com/gone-owner", "gitlab.com/group", "gitlab.com/deep/sub", "gitlab.com/deep/sub/inner", namespace=True
    )
    RepositoryBlob.objects.create(
        repository=Repository.objects.get(canonical="github.com/opted/out"), blob_id=OWN_BLOB, size=10
    )
    release_publish(dataset_slug="the-stack")
    directory = tmp_path / "exclusions"
    assert run("pull", live_server.url, "the-stack", "--dir", directory, capsys=capsys)[0] == 0
    return directory


def reference(directory, repositories=True, blobs=True):
    """A row's reason as the rules read, row by row, from the release's files: Python sets, identity parsing."""
    folder = next((directory / "releases").iterdir())
    listed = pq.read_table(folder / "repositories.parquet", columns=["repository", "scope"]).to_pylist()
    repository_set = {row["repository"] for row in listed if row["scope"] == "repository"}
    namespace_set = {row["repository"] for row in listed if row["scope"] == "namespace"}
    blob_set = set(pq.read_table(folder / "blobs.parquet").column("blob_id").to_pylist())

    def reason(repo, blob):
        if repositories and repo is not None:
            try:
                canonical, namespace = canonical_and_namespace(repo)
            except RepositoryParseError:
                canonical = None
            if canonical in repository_set:
                return "repository"
            if canonical is not None and any(name in namespace_set for name in namespace_chain(namespace)):
                return "namespace"
        if blobs and blob in blob_set:
            return "blob"
        return None

    return reason


def tricky_table(copies=3) -> pa.Table:
    rows = [
        {"repo_name": repo, "blob_id": blob, "row": index} for index, (repo, blob) in enumerate(TRICKY_ROWS * copies)
    ]
    table = pa.Table.from_pylist(rows)
    empty = table.slice(0, 0).to_batches() or [pa.RecordBatch.from_pylist([], schema=table.schema)]
    # Batches of 5 with empty ones between them: verdicts stay paired with their own rows.
    batches = []
    for batch in table.to_batches(max_chunksize=5):
        batches += [batch, *empty]
    return pa.Table.from_batches(empty + batches, schema=table.schema)


@pytest.mark.parametrize(
    ("repo_column", "blob_column"), [("repo_name", "blob_id"), ("repo_name", None), (None, "blob_id")]
)
def test_vectorised_filter_keeps_the_rows_and_counts_of_the_per_row_reference(tricky, repo_column, blob_column):
    reason = reference(tricky, repositories=repo_column is not None, blobs=blob_column is not None)
    table = tricky_table()
    kept, counts = filter_table_counted(load_release(tricky), table, repo_column=repo_column, blob_column=blob_column)
    reasons = [reason(row["repo_name"], row["blob_id"]) for row in table.to_pylist()]
    assert kept.column("row").to_pylist() == [row for row, why in enumerate(reasons) if why is None]
    assert kept.schema == table.schema
    assert counts.dropped == {name: reasons.count(name) for name in REASONS}
    assert counts.rows_in == len(table) and counts.rows_kept == reasons.count(None)
    unreadable = [repo for repo in table.column("repo_name").to_pylist() if repo is not None and not _parses(repo)]
    assert counts.unreadable_repositories == (len(unreadable) if repo_column else 0)


@pytest.mark.parametrize(("repo_column", "blob_column"), [("repo_name", "blob_id"), (None, "blob_id")])
def test_the_matcher_explains_each_row_with_the_reason_of_the_reference(tricky, repo_column, blob_column):
    reason = reference(tricky, repositories=repo_column is not None, blobs=blob_column is not None)
    table = tricky_table()
    matcher = Matcher(load_release(tricky), repositories=repo_column is not None, blobs=blob_column is not None)
    items = ((None, key_batch(batch, repo_column, blob_column)) for batch in table.to_batches())
    explained = [why for _, reasons, _counts in matcher.verdicts(items, explain=True) for why in reasons.to_pylist()]
    assert explained == [reason(row["repo_name"], row["blob_id"]) for row in table.to_pylist()]


def test_the_reference_meets_every_rule_in_the_tricky_rows(tricky):
    reason = reference(tricky)
    reasons = {repo: reason(repo, blob) for repo, blob in TRICKY_ROWS}
    # The cases are worth their place only if each rule (and a subgroup, and a fork's blob) is met.
    assert reasons["Opted/Out"] == "repository" and reasons["Mixed/Case"] == "repository"
    assert reasons["gone-owner/anything"] == "namespace" and reasons["gitlab.com/GROUP/sub/b"] == "namespace"
    assert reasons["gitlab.com/deep/sub/inner/x/y"] == "namespace" and reasons["fork/copy"] == "blob"
    assert reasons["gitlab.com/deep/other/c"] is None and reasons["group/a"] is None


def test_filter_with_several_processes_writes_what_one_process_writes(tricky, tmp_path, capsys):
    table = tricky_table(copies=40).combine_chunks()
    shards = tmp_path / "shards"
    shards.mkdir()
    for index in range(3):
        pq.write_table(table, shards / f"part-{index}.parquet", row_group_size=16, compression="zstd")
    lines = [json.dumps(row) for row in table.to_pylist()]
    (shards / "part-3.jsonl").write_text("\n".join(lines) + "\n")
    with gzip.open(shards / "part-4.jsonl.gz", "wt") as compressed:
        compressed.write("\n".join(lines) + "\n")
    inputs = sorted(shards.iterdir())
    outputs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}"
        report = tmp_path / f"report-{jobs}.json"
        status, _ = run("filter", tricky, *inputs, "--output", out, "--report", report, "--jobs", jobs, capsys=capsys)
        assert status == 0
        outputs[jobs] = {path.name: _content(path) for path in sorted(out.iterdir())}
        counts = json.loads(report.read_text())
        assert counts["workers"] == int(jobs)
        outputs[jobs]["counts"] = {key: counts[key] for key in ("rows_in", "rows_kept", "rows_dropped")}
    assert outputs["1"] == outputs["2"]
    assert len(outputs["1"]) == len(inputs) + 1
    expected_rows = [row for row in table.to_pylist() if reference(tricky)(row["repo_name"], row["blob_id"]) is None]
    assert pq.read_table(tmp_path / "out-2" / "part-1.parquet").to_pylist() == expected_rows


def _parses(repo):
    try:
        canonical_and_namespace(repo)
    except RepositoryParseError:
        return False
    return True


def _content(path):
    # gzip's header names the temporary file and the time it was written: compare what it holds.
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
