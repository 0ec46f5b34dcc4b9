"""Resumable downloads of release files into `*.part` files, checked against the signed manifest.

A file is fetched into `<name>.part`; an interrupted transfer leaves the part, and the next attempt (in
this run, or the next `exclusions pull`) asks only for the rest with `Range: bytes=<have>-` and `If-Range:
"<sha256>"`. A server that ignores ranges answers 200 with the whole file, which simply starts the part
over. Only a part whose size and sha256 match the manifest is ever renamed to its name.
"""

import hashlib
import http.client
import os
import re
import time
import urllib.error
from pathlib import Path

from exclusions.errors import ClientError
from exclusions.portal import Portal
from exclusions.progress import Progress

CHUNK_BYTES = 1 << 20
ATTEMPTS = 4
_CONTENT_RANGE_RE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def file_matches(path: Path, info: dict) -> bool:
    """Whether the file at `path` has exactly the size and sha256 a manifest entry lists."""
    try:
        return path.stat().st_size == info["bytes"] and file_sha256(path) == info["sha256"]
    except FileNotFoundError:
        return False


def download_file(portal: Portal, url: str, info: dict, folder: Path, *, progress: Progress) -> str:
    """Fetch a release file into `folder/<name>`, resuming a part left there; return how ("downloaded"/"resumed").

    Raises ClientError naming the file when it cannot be fetched, or when what arrived is not the file the
    signed manifest lists (then the part is deleted: a bad part must never be resumed).
    """
    name, size = info["name"], info["bytes"]
    part = folder / f"{name}.part"
    resumed = part.exists() and part.stat().st_size > 0
    how = "resumed" if resumed else "downloaded"
    last_problem = ""
    if size == 0:
        # Nothing to transfer (changes.jsonl of a release that changed nothing), but the file must still exist.
        part.write_bytes(b"")
    for attempt in range(ATTEMPTS):
        have = part.stat().st_size if part.exists() else 0
        if have > size:
            part.unlink()
            have = 0
        if have == size:
            break
        try:
            _transfer(portal, url, info, part, have, progress=progress)
        except _Restart:
            part.unlink(missing_ok=True)
            continue
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            last_problem = str(getattr(error, "reason", error)) or type(error).__name__
            time.sleep(min(8.0, 0.5 * 2**attempt))
    else:
        have = part.stat().st_size if part.exists() else 0
        if have != size:
            raise ClientError(
                f"{name}: the download stopped at {have:,} of {size:,} bytes ({last_problem or 'connection closed'}); "
                f"run the same pull again to resume from {part}"
            )
    digest = file_sha256(part)
    if digest != info["sha256"]:
        part.unlink()
        if resumed:
            # The part kept from an earlier run may be what is wrong: one fresh download decides.
            download_file(portal, url, info, folder, progress=progress)
            return "downloaded"
        raise ClientError(
            f"{name}: sha256 {digest} does not match the signed manifest's {info['sha256']}: the file was changed "
            "or damaged on its way; refused, nothing in the directory was replaced"
        )
    os.replace(part, folder / name)
    return how


class _Restart(Exception):
    """The server's answer cannot continue the part: start the file over."""


def _transfer(portal: Portal, url: str, info: dict, part: Path, have: int, *, progress: Progress) -> None:
    name, size = info["name"], info["bytes"]
    headers = {"Accept-Encoding": "identity"}
    if have:
        # If-Range: should the file behind the URL not be the one we have a part of, the server sends it whole.
        headers.update({"Range": f"bytes={have}-", "If-Range": f'"{info["sha256"]}"'})
    try:
        response = portal.open(url, headers=headers)
    except ClientError as error:
        if have and "HTTP 416" in str(error):
            raise _Restart from None
        raise
    with response:
        if response.status == 206:
            match = _CONTENT_RANGE_RE.fullmatch(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != have:
                raise _Restart
            mode = "ab"
        else:
            have, mode = 0, "wb"
        progress.start(name, size, have)
        try:
            with open(part, mode) as out:
                while chunk := response.read(CHUNK_BYTES):
                    have += len(chunk)
                    if have > size:
                        raise ClientError(
                            f"{name}: the server sent more than the {size:,} bytes the signed manifest lists; refused"
                        )
                    out.write(chunk)
                    progress.advance(len(chunk))
                out.flush()
                os.fsync(out.fileno())
        except ClientError:
            part.unlink(missing_ok=True)
            raise
        finally:
            progress.finish()
