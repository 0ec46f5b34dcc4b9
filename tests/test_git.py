"""governance/git.py: the only module that runs git; running commands and reading the opt-out proof file."""

import os
import time
from unittest import mock

import pytest

import governance.git
from governance.git import (
    GitError,
    GitUnreachable,
    ProofFile,
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


def test_a_proof_file_over_the_size_limit_is_reported_without_being_fetched(repositories, kept_scratch):
    repository = repositories / "acme"
    big = os.urandom(100_000)
    commit = local_repository_commit(repository, {".dataset-opt-out": big, "README.md": "hi\n"}, message="big")
    big_sha = git_run("rev-parse", "HEAD:.dataset-opt-out", cwd=repository).decode().strip()
    small_sha = git_run("rev-parse", "HEAD:README.md", cwd=repository).decode().strip()
    assert proof_file_fetch(repository.as_uri(), max_bytes=4096) == ProofFile(
        commit=commit, content=None, too_large=True
    )
    git_run("cat-file", "-e", small_sha, cwd=kept_scratch)
    with pytest.raises(GitError):
        git_run("cat-file", "-e", big_sha, cwd=kept_scratch)


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


def test_snapshot_blobs_reads_a_list_longer_than_the_pipe_buffer(tmp_path):
    # 3,000 requests (~123 KB) and their answers overflow both pipes unless the requests are written apart.
    from governance.git import local_repository_commit, snapshot_blobs, snapshot_fetch, snapshot_tree

    local_repository_commit(tmp_path / "many", {f"f{n}.txt": f"file {n}\n" * 20 for n in range(3000)}, message="m")
    commit = snapshot_fetch((tmp_path / "many").as_uri(), into=tmp_path / "snapshot", max_blob_bytes=10_000)
    ids = [entry.object_id for entry in snapshot_tree(tmp_path / "snapshot", commit)]
    contents = dict(snapshot_blobs(tmp_path / "snapshot", ids, timeout=60))
    assert len(contents) == 3000
    assert all(content.startswith(b"file ") for content in contents.values())
