"""Ed25519 signatures for release manifests, with keys kept as files under one folder.

Layout of `keys_dir` (mode 0700):
- `<key_id>.key`: the private key, PEM PKCS8 without a password, mode 0600.
- `<key_id>.pub`: one line `ed25519 <base64 of the raw 32-byte public key> <created_at, ISO 8601 UTC>`.
- `active`: the key_id that signs new releases.
`key_id` = first 16 hex of sha256(raw public key). Keys are never deleted: old releases stay verifiable.
"""

import base64
import hashlib
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from exclusions import manifest as client_manifest
from governance.exceptions import GovernanceError


class SigningError(GovernanceError):
    code = "signing"


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    public_key: bytes
    created_at: str
    active: bool

    def as_dict(self) -> dict:
        """The key as published to pipelines."""
        return {"algorithm": "ed25519", **asdict(self), "public_key": base64.b64encode(self.public_key).decode("ascii")}


def manifest_canonical_bytes(manifest: dict) -> bytes:
    """The exact bytes a manifest's signature covers; defined by the pipeline client, which checks them."""
    try:
        return client_manifest.manifest_canonical_bytes(manifest)
    except ValueError as error:
        raise SigningError(str(error)) from None


def key_ensure(*, keys_dir: Path, create: bool) -> str:
    """The active key_id, creating a first key when there is none and `create` is set (embedded mode)."""
    active_name = _read_active(keys_dir)
    if active_name is None:
        if create:
            return key_rotate(keys_dir=keys_dir)
        raise SigningError(
            f"No signing key is configured: put an Ed25519 PEM private key at {keys_dir}/<name>.key and its id "
            f"in {keys_dir}/active, or set GOVERNANCE_SIGNING_KEY_FILE."
        )
    private_path = keys_dir / f"{active_name}.key"
    if not private_path.is_file():
        raise SigningError(f"{keys_dir}/active names the key {active_name!r}, but {private_path} does not exist.")
    if not (keys_dir / f"{active_name}.pub").is_file():
        # An operator placed a PEM under a name of their choosing: install it under its real id.
        return key_import(keys_dir=keys_dir, private_key_pem=private_path.read_bytes())
    return active_name


def key_import(*, keys_dir: Path, private_key_pem: bytes, activate: bool = True) -> str:
    """Install a given Ed25519 PEM private key (production) and return its key_id; importing it again is a no-op."""
    private_key = _load_private_key(private_key_pem, source="the given key")
    raw_public = _raw_public(private_key)
    key_id = _key_id(raw_public)
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The .pub goes last: it marks a key as complete. Existing files are kept, and with them created_at.
    if not (keys_dir / f"{key_id}.key").is_file():
        _write_atomic(keys_dir / f"{key_id}.key", _pkcs8_pem(private_key), mode=0o600)
    if not (keys_dir / f"{key_id}.pub").is_file():
        # Microseconds, so that keys rotated within one second still sort newest first.
        created_at = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        line = f"ed25519 {base64.b64encode(raw_public).decode('ascii')} {created_at}\n"
        _write_atomic(keys_dir / f"{key_id}.pub", line.encode("ascii"), mode=0o644)
    if activate and _read_active(keys_dir) != key_id:
        _write_atomic(keys_dir / "active", f"{key_id}\n".encode("ascii"), mode=0o644)
    return key_id


def key_rotate(*, keys_dir: Path) -> str:
    """Generate a new key and make it the active one; older keys stay so their releases still verify."""
    return key_import(keys_dir=keys_dir, private_key_pem=_pkcs8_pem(Ed25519PrivateKey.generate()), activate=True)


def manifest_sign(*, manifest: dict, keys_dir: Path, create: bool = False) -> dict:
    """A new dict: the manifest plus `key_id` and a base64 Ed25519 `signature` made with the active key."""
    key_id = key_ensure(keys_dir=keys_dir, create=create)
    private_path = keys_dir / f"{key_id}.key"
    private_key = _load_private_key(private_path.read_bytes(), source=str(private_path))
    # A key file swapped under another key's name would sign releases nobody can verify.
    if _key_id(_raw_public(private_key)) != key_id:
        raise SigningError(f"{private_path} does not hold the key {key_id}; restore it or run a key rotation.")
    signature = private_key.sign(manifest_canonical_bytes(manifest))
    return {**manifest, "key_id": key_id, "signature": base64.b64encode(signature).decode("ascii")}


def manifest_verify(*, manifest: dict, public_keys: dict[str, bytes]) -> None:
    """Raise SigningError unless the manifest carries a valid signature by one of `public_keys` (key_id → raw bytes)."""
    key_id, signature_text = manifest.get("key_id"), manifest.get("signature")
    if key_id is None or signature_text is None:
        raise SigningError("The manifest is unsigned: it lacks a `signature` or `key_id` field.")
    if not isinstance(key_id, str) or key_id not in public_keys:
        raise SigningError(f"Unknown signing key {key_id!r}; known keys: {', '.join(sorted(public_keys)) or 'none'}.")
    try:
        signature = base64.b64decode(signature_text, validate=True)
        public_key = Ed25519PublicKey.from_public_bytes(public_keys[key_id])
    except (TypeError, ValueError) as error:
        raise SigningError(f"The manifest's signature or the public key {key_id} is malformed ({error}).") from None
    try:
        public_key.verify(signature, manifest_canonical_bytes(manifest))
    except InvalidSignature:
        raise SigningError(
            f"The manifest's signature does not match its content (key {key_id}): "
            "the manifest was changed after signing, or signed by another key."
        ) from None


def public_keys(*, keys_dir: Path) -> list[PublicKey]:
    """Every key in `keys_dir`, the active one first, then newest first."""
    active_id = _read_active(keys_dir)
    keys = [_read_public(path, active=path.stem == active_id) for path in keys_dir.glob("*.pub")]
    keys.sort(key=lambda key: (not key.active, -datetime.fromisoformat(key.created_at).timestamp()))
    return keys


def _read_public(path: Path, *, active: bool) -> PublicKey:
    try:
        algorithm, encoded, created_at = path.read_text(encoding="ascii").split()
        raw_public = base64.b64decode(encoded, validate=True)
        datetime.fromisoformat(created_at)  # a date that cannot be sorted would break public_keys()
    except ValueError:
        raise SigningError(f"{path} is not one line `ed25519 <base64 public key> <created_at>`.") from None
    if algorithm != "ed25519" or len(raw_public) != 32 or _key_id(raw_public) != path.stem:
        raise SigningError(f"{path} does not hold the Ed25519 public key whose id is {path.stem}.")
    return PublicKey(key_id=path.stem, public_key=raw_public, created_at=created_at, active=active)


def _load_private_key(pem: bytes, *, source: str) -> Ed25519PrivateKey:
    try:
        private_key = serialization.load_pem_private_key(pem, password=None)
    except (TypeError, ValueError) as error:  # TypeError: the PEM is password-protected
        raise SigningError(f"{source} is not a readable unencrypted PEM private key ({error}).") from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise SigningError(f"{source} is a {type(private_key).__name__}, not an Ed25519 private key.")
    return private_key


def _pkcs8_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def _raw_public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _key_id(raw_public: bytes) -> str:
    return hashlib.sha256(raw_public).hexdigest()[:16]


def _read_active(keys_dir: Path) -> str | None:
    try:
        name = (keys_dir / "active").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    # The name becomes part of a path: refuse anything that could leave keys_dir.
    if name and (Path(name).name != name or name.startswith(".")):
        raise SigningError(f"{keys_dir}/active must hold a key name, not {name!r}.")
    return name or None


def _write_atomic(path: Path, content: bytes, *, mode: int) -> None:
    # Temp file in the same folder + fsync + rename: a crash leaves the old file or the new one, never half a key.
    # On failure the context removes the temp file; on success it was renamed away and there is nothing to remove.
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp") as temp_file:
        os.fchmod(temp_file.fileno(), mode)
        temp_file.write(content)
        temp_file.flush()
        os.fsync(temp_file.fileno())
        os.replace(temp_file.name, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # makes the rename itself survive a power loss
    finally:
        os.close(directory)
