"""Checking a release folder on disk: the manifest's signature, then every file's size and sha256."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from exclusions.download import file_sha256
from exclusions.errors import ClientError
from exclusions.manifest import MANIFEST, key_id_of, manifest_parse, manifest_verify, public_key_parse
from exclusions.store import Store


@dataclass(frozen=True)
class VerifiedRelease:
    folder: Path
    manifest: dict
    key_id: str
    manifest_sha256: str  # of manifest.json as published: names this exact release in reports

    @property
    def dataset(self) -> str:
        return self.manifest["dataset"]

    @property
    def version(self) -> int:
        return self.manifest["version"]

    def describe(self) -> dict:
        """What reports name: the dataset, the release and the exact manifest that was applied."""
        return {
            "dataset": self.dataset,
            "version": self.version,
            "manifest_sha256": self.manifest_sha256,
            "key_id": self.key_id,
        }


def release_folder_verify(
    folder: Path, trusted_keys: dict[str, bytes], *, dataset: str | None = None, version: int | None = None
) -> VerifiedRelease:
    """Verify one release folder; raise ClientError naming the first file that does not match, and why."""
    folder = Path(folder)
    try:
        content = (folder / MANIFEST).read_bytes()
    except FileNotFoundError:
        raise ClientError(f"{folder / MANIFEST}: missing; this is not a release folder") from None
    source = str(folder / MANIFEST)
    manifest = manifest_parse(content, source=source)
    key_id = manifest_verify(manifest, trusted_keys, source=source)
    if dataset is not None and manifest["dataset"] != dataset:
        raise ClientError(f"{source}: a release of {manifest['dataset']!r}, not of {dataset!r}")
    if version is not None and manifest["version"] != version:
        raise ClientError(f"{source}: release {manifest['version']}, expected release {version}")
    listed = {info["name"] for info in manifest["files"]}
    for info in manifest["files"]:
        path = folder / info["name"]
        if not path.is_file():
            raise ClientError(f"{path}: missing (the signed manifest lists it)")
        size = path.stat().st_size
        if size != info["bytes"]:
            raise ClientError(f"{path}: {size:,} bytes, the signed manifest says {info['bytes']:,}")
        digest = file_sha256(path)
        if digest != info["sha256"]:
            raise ClientError(f"{path}: sha256 {digest} does not match the signed manifest's {info['sha256']}")
    extra = sorted(path.name for path in folder.iterdir() if path.name != MANIFEST and path.name not in listed)
    if extra:
        raise ClientError(f"{folder / extra[0]}: not part of the release (the signed manifest does not list it)")
    return VerifiedRelease(folder, manifest, key_id, hashlib.sha256(content).hexdigest())


def directory_verify(directory: Path | str, *, version: int | None = None, key: str | None = None) -> VerifiedRelease:
    """Verify the current (or a given) release of an exclusions directory against its trusted keys (or `key`)."""
    store = Store(directory)
    if not store.root.is_dir():
        raise ClientError(f"{store.root}: no such directory; run `exclusions pull` first")
    if version is None:
        version = store.current()
        if version is None:
            raise ClientError(
                f"{store.root}: holds no release yet; run `exclusions pull BASE_URL DATASET --dir {store.root}`"
            )
    if key is not None:
        raw = public_key_parse(key)
        trusted = {key_id_of(raw): raw}
    else:
        trusted = store.trusted_keys()
        if not trusted:
            raise ClientError(f"{store.root / 'trust.json'}: missing, so no key is trusted; pass --key")
    trust = store.trust()
    return release_folder_verify(store.release_folder(version), trusted, dataset=trust.get("dataset"), version=version)
