"""Release manifests: their canonical bytes, Ed25519 signatures and the public keys that check them.

Pure Python + `cryptography`, with no Django: the portal signs with these canonical bytes
(`governance/signing.py` imports `manifest_canonical_bytes` from here), and pipelines verify with them.
"""

import base64
import binascii
import hashlib
import json
import re
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

from exclusions.errors import ClientError

MANIFEST = "manifest.json"
# A file name in a manifest becomes a path on the pipeline's disk: nothing that could leave the release folder.
_FILE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_HEX_KEY_RE = re.compile(r"[0-9A-Fa-f]{64}")


def manifest_canonical_bytes(manifest: dict) -> bytes:
    """The exact bytes a manifest's signature covers: everything but the signature fields, as canonical JSON.

    Raises ValueError when the manifest holds a value canonical JSON cannot carry (NaN, a set, …).
    """
    unsigned = {name: value for name, value in manifest.items() if name not in ("signature", "key_id")}
    try:
        text = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"The manifest holds a value canonical JSON cannot carry: {error}.") from None
    return text.encode("utf-8")


def key_id_of(public_key: bytes) -> str:
    """A key's id as the portal names it: the first 16 hex digits of sha256 of the raw 32-byte public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def public_key_parse(text: str) -> bytes:
    """The raw 32-byte Ed25519 public key in `text`: base64 or hex of the raw key, a `.pub` line, or a PEM key.

    `text` may also be the path of a file holding any of these.
    """
    candidate = text.strip()
    path = Path(candidate).expanduser()
    if candidate and len(candidate) < 4096 and "\n" not in candidate and path.is_file():
        candidate = path.read_text(encoding="utf-8", errors="replace").strip()
    if candidate.startswith("-----BEGIN"):
        try:
            key = load_pem_public_key(candidate.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as error:
            raise ClientError(f"--key: not a readable PEM public key ({error})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ClientError(f"--key: a {type(key).__name__}, not an Ed25519 public key")
        return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    words = candidate.split()
    if len(words) == 3 and words[0] == "ed25519":  # a line of the portal's keys/<key_id>.pub
        candidate = words[1]
    if _HEX_KEY_RE.fullmatch(candidate):
        return bytes.fromhex(candidate)
    try:
        raw = base64.b64decode(candidate, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ClientError(
            "--key: give the Ed25519 public key as base64 (what /api/v1/keys/ lists), 64 hex digits, "
            "a PEM public key, or a file holding one of these"
        )
    return raw


def manifest_parse(content: bytes, *, source: str = MANIFEST) -> dict:
    """The manifest in `content`, checked for the fields a pipeline relies on (not yet for its signature)."""
    try:
        manifest = json.loads(content)
    except (UnicodeDecodeError, ValueError) as error:
        raise ClientError(f"{source}: not JSON ({error})") from None
    if not isinstance(manifest, dict):
        raise ClientError(f"{source}: not a JSON object")
    for field, kind in (("dataset", str), ("version", int), ("files", list)):
        if not isinstance(manifest.get(field), kind) or isinstance(manifest.get(field), bool):
            raise ClientError(f"{source}: the field {field!r} is missing or not a {kind.__name__}")
    names = set()
    for info in manifest["files"]:
        if not isinstance(info, dict):
            raise ClientError(f"{source}: a files entry is not an object")
        name = info.get("name")
        if not isinstance(name, str) or not _FILE_NAME_RE.fullmatch(name) or name == MANIFEST or name in names:
            raise ClientError(f"{source}: the file name {name!r} is not a plain, unique file name")
        names.add(name)
        if not isinstance(info.get("sha256"), str) or not _SHA256_RE.fullmatch(info["sha256"]):
            raise ClientError(f"{source}: {name} has no sha256 of 64 lower-case hex digits")
        if not isinstance(info.get("bytes"), int) or isinstance(info["bytes"], bool) or info["bytes"] < 0:
            raise ClientError(f"{source}: {name} has no size in bytes")
    return manifest


def manifest_verify(manifest: dict, trusted_keys: dict[str, bytes], *, source: str = MANIFEST) -> str:
    """Check the manifest's Ed25519 signature against the trusted keys (key_id → raw key); return the key_id."""
    key_id, signature_text = manifest.get("key_id"), manifest.get("signature")
    if not key_id or not signature_text:
        raise ClientError(f"{source}: unsigned (no `signature` or `key_id`); refusing an unsigned release")
    if not isinstance(key_id, str) or key_id not in trusted_keys:
        known = ", ".join(sorted(trusted_keys)) or "none"
        raise ClientError(
            f"{source}: signed by key {key_id!r}, which is not trusted here (trusted: {known}); if the portal "
            "rotated its key, check the new key with its operators and pass it with --key"
        )
    try:
        signature = base64.b64decode(signature_text, validate=True)
        public_key = Ed25519PublicKey.from_public_bytes(trusted_keys[key_id])
        canonical = manifest_canonical_bytes(manifest)
    except (TypeError, ValueError) as error:
        raise ClientError(f"{source}: the signature or the key {key_id} is malformed ({error})") from None
    try:
        public_key.verify(signature, canonical)
    except InvalidSignature:
        raise ClientError(
            f"{source}: the signature does not match (key {key_id}): the manifest was changed after signing, "
            "or signed by another key under this key's id"
        ) from None
    return key_id
