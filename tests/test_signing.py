"""Ed25519 signing of release manifests and the key files behind it."""

import base64
import hashlib
import json
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from governance.exceptions import GovernanceError
from governance.signing import (
    PublicKey,
    SigningError,
    key_ensure,
    key_import,
    key_rotate,
    manifest_canonical_bytes,
    manifest_sign,
    manifest_verify,
    public_keys,
)

MANIFEST = {
    "dataset": "the-stack",
    "version": 3,
    "previous": 2,
    "created_at": "2025-06-01T12:00:00Z",
    "policy": {"allowed": ["MIT", "Apache-2.0"], "no_license": "exclude"},
    "files": [{"name": "repositories.jsonl", "bytes": 120, "rows": 2, "sha256": "ab" * 32}],
    "note": "Zoë's café — 数据",
}


@pytest.fixture
def keys_dir(tmp_path):
    return tmp_path / "keys"


def known_keys(keys_dir):
    return {key.key_id: key.public_key for key in public_keys(keys_dir=keys_dir)}


def pem_of(private_key) -> bytes:
    return private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def test_signed_manifest_verifies_with_the_published_keys(keys_dir):
    signed = manifest_sign(manifest=MANIFEST, keys_dir=keys_dir, create=True)

    manifest_verify(manifest=signed, public_keys=known_keys(keys_dir))
    assert signed["key_id"] == key_ensure(keys_dir=keys_dir, create=False)
    assert len(base64.b64decode(signed["signature"])) == 64
    assert {name: value for name, value in signed.items() if name not in ("key_id", "signature")} == MANIFEST


def test_signing_returns_a_new_dict_and_leaves_the_manifest_alone(keys_dir):
    manifest = dict(MANIFEST)

    signed = manifest_sign(manifest=manifest, keys_dir=keys_dir, create=True)

    assert signed is not manifest
    assert manifest == MANIFEST


def test_signing_again_replaces_an_old_signature(keys_dir):
    signed = manifest_sign(manifest=MANIFEST, keys_dir=keys_dir, create=True)
    key_rotate(keys_dir=keys_dir)

    resigned = manifest_sign(manifest=signed, keys_dir=keys_dir)

    assert resigned["key_id"] != signed["key_id"]
    manifest_verify(manifest=resigned, public_keys=known_keys(keys_dir))


def test_canonical_bytes_ignore_key_order_and_the_signature_fields():
    reordered = dict(reversed(list(MANIFEST.items())))
    with_signature = {**MANIFEST, "key_id": "0123456789abcdef", "signature": "c2lnbmF0dXJl"}

    assert manifest_canonical_bytes(reordered) == manifest_canonical_bytes(MANIFEST)
    assert manifest_canonical_bytes(with_signature) == manifest_canonical_bytes(MANIFEST)
    assert manifest_canonical_bytes({"b": [1, {"d": 2, "c": 3}], "a": None}) == b'{"a":null,"b":[1,{"c":3,"d":2}]}'


def test_canonical_bytes_keep_unicode_as_utf8():
    canonical = manifest_canonical_bytes(MANIFEST)

    assert "Zoë's café — 数据".encode() in canonical
    assert b"\\u" not in canonical
    assert json.loads(canonical)["note"] == MANIFEST["note"]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_canonical_bytes_refuse_numbers_json_cannot_carry(value):
    with pytest.raises(SigningError, match="canonical JSON cannot carry"):
        manifest_canonical_bytes({**MANIFEST, "ratio": value})


def tamper_changed_value(signed, keys_dir):
    return {**signed, "version": 4}


def tamper_added_field(signed, keys_dir):
    return {**signed, "extra": "sneaked in"}


def tamper_removed_field(signed, keys_dir):
    return {name: value for name, value in signed.items() if name != "previous"}


def tamper_nested_value(signed, keys_dir):
    files = [{**signed["files"][0], "sha256": "cd" * 32}]
    return {**signed, "files": files}


def tamper_signature_from_another_manifest(signed, keys_dir):
    other = manifest_sign(manifest={**MANIFEST, "version": 4}, keys_dir=keys_dir)
    return {**signed, "signature": other["signature"]}


def tamper_signature_by_another_key_claiming_this_key_id(signed, keys_dir):
    forged = Ed25519PrivateKey.generate().sign(manifest_canonical_bytes(signed))
    return {**signed, "signature": base64.b64encode(forged).decode()}


@pytest.mark.parametrize(
    "tamper",
    [
        tamper_changed_value,
        tamper_added_field,
        tamper_removed_field,
        tamper_nested_value,
        tamper_signature_from_another_manifest,
        tamper_signature_by_another_key_claiming_this_key_id,
    ],
)
def test_tampered_manifest_is_refused(keys_dir, tamper):
    signed = manifest_sign(manifest=MANIFEST, keys_dir=keys_dir, create=True)

    with pytest.raises(SigningError, match="changed after signing, or signed by another key") as refused:
        manifest_verify(manifest=tamper(signed, keys_dir), public_keys=known_keys(keys_dir))

    assert signed["key_id"] in str(refused.value)
    assert refused.value.code == "signing"


def test_unsigned_manifest_is_refused(keys_dir):
    key_ensure(keys_dir=keys_dir, create=True)

    with pytest.raises(SigningError, match="unsigned"):
        manifest_verify(manifest=MANIFEST, public_keys=known_keys(keys_dir))
    with pytest.raises(SigningError, match="unsigned"):
        manifest_verify(manifest={**MANIFEST, "key_id": "0123456789abcdef"}, public_keys=known_keys(keys_dir))


def test_manifest_signed_with_an_unknown_key_is_refused(keys_dir, tmp_path):
    signed = manifest_sign(manifest=MANIFEST, keys_dir=tmp_path / "elsewhere", create=True)
    key_ensure(keys_dir=keys_dir, create=True)

    with pytest.raises(SigningError, match=f"Unknown signing key '{signed['key_id']}'"):
        manifest_verify(manifest=signed, public_keys=known_keys(keys_dir))


def test_garbled_signature_is_refused(keys_dir):
    signed = manifest_sign(manifest=MANIFEST, keys_dir=keys_dir, create=True)

    with pytest.raises(SigningError, match="malformed"):
        manifest_verify(manifest={**signed, "signature": "not base64!"}, public_keys=known_keys(keys_dir))


def test_without_a_key_signing_explains_how_to_provide_one(keys_dir):
    with pytest.raises(GovernanceError) as refused:
        key_ensure(keys_dir=keys_dir, create=False)

    message = str(refused.value)
    assert f"{keys_dir}/<name>.key" in message
    assert f"{keys_dir}/active" in message
    assert "GOVERNANCE_SIGNING_KEY_FILE" in message
    with pytest.raises(SigningError, match="No signing key is configured"):
        manifest_sign(manifest=MANIFEST, keys_dir=keys_dir)


def test_embedded_mode_creates_one_private_key_and_keeps_it(keys_dir):
    key_id = key_ensure(keys_dir=keys_dir, create=True)

    assert key_ensure(keys_dir=keys_dir, create=True) == key_id
    assert key_ensure(keys_dir=keys_dir, create=False) == key_id
    assert stat.S_IMODE((keys_dir / f"{key_id}.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    assert (keys_dir / "active").read_text().strip() == key_id
    assert sorted(path.name for path in keys_dir.iterdir()) == sorted(["active", f"{key_id}.key", f"{key_id}.pub"])
    raw_public = public_keys(keys_dir=keys_dir)[0].public_key
    assert key_id == hashlib.sha256(raw_public).hexdigest()[:16]


def test_rotation_activates_a_new_key_and_old_releases_still_verify(keys_dir):
    before = manifest_sign(manifest=MANIFEST, keys_dir=keys_dir, create=True)

    new_key_id = key_rotate(keys_dir=keys_dir)
    after = manifest_sign(manifest=MANIFEST, keys_dir=keys_dir)

    assert new_key_id != before["key_id"]
    assert after["key_id"] == new_key_id == key_ensure(keys_dir=keys_dir, create=False)
    listed = public_keys(keys_dir=keys_dir)
    assert [(key.key_id, key.active) for key in listed] == [(new_key_id, True), (before["key_id"], False)]
    manifest_verify(manifest=before, public_keys=known_keys(keys_dir))
    manifest_verify(manifest=after, public_keys=known_keys(keys_dir))


def test_public_keys_list_the_active_key_first_then_newest_first(keys_dir):
    first = key_rotate(keys_dir=keys_dir)
    second = key_rotate(keys_dir=keys_dir)
    third = key_rotate(keys_dir=keys_dir)

    key_import(keys_dir=keys_dir, private_key_pem=(keys_dir / f"{first}.key").read_bytes())

    assert [key.key_id for key in public_keys(keys_dir=keys_dir)] == [first, third, second]


def test_imported_key_gets_the_id_of_its_public_key_and_importing_again_changes_nothing(keys_dir):
    private_key = Ed25519PrivateKey.generate()
    raw_public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    expected_id = hashlib.sha256(raw_public).hexdigest()[:16]

    key_id = key_import(keys_dir=keys_dir, private_key_pem=pem_of(private_key))
    listed_before = public_keys(keys_dir=keys_dir)
    again = key_import(keys_dir=keys_dir, private_key_pem=pem_of(private_key))

    assert key_id == again == expected_id
    assert public_keys(keys_dir=keys_dir) == listed_before
    assert listed_before == [
        PublicKey(key_id=key_id, public_key=raw_public, created_at=listed_before[0].created_at, active=True)
    ]
    assert stat.S_IMODE((keys_dir / f"{key_id}.key").stat().st_mode) == 0o600
    signed = manifest_sign(manifest=MANIFEST, keys_dir=keys_dir)
    assert signed["key_id"] == expected_id


def test_key_imported_without_activation_only_verifies(keys_dir):
    active_id = key_ensure(keys_dir=keys_dir, create=True)

    imported_id = key_import(keys_dir=keys_dir, private_key_pem=pem_of(Ed25519PrivateKey.generate()), activate=False)

    assert key_ensure(keys_dir=keys_dir, create=False) == active_id
    assert imported_id in known_keys(keys_dir)


def test_key_an_operator_placed_under_any_name_is_installed_under_its_id(keys_dir):
    private_key = Ed25519PrivateKey.generate()
    keys_dir.mkdir(mode=0o700)
    (keys_dir / "production.key").write_bytes(pem_of(private_key))
    (keys_dir / "active").write_text("production\n")

    key_id = key_ensure(keys_dir=keys_dir, create=False)

    raw_public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert key_id == hashlib.sha256(raw_public).hexdigest()[:16]
    assert (keys_dir / "active").read_text().strip() == key_id
    manifest_verify(manifest=manifest_sign(manifest=MANIFEST, keys_dir=keys_dir), public_keys=known_keys(keys_dir))


def test_import_refuses_keys_that_are_not_ed25519(keys_dir):
    with pytest.raises(SigningError, match="not an Ed25519 private key"):
        key_import(keys_dir=keys_dir, private_key_pem=pem_of(generate_private_key(SECP256R1())))
    with pytest.raises(SigningError, match="not a readable unencrypted PEM private key"):
        key_import(keys_dir=keys_dir, private_key_pem=b"-----BEGIN PRIVATE KEY-----\ngarbage\n")
    assert not keys_dir.exists()


def test_active_file_naming_a_missing_key_is_reported(keys_dir):
    keys_dir.mkdir()
    (keys_dir / "active").write_text("0123456789abcdef")

    with pytest.raises(SigningError, match=r"names the key '0123456789abcdef'.*does not exist"):
        key_ensure(keys_dir=keys_dir, create=True)


def test_active_file_cannot_point_outside_the_keys_folder(keys_dir):
    keys_dir.mkdir()
    (keys_dir / "active").write_text("../elsewhere")

    with pytest.raises(SigningError, match="must hold a key name"):
        key_ensure(keys_dir=keys_dir, create=False)


def test_public_key_as_dict_is_what_pipelines_receive(keys_dir):
    key_id = key_ensure(keys_dir=keys_dir, create=True)

    published = public_keys(keys_dir=keys_dir)[0].as_dict()

    assert set(published) == {"key_id", "algorithm", "public_key", "created_at", "active"}
    assert published["key_id"] == key_id
    assert published["algorithm"] == "ed25519"
    assert published["active"] is True
    assert len(base64.b64decode(published["public_key"], validate=True)) == 32
    assert published["created_at"].endswith("Z")
    json.dumps(published)


def test_public_keys_of_a_folder_that_does_not_exist_is_empty(keys_dir):
    assert public_keys(keys_dir=keys_dir) == []
