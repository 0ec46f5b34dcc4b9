"""The pipeline's exclusions directory: trusted keys, verified releases, and downloads in progress.

    DIR/trust.json          the portal, the dataset and the keys trusted to sign its releases
    DIR/current             the release number `filter` and `verify` use by default
    DIR/releases/<N>/       release N exactly as published: manifest.json and every file it lists
    DIR/.staging/<N>/       a pull in progress: `<name>.part` files resume, nothing here is in use
    DIR/.lock               held while a pull writes, so two pulls never mix their files

A release folder appears only by renaming a staging folder whose every file was checked against the
signed manifest, and `current` is replaced atomically after that: readers see the old release or the
new one, never a mix.
"""

import base64
import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from exclusions.errors import ClientError
from exclusions.manifest import MANIFEST

TRUST = "trust.json"
CURRENT = "current"
RELEASES = "releases"
STAGING = ".staging"


class Store:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    def trust(self) -> dict:
        """trust.json as a dict ({} when nothing is trusted yet)."""
        path = self.root / TRUST
        try:
            trust = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError as error:
            raise ClientError(f"{path}: not JSON ({error}); restore it or start a new directory") from None
        if not isinstance(trust, dict) or not isinstance(trust.get("keys"), dict):
            raise ClientError(f"{path}: has no `keys`; restore it or start a new directory")
        return trust

    def trusted_keys(self) -> dict[str, bytes]:
        """key_id → raw public key of every key trust.json names."""
        return {key_id: base64.b64decode(entry["public_key"]) for key_id, entry in self.trust().get("keys", {}).items()}

    def trust_record(self, *, portal: str, dataset: str, key_id: str, public_key: bytes, how: str) -> None:
        """Add a key to trust.json (kept when already there), with the portal and dataset it came from."""
        trust = self.trust() or {"format": 1, "portal": portal, "dataset": dataset, "keys": {}}
        if key_id not in trust["keys"]:
            trust["keys"][key_id] = {
                "public_key": base64.b64encode(public_key).decode("ascii"),
                "trusted": how,
                "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            write_atomic(self.root / TRUST, (json.dumps(trust, indent=2, sort_keys=True) + "\n").encode())

    def current(self) -> int | None:
        try:
            text = (self.root / CURRENT).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        if not text.isdigit():
            raise ClientError(f"{self.root / CURRENT}: holds {text[:40]!r}, not a release number")
        return int(text)

    def current_set(self, version: int) -> None:
        write_atomic(self.root / CURRENT, f"{version}\n".encode("ascii"))

    def release_folder(self, version: int) -> Path:
        return self.root / RELEASES / str(version)

    def versions(self) -> list[int]:
        """Release numbers with a folder here, ascending (verified when they were installed)."""
        folder = self.root / RELEASES
        if not folder.is_dir():
            return []
        return sorted(
            int(path.name) for path in folder.iterdir() if path.name.isdigit() and (path / MANIFEST).is_file()
        )

    def staging_folder(self, version: int) -> Path:
        folder = self.root / STAGING / str(version)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def install(self, version: int, staging: Path) -> Path:
        """Move a fully checked staging folder into place as releases/<version>."""
        target = self.release_folder(version)
        target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in staging.glob("*.part"):
            leftover.unlink()
        if target.exists():
            # A damaged copy of this very release (verify failed): replaced only now, by one that verified.
            aside = target.with_name(f".replaced-{version}-{os.getpid()}")
            target.rename(aside)
            staging.rename(target)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            staging.rename(target)
        _fsync_directory(target.parent)
        with contextlib.suppress(OSError):
            (self.root / STAGING).rmdir()  # only when no other pull left parts to resume
        return target

    @contextmanager
    def locked(self):
        """Hold DIR/.lock; a second pull into the same directory is refused instead of mixing files."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+b") as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ClientError(f"{self.root}: another pull is writing into this directory") from None
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def write_atomic(path: Path, content: bytes) -> None:
    """Replace a file by a temp file + fsync + rename: readers see the old content or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False) as temp:
        temp.write(content)
        temp.flush()
        os.fsync(temp.fileno())
    try:
        os.replace(temp.name, path)
    except BaseException:
        os.unlink(temp.name)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
