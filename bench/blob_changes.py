"""Benchmark: the blob changes of `changes/?since=M` between two blobs.parquet files, and the client's rebuild.

Writes two blob lists of N ids (the second drops 1% of the first, adds 1% new ids and gives 0.1% a reason and a
path), then times (a) the diff the API streams (as JSON lines, the way the view encodes them) and (b) the
client's rebuild of the second file from the first and the changes (apply + write), checking that the rebuilt
file has the published file's sha256. Prints JSON.

    .venv/bin/python bench/blob_changes.py [--blobs 1000000] [--workdir /tmp/bench-blob-changes]
"""

import argparse
import hashlib
import json
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exclusions.release_files import (  # noqa: E402 - after the path is set
    ExcludedBlob,
    blob_changes_apply,
    blob_changes_diff,
    blob_rows_read,
    blob_rows_writable,
    blobs_write,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blobs", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-blob-changes"))
    options = parser.parse_args()
    random.seed(7)
    old, new, rebuilt = (options.workdir / name for name in ("old", "new", "rebuilt"))
    for folder in (old, new, rebuilt):
        folder.mkdir(parents=True, exist_ok=True)
    ids = sorted(f"{random.getrandbits(160):040x}" for _ in range(options.blobs))
    blobs_write(ids, old)
    dropped = set(random.sample(ids, options.blobs // 100))
    added = {f"{random.getrandbits(160):040x}" for _ in range(options.blobs // 100)}
    reasoned = set(random.sample(ids, options.blobs // 1000)) - dropped
    current = sorted((set(ids) - dropped) | added)
    rows = (
        ExcludedBlob(blob, "reservation:ai-txt", f"data/{blob[:6]}.csv") if blob in reasoned else blob
        for blob in current
    )
    published = blobs_write(rows, new)
    del ids, current

    started = time.perf_counter()
    lines = 0
    changes = []
    for change in blob_changes_diff(blob_rows_read(old / "blobs.parquet"), blob_rows_read(new / "blobs.parquet")):
        encoded = (json.dumps({"version": 2, **change}, ensure_ascii=False) + "\n").encode()
        lines += 1
        changes.append(json.loads(encoded))
    diff_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for change in changes:
        change.pop("version")
    info = blobs_write(blob_rows_writable(blob_changes_apply(blob_rows_read(old / "blobs.parquet"), changes)), rebuilt)
    rebuild_seconds = time.perf_counter() - started
    same = info.sha256 == published.sha256 == hashlib.sha256((new / "blobs.parquet").read_bytes()).hexdigest()
    print(
        json.dumps(
            {
                "blobs": options.blobs,
                "change_lines": lines,
                "diff_and_encode_seconds": round(diff_seconds, 2),
                "rebuild_seconds": round(rebuild_seconds, 2),
                "rebuilt_sha256_matches": same,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
