"""governance/git.py listing a commit's files: every blob id and size, no file's content fetched."""

import os
from unittest import mock

import pytest

import governance.git
from governance.git import (
    UNKNOWN_SIZE,
    GitError,
    GitUnreachable,
    TreeBlob,
    TreeListing,
    git_run,
    local_repository_commit,
    tree_blobs_list,
)
from tests.git_http import serve_git_over_http

# Listing every file blob of a commit without fetching any file's content.


def head_of(repository):
    return git_run("rev-parse", "HEAD", cwd=repository).decode().strip()


def hash_object(path):
    return git_run("hash-object", "--no-filters", str(path)).decode().strip()


def listed(listing):
    return {blob.path: blob for blob in listing.blobs}


def test_every_regular_file_of_the_head_is_listed_with_its_blob_id(repositories):
    repository = repositories / "acme"
    files = {"README.md": "hi\n", "src/acme/__init__.py": "", "src/acme/deep/er/core.py": "x = 1\n", "run.sh": "echo"}
    commit = local_repository_commit(repository, files, message="first")
    (repository / "run.sh").chmod(0o755)
    commit = local_repository_commit(repository, {}, message="executable")

    listing = tree_blobs_list(repository.as_uri())

    assert listing.commit == commit == head_of(repository)
    assert [blob.path for blob in listing.blobs] == sorted(files)
    for blob in listing.blobs:
        assert blob.blob_id == hash_object(repository / blob.path)
        assert blob.size == UNKNOWN_SIZE
    assert listed(listing)["run.sh"].mode == "100755"
    assert listed(listing)["README.md"] == TreeBlob(
        path="README.md", blob_id=hash_object(repository / "README.md"), size=UNKNOWN_SIZE, mode="100644"
    )


def test_symbolic_links_and_submodules_are_not_listed(repositories):
    repository = repositories / "acme"
    commit = local_repository_commit(repository, {"target.txt": "hi\n"}, message="first")
    (repository / "link").symlink_to("target.txt")
    git_run("add", "link", cwd=repository)
    # A gitlink without a checkout: `git add --all` would drop it again, so commit the index as it is.
    git_run("update-index", "--add", "--cacheinfo", f"160000,{commit},vendor/sub", cwd=repository)
    git_run("commit", "--quiet", "-m", "link and submodule", cwd=repository)
    assert git_run("ls-tree", "-r", "--name-only", "HEAD", cwd=repository).decode().split() == [
        "link",
        "target.txt",
        "vendor/sub",
    ]

    assert [blob.path for blob in tree_blobs_list(repository.as_uri()).blobs] == ["target.txt"]


def test_a_path_that_is_not_utf8_keeps_its_bytes(repositories):
    repository = repositories / "acme"
    name = os.fsdecode(b"caf\xe9.txt")
    local_repository_commit(repository, {name: "latin-1\n"}, message="first")
    (blob,) = tree_blobs_list(repository.as_uri()).blobs
    assert blob.path.encode("utf-8", "surrogateescape") == b"caf\xe9.txt"


def test_a_large_file_is_listed_without_its_content_being_fetched(repositories, kept_scratch):
    repository = repositories / "acme"
    local_repository_commit(repository, {"data/big.bin": os.urandom(5_000_000), "README.md": "hi\n"}, message="big")
    big_sha = hash_object(repository / "data" / "big.bin")

    listing = tree_blobs_list(repository.as_uri())

    assert listed(listing)["data/big.bin"] == TreeBlob(
        path="data/big.bin", blob_id=big_sha, size=UNKNOWN_SIZE, mode="100644"
    )
    for blob in listing.blobs:
        with pytest.raises(GitError):
            git_run("cat-file", "-e", blob.blob_id, cwd=kept_scratch)
    # Only the commit and two trees came: a few hundred bytes, where the file alone is 5 MB.
    counts = dict(line.split(": ") for line in git_run("count-objects", "-v", cwd=kept_scratch).decode().splitlines())
    assert int(counts["size-pack"]) < 64  # KiB


def test_files_are_listed_over_http_without_their_content(repositories, kept_scratch):
    repository = repositories / "acme" / "lib.git"
    commit = local_repository_commit(repository, {"src/a.py": "x = 1\n", "big.bin": os.urandom(1_000_000)}, message="a")
    with serve_git_over_http(repositories) as base_url:
        listing = tree_blobs_list(f"{base_url}/acme/lib.git")
    assert listing == TreeListing(
        commit=commit,
        blobs=[
            TreeBlob(path="big.bin", blob_id=hash_object(repository / "big.bin"), size=UNKNOWN_SIZE, mode="100644"),
            TreeBlob(path="src/a.py", blob_id=hash_object(repository / "src/a.py"), size=UNKNOWN_SIZE, mode="100644"),
        ],
    )
    with pytest.raises(GitError):
        git_run("cat-file", "-e", listing.blobs[0].blob_id, cwd=kept_scratch)


def test_a_server_that_ignores_the_filter_sends_the_blobs_and_their_sizes_are_given(repositories, monkeypatch):
    local_repository_commit(repositories / "acme", {"a.txt": "12345", "b/c.txt": ""}, message="first")
    # Without the switch on its command line, a local upload-pack does not allow filters, like some servers.
    without_filters = mock.create_autospec(governance.git._upload_pack_options, return_value=[])
    monkeypatch.setattr(governance.git, "_upload_pack_options", without_filters)
    listing = tree_blobs_list((repositories / "acme").as_uri())
    assert [(blob.path, blob.size) for blob in listing.blobs] == [("a.txt", 5), ("b/c.txt", 0)]


@pytest.fixture
def tagged_repository(repositories):
    """acme: v1 (annotated tag) and v1-light (lightweight tag) on the first commit, `side` ahead of `main`."""
    repository = repositories / "acme"
    first = local_repository_commit(repository, {"old.txt": "1\n"}, message="first")
    git_run("tag", "--annotate", "--message=release 1", "v1", cwd=repository)
    git_run("tag", "v1-light", cwd=repository)
    git_run("switch", "--quiet", "--create", "feature/side", cwd=repository)
    side = local_repository_commit(repository, {"side.txt": "s\n"}, message="side")
    git_run("switch", "--quiet", "main", cwd=repository)
    main = local_repository_commit(repository, {"new.txt": "2\n"}, message="second")
    return repository, {"first": first, "side": side, "main": main}


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (None, "main"),
        ("main", "main"),
        ("feature/side", "side"),
        ("v1", "first"),
        ("v1-light", "first"),
        ("refs/tags/v1", "first"),
    ],
)
def test_a_branch_or_tag_can_be_listed_instead_of_the_head(tagged_repository, ref, expected):
    repository, commits = tagged_repository
    listing = tree_blobs_list(repository.as_uri(), ref=ref)
    assert listing.commit == commits[expected]
    expected_paths = git_run("ls-tree", "-r", "--name-only", commits[expected], cwd=repository).decode().split()
    assert [blob.path for blob in listing.blobs] == expected_paths


def test_a_commit_can_be_listed_by_its_sha_over_file_and_http(tagged_repository, repositories):
    repository, commits = tagged_repository
    listing = tree_blobs_list(repository.as_uri(), ref=commits["side"])
    assert (listing.commit, [blob.path for blob in listing.blobs]) == (commits["side"], ["old.txt", "side.txt"])
    assert tree_blobs_list(repository.as_uri(), ref=commits["first"].upper()).commit == commits["first"]
    with serve_git_over_http(repositories) as base_url:
        assert tree_blobs_list(f"{base_url}/acme", ref=commits["side"]).commit == commits["side"]
        assert tree_blobs_list(f"{base_url}/acme", ref="v1").commit == commits["first"]


def test_a_ref_the_repository_does_not_have_is_an_error_that_names_it(tagged_repository, repositories):
    repository, _ = tagged_repository
    for ref in ("nope", "f" * 40):
        with pytest.raises(GitError, match=f"has no branch, tag or commit {ref}") as raised:
            tree_blobs_list(repository.as_uri(), ref=ref)
        assert not isinstance(raised.value, GitUnreachable)
    with serve_git_over_http(repositories) as base_url:
        for ref in ("nope", "f" * 40):
            with pytest.raises(GitError, match=f"has no branch, tag or commit {ref}"):
                tree_blobs_list(f"{base_url}/acme", ref=ref)


@pytest.mark.parametrize(
    "ref",
    [
        "--upload-pack=touch /tmp/pwned",
        "-x",
        "+main",
        "main..side",
        "main side",
        "main:refs/heads/x",
        "refs/heads/*",
        "main^",
        "main~1",
        "HEAD@{1}",
        "@",
        "",
        "/main",
        "main/",
        "a//b",
        ".hidden",
        "main.lock",
        "main.",
        "main\n",
        "ma\\in",
    ],
)
def test_refs_that_are_not_plain_names_or_commit_shas_are_refused_before_git_runs(ref, monkeypatch):
    git = mock.create_autospec(governance.git.git_run)
    monkeypatch.setattr(governance.git, "git_run", git)
    with pytest.raises(GitError, match="not a branch or tag name or a 40-character commit SHA"):
        tree_blobs_list("https://github.com/acme/lib.git", ref=ref)
    git.assert_not_called()


def test_listing_a_host_where_nothing_listens_is_unreachable():
    with pytest.raises(GitUnreachable, match="could not be reached .*retried"):
        tree_blobs_list("http://127.0.0.1:1/x/y.git")


def test_listing_a_host_that_never_answers_is_unreachable_once_the_time_limit_is_spent(silent_listener):
    with pytest.raises(GitUnreachable, match="could not be reached within 2 s"):
        tree_blobs_list(f"http://127.0.0.1:{silent_listener}/x/y.git", timeout=2)


def test_an_empty_repository_has_no_files_to_list(repositories):
    git_run("init", "--quiet", "--bare", str(repositories / "empty.git"))
    with pytest.raises(GitError, match="has no commits"):
        tree_blobs_list((repositories / "empty.git").as_uri())
