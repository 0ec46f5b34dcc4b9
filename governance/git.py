"""The only module that runs git.

Every call runs with hooks disabled, no prompts, no system or user configuration
and a time limit, so a hostile or unreachable repository cannot hang or run code
in a worker.
"""

import os
import subprocess
from pathlib import Path

from governance.exceptions import GovernanceError

DEFAULT_TIMEOUT = 60


class GitError(GovernanceError):
    code = "git_failed"


def _git_environment() -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    environment.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_ASKPASS="/bin/false",
        GIT_SSH_COMMAND="ssh -oBatchMode=yes -oStrictHostKeyChecking=accept-new",
        GIT_AUTHOR_NAME="Dataset governance",
        GIT_AUTHOR_EMAIL="governance@localhost",
        GIT_COMMITTER_NAME="Dataset governance",
        GIT_COMMITTER_EMAIL="governance@localhost",
        LC_ALL="C",
    )
    return environment


def git_run(
    *args: str, cwd: str | Path | None = None, timeout: float = DEFAULT_TIMEOUT, stdin: bytes | None = None
) -> bytes:
    """Run `git ARGS` and return its standard output; GitError says what failed."""
    command = ["git", "-c", "core.hooksPath=/dev/null", "-c", "protocol.ext.allow=never", *args]
    try:
        completed = subprocess.run(
            command, cwd=cwd, input=stdin, capture_output=True, timeout=timeout, env=_git_environment(), check=False
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than {timeout:g} s and was stopped") from None
    except FileNotFoundError:
        raise GitError("git is not installed: install the git package") from None
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else f'exit {completed.returncode}'}")
    return completed.stdout


def local_repository_commit(
    path: str | Path, files: dict[str, str | bytes], *, message: str, branch: str = "main"
) -> str:
    """Write `files` into the git repository at `path` (created if missing), commit them, return the commit SHA."""
    path = Path(path)
    if not (path / ".git").is_dir():
        path.mkdir(parents=True, exist_ok=True)
        git_run("init", "--quiet", f"--initial-branch={branch}", cwd=path)
    for name, content in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        target.write_bytes(content)
    git_run("add", "--all", cwd=path)
    git_run("commit", "--quiet", "--allow-empty", "-m", message, cwd=path)
    return git_run("rev-parse", "HEAD", cwd=path).decode().strip()
