"""Debian source packages fetched for the benches, without touching the system's apt setup.

Everything lives under a work folder: an apt source list of its own (`sources.list.d/src.sources`: deb-src of
bookworm main, the mirror and keyring copied from /etc/apt/sources.list.d/debian.sources), its own package lists and
cache, and per package the downloaded files, the unpacked upstream tree (without `debian/`, which DEP-5 does not
speak for) committed into a git repository of its own, and the package's `debian/copyright`. A package already there
is reused, so a second run costs no download.

    .venv/bin/python bench/debian_sources.py [--work var/bench/debian] jq zlib …   (prints what it fetched, as JSON)
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

# Its sibling module, also when imported as bench.debian_sources (the tests do).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dep5 import Copyright, copyright_parse  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORK = ROOT / "var" / "bench" / "debian"
SYSTEM_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
SUITE = "bookworm"
# The lists are refreshed when older than this; a suite's source versions change rarely.
LISTS_MAX_AGE = 7 * 24 * 3600


class SourceError(Exception):
    """A package that could not be fetched or unpacked; the message says which step failed."""


@dataclass
class DebianSource:
    """One unpacked source package: its upstream tree (a git repository) and what its debian/copyright says."""

    name: str
    version: str
    tree: Path
    commit: str
    copyright_text: str
    copyright: Copyright
    files: int
    bytes: int
    downloaded: bool  # False when every file was found in the work folder already


def apt_options(work: Path) -> list[str]:
    """apt-get options that read our source list, lists and cache only, never the system's."""
    return [
        "-o", "Dir::Etc::SourceList=/dev/null",
        "-o", f"Dir::Etc::SourceParts={work / 'sources.list.d'}",
        "-o", f"Dir::State::Lists={work / 'lists'}",
        "-o", f"Dir::Cache={work / 'cache'}",
        "-o", "Dir::Etc::Preferences=/dev/null",
        "-o", "Dir::Etc::PreferencesParts=/dev/null",
        # Downloads land in folders apt's sandbox user cannot write to.
        "-o", "APT::Sandbox::User=root",
        "-o", "Acquire::Retries=3",
        "-q",
    ]  # fmt: skip


def source_list_write(work: Path, *, system_sources: Path = SYSTEM_SOURCES) -> Path:
    """Write `work/sources.list.d/src.sources`: deb-src of bookworm main from the system's mirror and keyring."""
    uris = signed_by = ""
    for line in system_sources.read_text().splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "URIs" and not uris and "security" not in value:
            uris = value.strip()
        elif name.strip() == "Signed-By" and not signed_by:
            signed_by = value.strip()
    if not uris:
        raise SourceError(f"{system_sources} names no Debian mirror (URIs:)")
    folder = work / "sources.list.d"
    folder.mkdir(parents=True, exist_ok=True)
    entry = ["Types: deb-src", f"URIs: {uris}", f"Suites: {SUITE}", "Components: main"]
    if signed_by:
        entry.append(f"Signed-By: {signed_by}")
    path = folder / "src.sources"
    path.write_text("\n".join(entry) + "\n")
    return path


def source_lists_update(work: Path, *, force: bool = False) -> float:
    """`apt-get update` on our own source list, unless its lists are recent; returns the seconds it took."""
    source_list_write(work)
    for folder in ("lists/partial", "cache/archives/partial"):
        (work / folder).mkdir(parents=True, exist_ok=True)
    stamp = work / "lists" / ".updated"
    if not force and stamp.exists() and time.time() - stamp.stat().st_mtime < LISTS_MAX_AGE:
        return 0.0
    started = time.perf_counter()
    process = subprocess.run(["apt-get", *apt_options(work), "update"], capture_output=True, text=True)
    if process.returncode != 0:
        raise SourceError(f"apt-get update failed: {process.stderr.strip()[-1000:]}")
    stamp.touch()
    return time.perf_counter() - started


def source_fetch(name: str, *, work: Path) -> DebianSource:
    """Download (or find in `work`), unpack and commit one source package; raise SourceError when a step fails."""
    work = work.resolve()  # apt-get runs in the package's folder
    folder = work / "packages" / name
    tree = folder / "tree"
    record = folder / "source.json"
    if record.exists() and (tree / ".git").is_dir():
        known = json.loads(record.read_text())
        return _debian_source(name, known["version"], tree, known["commit"], folder, downloaded=False)
    shutil.rmtree(folder, ignore_errors=True)
    downloads = folder / "download"
    downloads.mkdir(parents=True)
    process = subprocess.run(
        ["apt-get", *apt_options(work), "source", "--download-only", name],
        cwd=downloads,
        capture_output=True,
        text=True,
    )
    dscs = sorted(downloads.glob("*.dsc"))
    if process.returncode != 0 or not dscs:
        said = (process.stderr or process.stdout).strip().splitlines()
        raise SourceError(f"apt-get source {name} failed: {said[-1] if said else f'exit {process.returncode}'}")
    dsc = dscs[0]
    version = _dsc_field(dsc, "Version")
    unpacked = folder / "unpacked"
    _unpack(dsc, unpacked)
    debian = unpacked / "debian"
    if not (debian / "copyright").is_file():
        raise SourceError(f"{name} {version} has no debian/copyright")
    # debian/ is the packaging, which DEP-5 describes as `Files: debian/*` but which is no part of upstream.
    shutil.copy(debian / "copyright", folder / "copyright")
    shutil.rmtree(debian)
    unpacked.rename(tree)
    commit = tree_commit(tree, message=f"{name} {version} (Debian {SUITE} source, debian/ left out)")
    record.write_text(json.dumps({"name": name, "version": version, "commit": commit, "dsc": dsc.name}, indent=2))
    return _debian_source(name, version, tree, commit, folder, downloaded=True)


def _debian_source(name: str, version: str, tree: Path, commit: str, folder: Path, *, downloaded: bool) -> DebianSource:
    text = (folder / "copyright").read_text(encoding="utf-8", errors="replace")
    files = total = 0
    for path in tree.rglob("*"):
        if ".git" in path.relative_to(tree).parts[:1] or not path.is_file() or path.is_symlink():
            continue
        files += 1
        total += path.stat().st_size
    return DebianSource(
        name=name,
        version=version,
        tree=tree,
        commit=commit,
        copyright_text=text,
        copyright=copyright_parse(text),
        files=files,
        bytes=total,
        downloaded=downloaded,
    )


def _dsc_field(dsc: Path, field: str) -> str:
    for line in dsc.read_text(errors="replace").splitlines():
        if line.startswith(f"{field}:"):
            return line.split(":", 1)[1].strip()
    return ""


def _unpack(dsc: Path, into: Path) -> None:
    """dpkg-source -x of the pristine upstream (patches not applied: DEP-5 describes upstream's files) and debian/."""
    if shutil.which("dpkg-source"):
        process = subprocess.run(
            ["dpkg-source", "--no-check", "--skip-patches", "-x", dsc.name, str(into)],
            cwd=dsc.parent,
            capture_output=True,
            text=True,
        )
        if process.returncode != 0:
            raise SourceError(f"dpkg-source -x {dsc.name} failed: {process.stderr.strip()[-500:]}")
        return
    _unpack_with_tar(dsc, into)


def _unpack_with_tar(dsc: Path, into: Path) -> None:
    """Without dpkg-dev: the orig tarball (and its components) stripped of the top folder, then the debian tarball."""
    tarballs = sorted(path for path in dsc.parent.iterdir() if ".tar." in path.name and not path.name.endswith(".asc"))
    orig = [path for path in tarballs if ".orig." in path.name and ".orig-" not in path.name]
    components = [path for path in tarballs if ".orig-" in path.name]
    packaging = [path for path in tarballs if ".debian." in path.name]
    if not orig and not packaging:  # a native package: one tarball that holds debian/ too
        orig, packaging = tarballs[:1], []
    into.mkdir(parents=True)
    for tarball in orig:
        _extract(tarball, into, strip_top=True)
    for tarball in components:
        component = tarball.name.split(".orig-", 1)[1].split(".tar.", 1)[0]
        _extract(tarball, into / component, strip_top=True)
    for tarball in packaging:
        _extract(tarball, into, strip_top=False)


def _extract(tarball: Path, into: Path, *, strip_top: bool) -> None:
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as archive:
        members = archive.getmembers()
        tops = {member.name.split("/", 1)[0] for member in members}
        if strip_top and len(tops) == 1:
            top = tops.pop()
            for member in members:
                member.name = member.name[len(top) + 1 :] if member.name != top else "."
        archive.extractall(into, members=[member for member in members if member.name not in ("", ".")], filter="data")


def tree_commit(tree: Path, *, message: str) -> str:
    """Commit every file of `tree` (the ones upstream's .gitignore names too: they are in the tarball) into a fresh
    git repository there; return the commit SHA."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    environment |= {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.org"}
    environment |= {"GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}
    environment |= {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}

    def git(*args: str) -> str:
        process = subprocess.run(["git", *args], cwd=tree, env=environment, capture_output=True, text=True)
        if process.returncode != 0:
            raise SourceError(f"git {args[0]} in {tree} failed: {process.stderr.strip()[-500:]}")
        return process.stdout

    # A tarball may carry a .git folder or file of upstream's own, which would make a nested repository.
    for nested in list(tree.rglob(".git")):
        shutil.rmtree(nested) if nested.is_dir() else nested.unlink()
    git("init", "-q", "--initial-branch=main")
    git("add", "--all", "--force")
    git("commit", "-q", "--no-verify", "-m", message)
    return git("rev-parse", "HEAD").strip()


def tree_paths(tree: Path) -> list[str]:
    """The committed paths of a tree, as git lists them (relative, `/`-separated)."""
    process = subprocess.run(["git", "ls-files", "-z"], cwd=tree, capture_output=True, check=True)
    return [path for path in process.stdout.decode("utf-8", "surrogateescape").split("\0") if path]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="+")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    arguments = parser.parse_args()
    update_seconds = source_lists_update(arguments.work)
    fetched = {}
    for name in arguments.packages:
        started = time.perf_counter()
        try:
            source = source_fetch(name, work=arguments.work)
        except SourceError as error:
            fetched[name] = {"error": str(error)}
        else:
            fetched[name] = {
                "version": source.version,
                "files": source.files,
                "megabytes": round(source.bytes / 1e6, 1),
                "dep5": source.copyright.is_dep5,
                "files_stanzas": len(source.copyright.files_stanzas),
                "downloaded": source.downloaded,
            }
        fetched[name]["seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps({name: fetched[name]}), file=sys.stderr, flush=True)
    print(json.dumps({"lists_update_seconds": round(update_seconds, 1), "packages": fetched}, indent=2))


if __name__ == "__main__":
    main()
