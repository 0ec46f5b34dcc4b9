"""governance/git.py: the only module that runs git."""

import pytest

from governance.git import GitError, git_run, local_repository_commit


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
