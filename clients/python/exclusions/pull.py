"""`exclusions pull`: bring a signed release into a local directory, checked file by file before use.

Order of trust: the manifest is fetched first and its Ed25519 signature checked against the pinned key
(`--key`) or the keys in DIR/trust.json; on first use, the portal's key named by the manifest is
trusted and recorded. Only then are files fetched, and only files whose size and sha256 match the
signed manifest reach the staging folder, which becomes DIR/releases/<N> by one rename.

Changes only: when DIR holds an older release M, the repository files and blobs.parquet of N are rebuilt
from M's rows and `changes/?since=M` (repository and blob changes) with the portal's own writers, and kept
only if their sha256 is the one N's signed manifest lists (the bytes match when client and portal run the
same pyarrow); files that are byte-identical to one already in DIR are copied; everything else is downloaded.
"""

import base64
import heapq
import os
import shutil
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from exclusions.download import download_file, file_matches
from exclusions.errors import ClientError
from exclusions.manifest import MANIFEST, key_id_of, manifest_parse, manifest_verify, public_key_parse
from exclusions.portal import MANIFEST_MAX_BYTES, Portal
from exclusions.progress import Progress
from exclusions.release_files import (
    BLOBS_PARQUET,
    REPOSITORIES_JSONL,
    REPOSITORIES_PARQUET,
    ExcludedRow,
    blob_changes_apply,
    blob_rows_read,
    blob_rows_writable,
    blobs_write,
    repositories_read,
    repositories_write,
)
from exclusions.store import Store
from exclusions.verify import release_folder_verify

REBUILDABLE = (REPOSITORIES_JSONL, REPOSITORIES_PARQUET, BLOBS_PARQUET)


@dataclass
class PullResult:
    version: int
    key_id: str
    folder: Path
    files: dict[str, str] = field(default_factory=dict)  # name → downloaded | resumed | rebuilt | copied
    already: bool = False


def release_pull(
    *,
    base_url: str,
    dataset: str,
    directory: Path | str,
    release: str = "latest",
    key: str | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
    timeout: float = 60.0,
) -> PullResult:
    """Download and verify release `release` (a number or "latest") of `dataset` into `directory`."""
    log = log or (lambda message: print(message, file=sys.stderr))
    progress = progress or Progress(enabled=False)
    portal = Portal(base_url, dataset, timeout=timeout)
    store = Store(directory)
    with store.locked():
        trust = store.trust()
        if trust.get("dataset") not in (None, dataset):
            raise ClientError(
                f"{store.root}: holds releases of {trust['dataset']!r}; use another --dir for {dataset!r}"
            )
        version = _version(portal, release)
        pinned = None
        if key is not None:
            raw = public_key_parse(key)
            pinned = {key_id_of(raw): raw}
        trusted = pinned or store.trusted_keys()
        have = store.release_folder(version)
        if have.is_dir() and trusted:
            try:
                verified = release_folder_verify(have, trusted, dataset=dataset, version=version)
            except ClientError as problem:
                log(f"release {version} is here but does not verify ({problem}); fetching it again")
            else:
                store.current_set(version)
                if pinned:
                    store.trust_record(
                        portal=portal.base_url,
                        dataset=dataset,
                        key_id=verified.key_id,
                        public_key=pinned[verified.key_id],
                        how="--key",
                    )
                return PullResult(version, verified.key_id, have, already=True)

        manifest_url = portal.release_url(version, MANIFEST)
        content = portal.read(manifest_url, limit=MANIFEST_MAX_BYTES)
        manifest = manifest_parse(content, source=f"{MANIFEST} of release {version}")
        if manifest["dataset"] != dataset or manifest["version"] != version:
            raise ClientError(
                f"{MANIFEST} of release {version}: describes release {manifest['version']} of {manifest['dataset']!r}"
            )
        how_trusted = "--key" if pinned else "trust.json"
        if not trusted:
            trusted, how_trusted = _trust_on_first_use(portal, manifest, log=log, directory=store.root)
        key_id = manifest_verify(manifest, trusted, source=f"{MANIFEST} of release {version}")

        staging = store.staging_folder(version)
        (staging / MANIFEST).write_bytes(content)
        result = PullResult(version, key_id, store.release_folder(version))
        needed = []
        for info in manifest["files"]:
            if file_matches(staging / info["name"], info):
                result.files[info["name"]] = "resumed"  # completed by an earlier, interrupted pull
            else:
                needed.append(info)
        needed = _copy_identical(store, needed, staging, result)
        base = max((number for number in store.versions() if number < version), default=None)
        if base is not None and any(info["name"] in REBUILDABLE for info in needed):
            needed = _rebuild_from_changes(portal, store, base, version, manifest, needed, staging, result, log)
        for info in needed:
            result.files[info["name"]] = download_file(
                portal, portal.release_url(version, info["name"]), info, staging, progress=progress
            )
        # Everything once more, as `verify` will see it, before anything in DIR changes.
        release_folder_verify(staging, trusted, dataset=dataset, version=version)
        store.install(version, staging)
        store.current_set(version)
        if how_trusted != "trust.json":
            store.trust_record(
                portal=portal.base_url, dataset=dataset, key_id=key_id, public_key=trusted[key_id], how=how_trusted
            )
        return result


def _version(portal: Portal, release: str) -> int:
    if release == "latest":
        return portal.release_info("latest")["version"]
    if not release.isdigit() or int(release) < 1:
        raise ClientError(f"--release {release!r}: give a release number (1, 2, …) or 'latest'")
    return int(release)


def _trust_on_first_use(portal: Portal, manifest: dict, *, log, directory: Path) -> tuple[dict[str, bytes], str]:
    keys = portal.public_keys()
    key_id = manifest.get("key_id")
    if not isinstance(key_id, str) or key_id not in keys:
        raise ClientError(
            f"{MANIFEST}: signed by key {key_id!r}, which the portal's /api/v1/keys/ does not list; refused"
        )
    encoded = base64.b64encode(keys[key_id]).decode("ascii")
    log(
        f"trusting the portal's key {key_id} on first use (recorded in {directory / 'trust.json'}); "
        f"to pin it elsewhere: --key {encoded}"
    )
    return {key_id: keys[key_id]}, "first use"


def _copy_identical(store: Store, needed: list[dict], staging: Path, result: PullResult) -> list[dict]:
    """Take files byte-identical to one of a local release (same sha256) from there instead of the network."""
    local = {}
    for number in store.versions():
        folder = store.release_folder(number)
        try:
            manifest = manifest_parse((folder / MANIFEST).read_bytes())
        except ClientError:
            continue
        for info in manifest["files"]:
            local.setdefault(info["sha256"], folder / info["name"])
    remaining = []
    for info in needed:
        source = local.get(info["sha256"])
        if source is not None and file_matches(source, info):
            _copy(source, staging / info["name"])
            result.files[info["name"]] = "copied"
        else:
            remaining.append(info)
    return remaining


def _rebuild_from_changes(portal, store, base, version, manifest, needed, staging, result, log) -> list[dict]:
    rebuild = staging / ".rebuild"
    shutil.rmtree(rebuild, ignore_errors=True)
    rebuild.mkdir()
    wanted = {info["name"] for info in needed}
    try:
        changes, blob_changes = defaultdict(list), defaultdict(list)
        for change in portal.changes(version, base):
            number = change.pop("version", None)
            (blob_changes if change.get("kind") == "blob" else changes)[number].append(change)
        if wanted & {REPOSITORIES_JSONL, REPOSITORIES_PARQUET}:
            rows = repositories_read(store.release_folder(base) / REPOSITORIES_PARQUET)
            for number in range(base + 1, version + 1):
                rows = _changes_apply(rows, changes.get(number, []))
            repositories_write(rows, rebuild)
        if BLOBS_PARQUET in wanted:
            blobs = blob_rows_read(store.release_folder(base) / BLOBS_PARQUET)
            for number in range(base + 1, version + 1):
                blobs = blob_changes_apply(blobs, blob_changes.get(number, []))
            blobs_write(blob_rows_writable(blobs), rebuild)
    except (ClientError, ValueError, KeyError, TypeError, OSError) as problem:
        log(f"could not rebuild release {version} from release {base} and its changes ({problem}); downloading")
        shutil.rmtree(rebuild, ignore_errors=True)
        return needed
    remaining = []
    for info in needed:
        built = rebuild / info["name"]
        # Kept only when byte-identical to the published file; otherwise (another pyarrow) that file is downloaded.
        if info["name"] in REBUILDABLE and file_matches(built, info):
            os.replace(built, staging / info["name"])
            result.files[info["name"]] = "rebuilt"
        else:
            remaining.append(info)
    shutil.rmtree(rebuild, ignore_errors=True)
    return remaining


def _changes_apply(rows: Iterable, changes: list[dict]) -> Iterator:
    """Release N's rows from release N-1's (sorted) rows and N's changes, streamed in the same order."""
    removals, additions = set(), {}
    for change in changes:
        target = (change["repository"], change["scope"])
        if change["op"] == "remove":
            removals.add(target)
        elif change["op"] == "add":
            additions[target] = ExcludedRow(target[0], target[1], tuple(change["reasons"]), change["since"])
        else:
            raise ValueError(f"unknown change op {change['op']!r}")

    def kept():
        for row in rows:
            target = (row.repository, row.scope)
            if target in removals:
                removals.discard(target)
            elif target in additions:
                raise ValueError(f"the changes add {target}, which the older release already holds")
            else:
                yield row
        if removals:
            raise ValueError(f"the changes remove {min(removals)}, which the older release does not hold")

    added = sorted(additions.values(), key=lambda row: (row.repository, row.scope))
    return heapq.merge(kept(), added, key=lambda row: (row.repository, row.scope))


def _copy(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)  # release files never change in place: sharing the inode is safe
    except OSError:
        shutil.copyfile(source, target)
