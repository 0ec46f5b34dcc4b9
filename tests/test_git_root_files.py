"""governance/git.py root_files_fetch: a few small files read from the head of the default branch in one fetch."""

import os
from unittest import mock

import pytest

import governance.git
from governance.git import GitError, RootFiles, git_run, local_repository_commit, root_files_fetch
from tests.git_http import serve_git_over_http

PATHS = ["ai.txt", ".gitattributes", ".well-known/tdmrep.json", "tdmrep.json"]


def test_the_files_present_are_read_with_the_commit_and_the_absent_ones_left_out(repositories):
    commit = local_repository_commit(
        repositories / "acme",
        {"ai.txt": "User-Agent: *\nDisallow: /\n", ".well-known/tdmrep.json": "[]", "README.md": "hi\n"},
        message="first",
    )
    found = root_files_fetch((repositories / "acme").as_uri(), PATHS, max_bytes=4096)
    assert found == RootFiles(
        commit=commit, contents={"ai.txt": b"User-Agent: *\nDisallow: /\n", ".well-known/tdmrep.json": b"[]"}
    )


def test_only_the_head_of_the_default_branch_counts(repositories):
    repository = repositories / "acme"
    head = local_repository_commit(repository, {"README.md": "hi\n"}, message="first")
    git_run("switch", "--quiet", "--create", "side", cwd=repository)
    local_repository_commit(repository, {"ai.txt": "Disallow: /\n"}, message="on a side branch")
    git_run("switch", "--quiet", "main", cwd=repository)
    assert root_files_fetch(repository.as_uri(), PATHS, max_bytes=4096) == RootFiles(commit=head, contents={})


def test_a_directory_or_symbolic_link_in_place_of_a_file_does_not_count(repositories):
    repository = repositories / "acme"
    local_repository_commit(repository, {"ai.txt/inside": "x\n", "target": "* ai-training=false\n"}, message="a")
    (repository / ".gitattributes").symlink_to("target")
    local_repository_commit(repository, {}, message="link")
    assert root_files_fetch(repository.as_uri(), PATHS, max_bytes=4096).contents == {}


def test_a_file_over_the_limit_is_named_without_being_fetched(repositories, kept_scratch):
    repository = repositories / "acme"
    commit = local_repository_commit(repository, {"ai.txt": os.urandom(100_000), ".gitattributes": "x\n"}, message="a")
    big_sha = git_run("rev-parse", "HEAD:ai.txt", cwd=repository).decode().strip()
    found = root_files_fetch(repository.as_uri(), PATHS, max_bytes=4096)
    assert found == RootFiles(commit=commit, contents={".gitattributes": b"x\n"}, too_large=frozenset({"ai.txt"}))
    with pytest.raises(GitError):
        git_run("cat-file", "-e", big_sha, cwd=kept_scratch)


def test_a_file_of_exactly_the_limit_is_read_and_one_byte_more_is_too_large(repositories):
    local_repository_commit(repositories / "acme", {"ai.txt": b"x" * 4096}, message="first")
    assert root_files_fetch((repositories / "acme").as_uri(), PATHS, max_bytes=4096).contents == {"ai.txt": b"x" * 4096}
    assert root_files_fetch((repositories / "acme").as_uri(), PATHS, max_bytes=4095).too_large == {"ai.txt"}


def test_the_files_are_read_over_http_and_a_large_one_is_too_large(repositories):
    commit = local_repository_commit(
        repositories / "acme" / "lib.git",
        {".gitattributes": "* ai-training=false\n", "ai.txt": os.urandom(10_000)},
        message="a",
    )
    with serve_git_over_http(repositories) as base_url:
        found = root_files_fetch(f"{base_url}/acme/lib.git", PATHS, max_bytes=4096)
    assert found == RootFiles(
        commit=commit, contents={".gitattributes": b"* ai-training=false\n"}, too_large=frozenset({"ai.txt"})
    )


def test_a_repository_that_does_not_exist_is_unreadable(repositories):
    with serve_git_over_http(repositories) as base_url, pytest.raises(GitError, match="does not exist or is private"):
        root_files_fetch(f"{base_url}/nobody/nothing.git", PATHS, max_bytes=4096)


@pytest.mark.parametrize("path", ["../ai.txt", "/ai.txt", "a//b", ""])
def test_paths_that_leave_the_repository_are_refused_before_git_runs(path, monkeypatch):
    git = mock.create_autospec(governance.git.git_run)
    monkeypatch.setattr(governance.git, "git_run", git)
    with pytest.raises(GitError, match="plain path inside the repository"):
        root_files_fetch("https://github.com/acme/lib.git", ["ai.txt", path], max_bytes=4096)
    git.assert_not_called()
