"""The only module that runs git.

Every call runs with hooks disabled, no prompts, no system or user configuration
and a time limit, so a hostile or unreachable repository cannot hang or run code
in a worker. Every fetch first goes through the outbound fetch policy
(governance/fetch_policy.py), which refuses internal targets and pins the fetch to
the addresses it checked.
"""

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import SplitResult, urlsplit

from governance.fetch_policy import fetch_plan
from governance.git_errors import (  # noqa: F401 - callers catch them as governance.git's
    FetchRefused,
    GitCommandFailed,
    GitError,
    GitTimedOut,
    GitUnreachable,
)

DEFAULT_TIMEOUT = 60
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def _git_environment() -> dict[str, str]:
    # GIT_SSH_COMMAND among them: it would override the core.sshCommand a fetch plan sets (fetch_policy.py).
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    environment.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_ASKPASS="/bin/false",
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
        # A process group of its own, so a timeout also stops the helpers git starts (git-remote-https,
        # ssh, upload-pack) that would otherwise keep the output pipes open.
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_git_environment(),
            process_group=0,
        )
    except FileNotFoundError:
        raise GitError("git is not installed: install the git package") from None
    with process:
        try:
            stdout, stderr = process.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise GitTimedOut(f"git {_subcommand(args)} took longer than {timeout:g} s and was stopped") from None
    if process.returncode != 0:
        said = _URL_CREDENTIALS.sub("", stderr.decode("utf-8", "replace").strip())
        lines = said.splitlines()
        raise GitCommandFailed(
            f"git {_subcommand(args)} failed: {lines[-1] if lines else f'exit {process.returncode}'}", stderr=said
        )
    return stdout


def _subcommand(args: tuple[str, ...]) -> str:
    """`fetch` in `-c key=value fetch …`, for messages."""
    words = iter(args)
    for word in words:
        if word in ("-c", "-C"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return args[0] if args else "(nothing)"


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


PROOF_FILE_PATH = ".dataset-opt-out"
REMOTE_URL_PREFIXES = ("https://", "http://", "ssh://", "git://", "file://")
REGULAR_FILE_MODES = (b"100644", b"100755")

# What git and curl say when the network, not the repository, is the problem, and how we say it.
# Checked first, because some resolvers add "not found" to a failed host name lookup.
_NETWORK_FAILURES = (
    (re.compile(r"could not resolve host", re.I), "its name could not be resolved"),
    (re.compile(r"connection refused", re.I), "the connection was refused"),
    (re.compile(r"connection timed out|operation timed out", re.I), "the connection timed out"),
    (re.compile(r"failed to connect|couldn't connect", re.I), "the connection failed"),
    (re.compile(r"connection reset", re.I), "the connection was reset"),
    (re.compile(r"connection closed", re.I), "the connection was closed"),
    (re.compile(r"returned error: 5\d\d", re.I), "the server answered with an error"),
)
_UNREADABLE_REPOSITORY = re.compile(
    r"not found|does not appear to be a git repository|returned error: 404|authentication failed"
    r"|could not read (username|password)|repository not exported|access denied",
    re.I,
)
# Checked after the two above, because these also accompany a missing or private repository.
_TRANSFER_FAILURES = re.compile(
    r"unable to access|early eof|unexpected disconnect|remote end hung up unexpectedly", re.I
)
_NO_DEFAULT_BRANCH = re.compile(r"couldn't find remote ref HEAD", re.I)


@dataclass(frozen=True)
class ProofFile:
    """One file as found at the head of a repository's default branch."""

    commit: str  # SHA of the default branch's head that was read
    content: bytes | None  # the file's bytes, or None when the file is not in that commit
    too_large: bool = False  # the file exists but is over max_bytes (content is None then)


def proof_file_fetch(
    clone_url: str, *, path: str = PROOF_FILE_PATH, timeout: float = 30, max_bytes: int = 4096
) -> ProofFile:
    """Read one file from the head of a repository's default branch without fetching the rest."""
    found = root_files_fetch(clone_url, [path], max_bytes=max_bytes, timeout=timeout)
    return ProofFile(commit=found.commit, content=found.contents.get(path), too_large=path in found.too_large)


@dataclass(frozen=True)
class RootFiles:
    """Several small files as found at the head of a repository's default branch, read in one fetch."""

    commit: str  # SHA of the default branch's head that was read
    contents: dict[str, bytes]  # path → bytes, for each asked-for path that is a regular file of at most max_bytes
    too_large: frozenset[str] = frozenset()  # paths that are regular files over max_bytes (not downloaded)


def root_files_fetch(clone_url: str, paths: list[str], *, max_bytes: int, timeout: float = 30) -> RootFiles:
    """Read a few named files from the head of a repository's default branch without fetching the rest.

    One shallow fetch of the trees plus the blobs of at most max_bytes (blob:limit=N leaves out blobs of N
    bytes and more, so a file of exactly max_bytes is still wanted), hooks disabled, time-limited, through the
    fetch policy; a path that is missing, a directory, a symbolic link or a submodule is simply absent from
    `contents`, a file over max_bytes is named in `too_large` without being downloaded.
    """
    remote = _remote_url_checked(clone_url)
    for path in paths:
        _proof_path_checked(path)
    if max_bytes < 0:
        raise GitError("the proof file size limit cannot be negative")
    plan = _fetch_plan(clone_url)
    deadline = time.monotonic() + timeout
    blob_filter = f"blob:limit={max_bytes + 1}"
    try:
        with TemporaryDirectory(prefix="governance-proof-") as scratch:
            commit = _filtered_fetch(plan, remote, blob_filter=blob_filter, deadline=deadline, scratch=scratch)
            if not paths:
                return RootFiles(commit=commit, contents={})
            listing = _git_before(deadline, "--literal-pathspecs", "ls-tree", "-z", commit, "--", *paths, cwd=scratch)
            blobs = {path: sha for path in paths if (sha := _regular_file_blob(listing, path)) is not None}
            contents: dict[str, bytes] = {}
            too_large = set()
            for path, blob_sha in blobs.items():
                found = _git_before(deadline, "cat-file", "--batch-check", cwd=scratch, stdin=f"{blob_sha}\n".encode())
                # "<sha> missing" when the filter left the blob out; a server that ignores filters sends it anyway.
                size = found.split()[-1]
                if size == b"missing" or int(size) > max_bytes:
                    too_large.add(path)
                else:
                    contents[path] = _git_before(deadline, "cat-file", "blob", blob_sha, cwd=scratch)
            return RootFiles(commit=commit, contents=contents, too_large=frozenset(too_large))
    except GitTimedOut:
        raise _timeout_failure(remote, timeout) from None


UNKNOWN_SIZE = -1
_COMMIT_SHA = re.compile(r"[0-9a-fA-F]{40}")
_REF_FORBIDDEN_CHARACTERS = frozenset(" ~^:?*[\\")
_NO_SUCH_REF = re.compile(r"couldn't find remote ref|not our ref|unadvertised object", re.I)


@dataclass(frozen=True, slots=True)
class TreeBlob:
    """One regular file of a commit, as its tree names it."""

    # The path as git stores it (bytes), decoded as UTF-8 with surrogateescape: a path that is not
    # UTF-8 keeps its exact bytes (`path.encode("utf-8", "surrogateescape")`) and cannot collide
    # with another; code that writes text out must encode it with an error handler of its own.
    path: str
    blob_id: str  # 40-hex git blob SHA-1 (The Stack v2's blob_id)
    # Bytes, or UNKNOWN_SIZE (-1): a blob's size is only in the blob itself, which is never fetched.
    # A server that ignores filters sends the blobs anyway, and then the real sizes are given.
    size: int
    mode: str  # "100644" or "100755"


@dataclass(frozen=True)
class TreeListing:
    """Every regular file of one commit; symbolic links (120000) and submodules (160000) are left out."""

    commit: str  # SHA of the commit listed
    blobs: list[TreeBlob]  # a complete list in git's path order, not a stream


def tree_blobs_list(clone_url: str, *, ref: str | None = None, timeout: float = 120) -> TreeListing:
    """Every file blob of a commit (default: the remote HEAD) with its size, without downloading any file content.

    Only the commit and its trees are fetched (`--filter=blob:none`), so sizes are UNKNOWN_SIZE unless
    the server ignored the filter. git's output is read whole, not streamed: with paths of some 30
    characters, 100,000 files peak at about 31 MB of Python memory, 22 MB of which is the result.
    """
    remote = _remote_url_checked(clone_url)
    ref = _ref_checked(ref)
    plan = _fetch_plan(clone_url)
    deadline = time.monotonic() + timeout
    try:
        with TemporaryDirectory(prefix="governance-tree-") as scratch:
            commit = _filtered_fetch(plan, remote, blob_filter="blob:none", deadline=deadline, scratch=scratch, ref=ref)
            # The scratch repository has no remote to fall back on, so `-l` cannot fetch a missing blob
            # to learn its size (with one, it would fetch every blob, one at a time): it says "BAD".
            listing = _git_before(deadline, "ls-tree", "-r", "-l", "-z", commit, cwd=scratch)
    except GitTimedOut:
        raise _timeout_failure(remote, timeout) from None
    return TreeListing(commit=commit, blobs=_tree_blobs(listing))


def remote_head(clone_url: str, *, timeout: float = 30) -> str:
    """The commit SHA of the remote's HEAD (`git ls-remote URL HEAD`), classified the same way."""
    remote = _remote_url_checked(clone_url)
    plan = _fetch_plan(clone_url)
    try:
        # An empty working directory, so no repository's configuration around the caller applies.
        with TemporaryDirectory(prefix="governance-remote-") as scratch:
            listing = git_run(
                *_transport_options(plan, timeout), "ls-remote", plan.url, "HEAD", cwd=scratch, timeout=timeout
            )
    except GitTimedOut:
        raise _timeout_failure(remote, timeout) from None
    except GitCommandFailed as failure:
        raise _remote_failure(failure, remote) from None
    for line in listing.decode("utf-8", "replace").splitlines():
        sha, _, name = line.partition("\t")
        if name == "HEAD":
            return sha
    raise GitError(f"the repository {_shown(remote)} has no commits")


def _remote_url_checked(clone_url: str) -> SplitResult:
    if any(character < " " or character == "\x7f" for character in clone_url):
        raise GitError("the repository URL contains control characters")
    if not clone_url.startswith(REMOTE_URL_PREFIXES):
        raise GitError("only https://, http://, ssh://, git:// and file:// repository URLs can be read")
    try:
        remote = urlsplit(clone_url)
    except ValueError:
        raise GitError("the repository URL is not a valid URL") from None
    if remote.scheme != "file" and not remote.hostname:
        raise GitError("the repository URL names no host")
    if remote.scheme == "file" and not remote.path.strip("/"):
        raise GitError("the repository URL names no path")
    return remote


def _fetch_plan(clone_url: str):
    """The policy's verdict on `clone_url` and the pinned way to fetch it; FetchRefused when it may not be fetched."""
    return fetch_plan(clone_url)


def _proof_path_checked(path: str) -> None:
    parts = path.split("/")
    if (
        not path
        or path.startswith("/")
        or any(part in ("", ".", "..") for part in parts)
        or any(character < " " or character == "\x7f" for character in path)
    ):
        raise GitError(f"the proof file must be a plain path inside the repository, such as {PROOF_FILE_PATH}")


def is_commit_sha(ref: str) -> bool:
    """True for a full 40-character commit SHA (which names one commit, unlike a branch or tag)."""
    return bool(_COMMIT_SHA.fullmatch(ref))


def _ref_checked(ref: str | None) -> str | None:
    """A branch or tag name as `git check-ref-format` allows, or a commit SHA; nothing git could take as an option."""
    if ref is None:
        return None
    if _COMMIT_SHA.fullmatch(ref):
        return ref.lower()
    if (
        not ref
        or ref.startswith(("-", "+"))
        or ref.endswith((".", "/"))
        or ref == "@"
        or ".." in ref
        or "@{" in ref
        or any(character < " " or character == "\x7f" or character in _REF_FORBIDDEN_CHARACTERS for character in ref)
        or any(not part or part.startswith(".") or part.endswith(".lock") for part in ref.split("/"))
    ):
        raise GitError(f"{ref!r} is not a branch or tag name or a 40-character commit SHA")
    return ref


def _filtered_fetch(
    plan,
    remote: SplitResult,
    *,
    blob_filter: str,
    deadline: float,
    scratch: str,
    ref: str | None = None,
) -> str:
    """Fetch one commit of the planned URL and its trees into a new bare repository at `scratch`; return its SHA."""
    _git_before(deadline, "init", "--quiet", "--bare", ".", cwd=scratch)
    try:
        # The remote exists only in this command's configuration, already registered as a promisor
        # with its filter: git then writes neither it nor its URL into the scratch repository, so
        # the local reads that follow can never fall back to fetching the blobs the filter left out.
        _git_before(
            deadline,
            *_transport_options(plan, deadline - time.monotonic()),
            "-c",
            f"remote.origin.url={plan.url}",
            "-c",
            "remote.origin.promisor=true",
            "-c",
            f"remote.origin.partialclonefilter={blob_filter}",
            "-c",
            "maintenance.auto=false",
            "fetch",
            "--quiet",
            "--depth=1",
            "--no-tags",
            "--no-recurse-submodules",
            f"--filter={blob_filter}",
            *_upload_pack_options(plan.scheme),
            "origin",
            ref or "HEAD",
            cwd=scratch,
        )
    except GitCommandFailed as failure:
        if ref is not None and _NO_SUCH_REF.search(failure.stderr):
            raise GitError(f"the repository {_shown(remote)} has no branch, tag or commit {ref}") from None
        raise _remote_failure(failure, remote) from None
    return _git_before(deadline, "rev-parse", "--verify", "FETCH_HEAD^{commit}", cwd=scratch).decode().strip()


def _transport_options(plan, timeout: float) -> list[str]:
    # The plan allows this URL's protocol alone (file:// included, which git ≥ 2.38 otherwise refuses in some
    # contexts) and pins the checked addresses.
    options = list(plan.options)
    if plan.scheme in ("http", "https"):
        # curl gives up by itself on a transfer that stalls, instead of waiting to be killed.
        options += ["-c", "http.lowSpeedLimit=1000", "-c", f"http.lowSpeedTime={max(1, round(timeout))}"]
    return options


def _upload_pack_options(scheme: str) -> list[str]:
    if scheme == "file":
        # git runs a local upload-pack without our `-c` settings (GIT_CONFIG_PARAMETERS is cleared for it),
        # so its filter support has to be switched on in its own command line.
        return ["--upload-pack=git -c uploadpack.allowFilter=true upload-pack"]
    return []


def _git_before(deadline: float, *args: str, cwd: str | Path, stdin: bytes | None = None) -> bytes:
    """git_run with whatever is left of a time budget shared by several commands."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise GitTimedOut(f"git {_subcommand(args)} had no time left to run")
    return git_run(*args, cwd=cwd, timeout=remaining, stdin=stdin)


def _regular_file_blob(listing: bytes, path: str) -> str | None:
    """The blob SHA of `path` in `git ls-tree -z` output; None when it is absent or not a regular file."""
    for entry in listing.split(b"\0"):
        description, _, name = entry.partition(b"\t")
        if name.decode("utf-8", "surrogateescape") != path:
            continue
        mode, kind, sha = description.split()
        if kind == b"blob" and mode in REGULAR_FILE_MODES:
            return sha.decode()
    return None


def _tree_records(listing: bytes) -> Iterator[tuple[bytes, bytes, bytes, int, str]]:
    """(mode, type, sha, size, path) of each `git ls-tree -r -l -z` record: "<mode> <type> <sha> <size>\\t<path>"."""
    start = 0
    # Record by record instead of split(), so the whole output is not held a second time as a list.
    while (end := listing.find(b"\0", start)) != -1:
        description, _, name = listing[start:end].partition(b"\t")
        start = end + 1
        mode, kind, sha, size = description.split()
        yield mode, kind, sha, int(size) if size.isdigit() else UNKNOWN_SIZE, name.decode("utf-8", "surrogateescape")


def _tree_blobs(listing: bytes) -> list[TreeBlob]:
    """The regular files in `git ls-tree -r -l -z` output."""
    modes = {mode: mode.decode() for mode in REGULAR_FILE_MODES}
    return [
        TreeBlob(path=path, blob_id=sha.decode("ascii"), size=size, mode=modes[mode])
        for mode, kind, sha, size, path in _tree_records(listing)
        if kind == b"blob" and mode in modes
    ]


def _remote_failure(failure: GitCommandFailed, remote: SplitResult) -> GitError:
    said = failure.stderr
    shown = _shown(remote)
    if _NO_DEFAULT_BRANCH.search(said):
        return GitError(f"the repository {shown} has no commits")
    for pattern, reason in _NETWORK_FAILURES:
        if pattern.search(said):
            return GitUnreachable(f"the host of {shown} could not be reached ({reason}); it will be retried later")
    if _UNREADABLE_REPOSITORY.search(said):
        return GitError(f"the repository {shown} could not be read: it does not exist or is private")
    if _TRANSFER_FAILURES.search(said):
        return GitUnreachable(f"the host of {shown} could not be reached; it will be retried later")
    # The first line names the cause; later ones are git's generic advice ("Please make sure you have …").
    first_line = said.splitlines()[0].removeprefix("fatal: ") if said else "no message"
    return GitError(f"git could not read {shown}: {first_line}")


def _timeout_failure(remote: SplitResult, timeout: float) -> GitUnreachable:
    return GitUnreachable(
        f"the host of {_shown(remote)} could not be reached within {timeout:g} s; it will be retried later"
    )


def _shown(remote: SplitResult) -> str:
    """The URL without credentials, query or fragment, for messages."""
    return f"{remote.scheme}://{remote.netloc.rpartition('@')[2]}{remote.path}"


# ---- Reading whole snapshots, for license scans ------------------------------------------------

SYMLINK_MODE = "120000"
SUBMODULE_MODE = "160000"


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One entry of `git ls-tree -r -l`: a file, a symbolic link or a submodule."""

    path: str  # decoded as UTF-8 with surrogateescape, as in TreeBlob
    object_id: str  # blob SHA-1 (or the submodule's commit)
    size: int  # bytes; UNKNOWN_SIZE when the blob was left out of the fetch (over the size cap) or a submodule
    mode: str  # "100644", "100755", "120000" (symbolic link) or "160000" (submodule)


def snapshot_fetch(
    clone_url: str, *, into: str | Path, ref: str | None = None, max_blob_bytes: int, timeout: float = 300
) -> str:
    """Fetch one commit of a repository (default: its HEAD) into a new bare repository at `into`; return its SHA.

    Shallow (depth 1), no tags, no submodules, hooks disabled, and blobs of more than `max_blob_bytes`
    left out by a partial-clone filter, so a huge repository costs what its small files cost.
    """
    remote = _remote_url_checked(clone_url)
    ref = _ref_checked(ref)
    if max_blob_bytes < 0:
        raise GitError("the blob size limit cannot be negative")
    plan = _fetch_plan(clone_url)
    Path(into).mkdir(parents=True, exist_ok=True)
    try:
        return _filtered_fetch(
            plan,
            remote,
            blob_filter=f"blob:limit={max_blob_bytes + 1}",
            deadline=time.monotonic() + timeout,
            scratch=str(into),
            ref=ref,
        )
    except GitTimedOut:
        raise _timeout_failure(remote, timeout) from None


def snapshot_tree(repository: str | Path, commit: str, *, timeout: float = 120) -> list[TreeEntry]:
    """Every entry under `commit` in a repository made by snapshot_fetch, in git's path order."""
    listing = git_run("ls-tree", "-r", "-l", "-z", commit, cwd=repository, timeout=timeout)
    return [
        TreeEntry(path=path, object_id=sha.decode("ascii"), size=size, mode=mode.decode("ascii"))
        for mode, _kind, sha, size, path in _tree_records(listing)
    ]


def snapshot_blobs(repository: str | Path, blob_ids: list[str], *, timeout: float = 300):
    """Yield (blob_id, content) for each blob, in order, from one `git cat-file --batch`; None when it is missing."""
    if not blob_ids:
        return
    command = ["git", "-c", "core.hooksPath=/dev/null", "cat-file", "--batch"]
    deadline = time.monotonic() + timeout
    process = subprocess.Popen(
        command,
        cwd=repository,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=_git_environment(),
        process_group=0,
    )
    # git answers as it reads the requests: written from here, a list longer than the pipe's buffer (~1,600 ids)
    # would block on git, itself blocked on an answer nobody reads yet. A thread writes them while we read.
    requests = "".join(f"{blob_id}\n" for blob_id in blob_ids).encode()

    def write_requests():
        with contextlib.suppress(BrokenPipeError, ValueError):  # git stopped early (killed below, or failed)
            process.stdin.write(requests)
            process.stdin.close()

    writer = threading.Thread(target=write_requests, daemon=True)
    writer.start()
    try:
        for blob_id in blob_ids:
            if time.monotonic() > deadline:
                raise GitTimedOut(f"git cat-file took longer than {timeout:g} s and was stopped")
            header = process.stdout.readline()
            if not header:
                raise GitError("git cat-file stopped before answering every blob")
            fields = header.split()
            if fields[-1] == b"missing":
                yield blob_id, None
                continue
            size = int(fields[2])
            content = process.stdout.read(size)
            process.stdout.read(1)  # the newline after each object
            yield blob_id, content
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.stdout.close()
        process.wait()
        writer.join()


def snapshot_grep(
    repository: str | Path, commit: str, patterns: list[str], *, leave_out: list[str] = (), timeout: float = 120
) -> set[str]:
    """Paths of the text files under `commit` whose content matches any of the (extended, case-blind) patterns.

    `leave_out` names the files whose blobs the fetch left out (over the size cap): git grep would fail on them.
    """
    arguments = ["grep", "-l", "-I", "-i", "-E", "-z", "--no-color"]
    for pattern in patterns:
        arguments += ["-e", pattern]
    pathspecs = [f":(exclude,literal){path}" for path in leave_out]
    try:
        found = git_run(*arguments, commit, "--", *pathspecs, cwd=repository, timeout=timeout)
    except GitCommandFailed as failure:
        if not failure.stderr:  # exit 1 without a message: nothing matched
            return set()
        raise
    prefix = f"{commit}:".encode()
    return {name.removeprefix(prefix).decode("utf-8", "surrogateescape") for name in found.split(b"\0") if name}
