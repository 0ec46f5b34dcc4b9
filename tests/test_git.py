"""governance/git.py: the only module that runs git."""

import contextlib
import http.server
import os
import socket
import threading
import time
from unittest import mock

import pytest

import governance.git
from governance.git import (
    UNKNOWN_SIZE,
    GitError,
    GitUnreachable,
    ProofFile,
    TreeBlob,
    TreeListing,
    git_run,
    local_repository_commit,
    proof_file_fetch,
    remote_head,
    tree_blobs_list,
)
from tests.git_http import serve_git_over_http


def test_a_repository_is_built_on_disk_and_its_commit_returned(tmp_path):
    commit = local_repository_commit(tmp_path / "repo", {"README.md": "hi\n", "src/a.py": b"x = 1\n"}, message="first")
    assert len(commit) == 40
    listing = git_run("ls-tree", "-r", "--name-only", "HEAD", cwd=tmp_path / "repo").decode().split()
    assert listing == ["README.md", "src/a.py"]
    assert git_run("symbolic-ref", "--short", "HEAD", cwd=tmp_path / "repo").decode().strip() == "main"


def test_repository_hooks_never_run(tmp_path):
    repository = tmp_path / "repo"
    local_repository_commit(repository, {"a": "1"}, message="first")
    hook = repository / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {tmp_path}/hook-ran\nexit 1\n")
    hook.chmod(0o755)
    local_repository_commit(repository, {"a": "2"}, message="second")
    assert not (tmp_path / "hook-ran").exists()


def test_a_failing_command_says_what_git_said(tmp_path):
    with pytest.raises(GitError, match="git rev-parse failed: .*not a git repository"):
        git_run("rev-parse", "HEAD", cwd=tmp_path)


def test_a_command_over_its_time_limit_is_stopped(tmp_path):
    with pytest.raises(GitError, match="took longer than 0.5 s"):
        git_run("-c", "alias.wait=!sleep 3", "wait", timeout=0.5)


# Reading the opt-out proof file from a repository's default branch.


@pytest.fixture
def repositories(tmp_path):
    """A folder of real repositories, served over file:// or HTTP by the tests that need them."""
    root = tmp_path / "served"
    root.mkdir()
    return root


@pytest.fixture
def silent_listener():
    """A loopback port that accepts connections and never answers them."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def failing_server():
    """A loopback HTTP server that answers every request with 503 Service Unavailable."""

    class Unavailable(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_error(503)

        def log_message(self, format, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


def head_of(repository):
    return git_run("rev-parse", "HEAD", cwd=repository).decode().strip()


def test_the_proof_file_is_read_from_the_head_of_the_default_branch(repositories):
    commit = local_repository_commit(
        repositories / "acme", {".dataset-opt-out": "token-123\n", "README.md": "hi\n"}, message="opt out"
    )
    proof = proof_file_fetch((repositories / "acme").as_uri())
    assert proof == ProofFile(commit=commit, content=b"token-123\n")
    assert proof.commit == head_of(repositories / "acme")


def test_a_proof_file_on_another_branch_only_is_not_seen(repositories):
    repository = repositories / "acme"
    default_head = local_repository_commit(repository, {"README.md": "hi\n"}, message="first")
    git_run("switch", "--quiet", "--create", "proof", cwd=repository)
    local_repository_commit(repository, {".dataset-opt-out": "token-123\n"}, message="proof on a side branch")
    git_run("switch", "--quiet", "main", cwd=repository)
    assert proof_file_fetch(repository.as_uri()) == ProofFile(commit=default_head, content=None)


def test_the_default_branch_is_whatever_the_repository_head_names(repositories):
    repository = repositories / "acme"
    local_repository_commit(repository, {"README.md": "hi\n"}, message="first", branch="trunk")
    git_run("switch", "--quiet", "--create", "main", cwd=repository)
    local_repository_commit(repository, {".dataset-opt-out": "wrong-branch\n"}, message="on main")
    git_run("switch", "--quiet", "trunk", cwd=repository)
    trunk_head = local_repository_commit(repository, {".dataset-opt-out": "token-123\n"}, message="on trunk")
    assert proof_file_fetch(repository.as_uri()) == ProofFile(commit=trunk_head, content=b"token-123\n")


def test_a_missing_proof_file_still_tells_which_commit_was_read(repositories):
    commit = local_repository_commit(repositories / "acme", {"README.md": "hi\n"}, message="first")
    assert proof_file_fetch((repositories / "acme").as_uri()) == ProofFile(commit=commit, content=None)


def test_a_proof_file_can_sit_below_the_root_when_asked_for(repositories):
    local_repository_commit(repositories / "acme", {"docs/opt-out.txt": "token-123\n"}, message="first")
    proof = proof_file_fetch((repositories / "acme").as_uri(), path="docs/opt-out.txt")
    assert proof.content == b"token-123\n"


def test_a_directory_or_symbolic_link_in_place_of_the_proof_file_does_not_count(repositories):
    repository = repositories / "acme"
    local_repository_commit(repository, {".dataset-opt-out/token": "token-123\n", "target": "token-123\n"}, message="a")
    (repository / "link").symlink_to("target")
    local_repository_commit(repository, {}, message="link")
    assert proof_file_fetch(repository.as_uri()).content is None
    assert proof_file_fetch(repository.as_uri(), path="link").content is None


def test_a_proof_file_over_the_size_limit_is_reported_without_being_fetched(repositories, tmp_path, monkeypatch):
    repository = repositories / "acme"
    big = os.urandom(100_000)
    commit = local_repository_commit(repository, {".dataset-opt-out": big, "README.md": "hi\n"}, message="big")
    big_sha = git_run("rev-parse", "HEAD:.dataset-opt-out", cwd=repository).decode().strip()
    small_sha = git_run("rev-parse", "HEAD:README.md", cwd=repository).decode().strip()
    kept = tmp_path / "fetched"

    @contextlib.contextmanager
    def kept_directory(**options):
        kept.mkdir()
        yield str(kept)

    monkeypatch.setattr(governance.git, "TemporaryDirectory", kept_directory)

    assert proof_file_fetch(repository.as_uri(), max_bytes=4096) == ProofFile(
        commit=commit, content=None, too_large=True
    )
    git_run("cat-file", "-e", small_sha, cwd=kept)
    with pytest.raises(GitError):
        git_run("cat-file", "-e", big_sha, cwd=kept)


def test_a_proof_file_of_exactly_the_size_limit_is_read_and_one_byte_more_is_too_large(repositories):
    local_repository_commit(repositories / "acme", {".dataset-opt-out": b"x" * 4096}, message="first")
    assert proof_file_fetch((repositories / "acme").as_uri(), max_bytes=4096).content == b"x" * 4096
    assert proof_file_fetch((repositories / "acme").as_uri(), max_bytes=4095).too_large


def test_the_proof_file_and_head_are_read_over_http(repositories):
    commit = local_repository_commit(repositories / "acme" / "lib.git", {".dataset-opt-out": "tok\n"}, message="a")
    with serve_git_over_http(repositories) as base_url:
        assert proof_file_fetch(f"{base_url}/acme/lib.git") == ProofFile(commit=commit, content=b"tok\n")
        assert remote_head(f"{base_url}/acme/lib.git") == commit


def test_a_large_proof_file_over_http_is_reported_as_too_large(repositories):
    local_repository_commit(repositories / "acme", {".dataset-opt-out": os.urandom(10_000)}, message="big")
    with serve_git_over_http(repositories) as base_url:
        assert proof_file_fetch(f"{base_url}/acme", max_bytes=4096).too_large


def test_a_host_where_nothing_listens_is_unreachable():
    with pytest.raises(GitUnreachable, match="could not be reached .*retried"):
        proof_file_fetch("http://127.0.0.1:1/x/y.git")
    with pytest.raises(GitUnreachable):
        remote_head("http://127.0.0.1:1/x/y.git")


def test_a_host_that_never_answers_is_unreachable_once_the_time_limit_is_spent(silent_listener):
    started = time.monotonic()
    with pytest.raises(GitUnreachable, match="could not be reached within 2 s"):
        proof_file_fetch(f"http://127.0.0.1:{silent_listener}/x/y.git", timeout=2)
    # Not a speed check: it proves that the limit stops git and its helpers instead of waiting on them.
    assert time.monotonic() - started < 15


@pytest.mark.parametrize("read", [proof_file_fetch, tree_blobs_list])
def test_a_server_error_is_worth_retrying(failing_server, read):
    with pytest.raises(GitUnreachable, match="the server answered with an error"):
        read(f"{failing_server}/acme/lib.git")


@pytest.mark.parametrize("read", [proof_file_fetch, tree_blobs_list])
def test_a_repository_that_does_not_exist_is_unreadable_not_unreachable(repositories, read):
    with pytest.raises(GitError, match="could not be read: it does not exist or is private") as raised:
        read("file:///nonexistent")
    assert not isinstance(raised.value, GitUnreachable)
    with serve_git_over_http(repositories) as base_url, pytest.raises(GitError, match="does not exist") as raised:
        read(f"{base_url}/nobody/nothing.git")
    assert not isinstance(raised.value, GitUnreachable)


def test_an_empty_repository_has_no_commits_to_read(repositories):
    git_run("init", "--quiet", "--bare", str(repositories / "empty.git"))
    with pytest.raises(GitError, match="has no commits"):
        proof_file_fetch((repositories / "empty.git").as_uri())
    with pytest.raises(GitError, match="has no commits"):
        remote_head((repositories / "empty.git").as_uri())
    with serve_git_over_http(repositories) as base_url, pytest.raises(GitError, match="has no commits"):
        proof_file_fetch(f"{base_url}/empty.git")


def test_remote_head_is_the_commit_the_repository_head_names(repositories):
    local_repository_commit(repositories / "acme", {"a": "1"}, message="first")
    git_run("switch", "--quiet", "--create", "side", cwd=repositories / "acme")
    local_repository_commit(repositories / "acme", {"a": "2"}, message="side")
    assert remote_head((repositories / "acme").as_uri()) == head_of(repositories / "acme")


def test_messages_never_repeat_credentials_from_the_url():
    with pytest.raises(GitUnreachable) as raised:
        proof_file_fetch("http://someone:s3cret@127.0.0.1:1/x/y.git")
    assert "s3cret" not in str(raised.value)
    assert "someone" not in str(raised.value)


@pytest.mark.parametrize(
    "clone_url",
    ["ext::sh -c touch% /tmp/pwned", "git@github.com:acme/lib.git", "ftp://example.org/x.git", "/srv/git/acme"],
)
def test_urls_outside_the_known_schemes_are_refused_before_git_runs(clone_url, monkeypatch):
    git = mock.create_autospec(governance.git.git_run)
    monkeypatch.setattr(governance.git, "git_run", git)
    with pytest.raises(GitError, match="only https://, http://, ssh://, git:// and file://"):
        proof_file_fetch(clone_url)
    with pytest.raises(GitError, match="only https://"):
        remote_head(clone_url)
    with pytest.raises(GitError, match="only https://"):
        tree_blobs_list(clone_url)
    git.assert_not_called()


@pytest.mark.parametrize("path", ["../secret", "docs/../../x", "/etc/passwd", "", "docs//x", "./x"])
def test_proof_paths_that_leave_the_repository_or_are_not_plain_are_refused_before_git_runs(path, monkeypatch):
    git = mock.create_autospec(governance.git.git_run)
    monkeypatch.setattr(governance.git, "git_run", git)
    with pytest.raises(GitError, match="plain path inside the repository"):
        proof_file_fetch("https://github.com/acme/lib.git", path=path)
    git.assert_not_called()


# Listing every file blob of a commit without fetching any file's content.


@pytest.fixture
def kept_scratch(tmp_path, monkeypatch):
    """The scratch repository a listing fetches into, kept after the call so a test can look inside."""
    kept = tmp_path / "fetched"

    @contextlib.contextmanager
    def kept_directory(**options):
        kept.mkdir()
        yield str(kept)

    monkeypatch.setattr(governance.git, "TemporaryDirectory", kept_directory)
    return kept


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
