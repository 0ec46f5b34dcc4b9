"""The portal's pipeline API as the client speaks it, with urllib from the standard library."""

import base64
import binascii
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

from exclusions.errors import ClientError
from exclusions.manifest import key_id_of

USER_AGENT = "exclusions-client/1"
MANIFEST_MAX_BYTES = 16 * 1024 * 1024
# Answers worth a second try: the portal's rate limit, and a proxy or server restarting.
_RETRY_STATUSES = {429, 502, 503, 504}
_RETRIES = 3


class Portal:
    """One dataset on one portal: `Portal("https://portal.example", "the-stack-v2")`."""

    def __init__(self, base_url: str, dataset: str, *, timeout: float = 60.0):
        parts = urllib.parse.urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ClientError(f"{base_url!r} is not the portal's address: give it as https://host[:port]")
        if parts.username or parts.password:
            raise ClientError("the portal's address must not carry credentials; a token goes in --token")
        if not dataset or "/" in dataset or dataset in (".", ".."):
            raise ClientError(f"{dataset!r} is not a dataset slug")
        path = parts.path.rstrip("/").removesuffix("/api/v1")
        self.base_url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        self.dataset = dataset
        self.timeout = timeout
        self._datasets = f"{self.base_url}/api/v1/datasets/{urllib.parse.quote(dataset, safe='')}"

    def release_url(self, version: int | str, name: str = "") -> str:
        return f"{self._datasets}/releases/{version}/{name}"

    def release_info(self, version: int | str) -> dict:
        """The release's listing (`releases/N/` or `releases/latest/`): version, counts, files."""
        info = self.read_json(self.release_url(version), limit=MANIFEST_MAX_BYTES)
        if not isinstance(info, dict) or not isinstance(info.get("version"), int):
            raise ClientError(f"{self.release_url(version)}: the answer names no release version")
        return info

    def public_keys(self) -> dict[str, bytes]:
        """The portal's signing keys, key_id → raw public key, each checked against its id."""
        url = f"{self.base_url}/api/v1/keys/"
        keys = {}
        for entry in self.read_json(url, limit=MANIFEST_MAX_BYTES):
            try:
                raw = base64.b64decode(entry["public_key"], validate=True)
            except (KeyError, TypeError, binascii.Error) as error:
                raise ClientError(f"{url}: a key is malformed ({error})") from None
            if entry.get("algorithm") != "ed25519" or len(raw) != 32 or key_id_of(raw) != entry.get("key_id"):
                raise ClientError(f"{url}: the key listed as {entry.get('key_id')!r} is not the key with that id")
            keys[entry["key_id"]] = raw
        return keys

    def changes(self, version: int, since: int) -> Iterator[dict]:
        """The changes of releases since+1 … version, each with its `version`, streamed line by line."""
        url = self.release_url(version, f"changes/?since={since}")
        with self.open(url) as response:
            for number, line in enumerate(response, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError as error:
                        raise ClientError(f"{url}: line {number} is not JSON ({error})") from None

    def build_report(self, *, version: int, build_id: str, notes: str, token: str) -> dict:
        """Tell the portal that a build applied this release."""
        body = json.dumps({"build_id": build_id, "release": version, "notes": notes}).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        return self.read_json(f"{self._datasets}/builds/", data=body, headers=headers, limit=1 << 20)

    def read_json(self, url: str, *, limit: int, data: bytes | None = None, headers: dict | None = None):
        """The JSON of a small answer; anything else (a proxy's or another site's page) is refused by name."""
        try:
            return json.loads(self.read(url, limit=limit, data=data, headers=headers))
        except (UnicodeDecodeError, ValueError):
            raise ClientError(f"{url}: the answer is not JSON; is {self.base_url} the portal's address?") from None

    def read(self, url: str, *, limit: int, data: bytes | None = None, headers: dict | None = None) -> bytes:
        """The whole body of a small answer, refused when longer than `limit`."""
        with self.open(url, data=data, headers=headers) as response:
            content = response.read(limit + 1)
        if len(content) > limit:
            raise ClientError(f"{url}: the answer is longer than {limit:,} bytes")
        return content

    def open(self, url: str, *, data: bytes | None = None, headers: dict | None = None):
        """An open response with a 2xx status; errors become a ClientError with the portal's `detail`."""
        request = urllib.request.Request(url, data=data, headers={"User-Agent": USER_AGENT, **(headers or {})})
        for attempt in range(_RETRIES + 1):
            try:
                return urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310 - http(s) checked above
            except urllib.error.HTTPError as error:
                if error.code in _RETRY_STATUSES and attempt < _RETRIES:
                    time.sleep(_retry_after(error.headers.get("Retry-After"), attempt))
                    continue
                raise ClientError(f"{_method(data)} {url}: HTTP {error.code} {_detail(error)}") from None
            except (urllib.error.URLError, OSError) as error:
                if attempt < _RETRIES:
                    time.sleep(_retry_after(None, attempt))
                    continue
                reason = getattr(error, "reason", error)
                raise ClientError(f"{_method(data)} {url}: cannot reach the portal ({reason})") from None
        raise AssertionError("unreachable")


def _method(data: bytes | None) -> str:
    return "GET" if data is None else "POST"


def _retry_after(header: str | None, attempt: int) -> float:
    try:
        return min(30.0, max(0.0, float(header))) if header else min(8.0, 0.5 * 2**attempt)
    except ValueError:
        return min(8.0, 0.5 * 2**attempt)


def _detail(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read(64 * 1024))
        return str(body.get("detail") or body)[:500]
    except (ValueError, AttributeError, OSError):
        return error.reason if isinstance(error.reason, str) else ""
