"""Benchmark: `exclusions filter` on a Stack-v2-style Parquet shard, side by side with what else a pipeline could do.

Generates under --workdir (default /tmp/bench-filter) a shard of N rows in The Stack v2's schema (26 columns,
repositories on a long tail, mixed-case `repo_name`, about 5% of rows from excluded repositories, 1% under
excluded owners, 2% carrying an excluded blob in a fork) and a signed release of R repository rows (a tenth of
them namespaces) and B blob ids, laid out as `exclusions pull` leaves it. Then, each in a process of its own
(peak RSS measured per process, the release loaded from disk by each):
(a) pyarrow alone: read_table, is_in(ascii_lower(repo_name)) | is_in(blob_id), filter, write_table: Arrow's own
    speed with the whole shard in memory and no namespace rule (the limit; goal: exclusions ≤ 1.5× its time);
(b) a plain Python loop over sets, batch by batch (what a pipeline author writes by hand), with all three rules;
(c) `exclusions filter` (verification of the release included).

    .venv/bin/python bench/filter.py [--rows 10000000] [--repositories 1000000] [--blobs 10000000]
"""

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generate(workdir: Path, rows: int, repositories: int, blobs: int, seed: int) -> dict:
    import random

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from governance.client.store import Store
    from governance.release_files import ExcludedRow, blobs_write, changes_write, repositories_write
    from governance.signing import manifest_sign, public_keys

    random.seed(seed)
    started = time.perf_counter()
    namespaces = repositories // 10
    listed = repositories - namespaces
    owners = max(1, listed // 9)
    release_dir = workdir / "exclusions" / "releases" / "1"
    release_dir.mkdir(parents=True, exist_ok=True)
    since = "2026-01-01T00:00:00Z"
    names = [f"github.com/owner-{index % owners}/repo-{index}" for index in range(listed)]
    names += [f"github.com/excluded-owner-{index}" for index in range(namespaces)]
    scopes = ["repository"] * listed + ["namespace"] * namespaces
    order = sorted(range(len(names)), key=names.__getitem__)
    excluded_rows = (ExcludedRow(names[i], scopes[i], ("opt-out",), since) for i in order)
    jsonl, parquet = repositories_write(excluded_rows, release_dir)
    del names, scopes, order
    unsorted = hex_ids(blobs)
    blob_ids = pc.take(unsorted, pc.sort_indices(unsorted))
    del unsorted
    slices = (blob_ids.slice(at, 1_000_000).to_pylist() for at in range(0, blobs, 1_000_000))
    blob_info = blobs_write(itertools.chain.from_iterable(slices), release_dir)
    changes = changes_write([], release_dir)
    manifest = {
        "format": 1,
        "dataset": "bench",
        "version": 1,
        "created_at": since,
        "previous": None,
        "counts": {"repositories": listed, "namespaces": namespaces, "blobs": blob_info.rows},
        "files": [info.as_dict() for info in (jsonl, parquet, blob_info, changes)],
    }
    keys_dir = workdir / "keys"
    signed = manifest_sign(manifest=manifest, keys_dir=keys_dir, create=True)
    (release_dir / "manifest.json").write_text(json.dumps(signed, indent=2) + "\n")
    key = public_keys(keys_dir=keys_dir)[0]
    store = Store(workdir / "exclusions")
    store.trust_record(portal="bench", dataset="bench", key_id=key.key_id, public_key=key.public_key, how="bench")
    store.current_set(1)
    release_seconds = time.perf_counter() - started

    # The shard: a pool of rows/10 repositories on a long tail; 5% of the pool is in the release, 1% under an
    # excluded owner; 2% of rows carry a blob id of the release.
    pool_size = max(10, rows // 10)
    first = max(0, listed - pool_size // 20)
    pool = []
    for offset in range(pool_size):
        number = first + offset
        if offset % 100 == 7 and namespaces:
            pool.append(f"Excluded-Owner-{number % namespaces}/Project-{number}")
        else:
            pool.append(f"Owner-{number % owners}/Repo-{number}")
    pool = pa.array(pool)
    uniform = pc.random(rows, initializer=seed)
    # The most popular repositories sit at the end of the pool, away from the excluded 5% at its start.
    tail = pc.cast(pc.floor(pc.multiply(pc.multiply(uniform, uniform), pool_size - 1)), pa.int64())
    repo_index = pc.subtract(pool_size - 1, tail)
    row_number = pa.array(range(rows), pa.int64())
    blob_column = hex_ids(rows)
    forked = pc.less(pc.random(rows, initializer=seed + 1), 0.02)
    picks = pc.cast(
        pc.floor(pc.multiply(pc.random(pc.sum(forked).as_py(), initializer=seed + 2), blobs - 1)), pa.int64()
    )
    blob_column = pc.replace_with_mask(blob_column, forked, pc.take(blob_ids, picks))
    repo_hex = hex_ids(pool_size)
    small = pc.cast(pc.floor(pc.multiply(pc.random(rows, initializer=seed + 3), 1000)), pa.int64())
    stamp = pc.cast(pc.add(pc.multiply(small, 86_400_000_000), 1_600_000_000_000_000), pa.timestamp("us"))
    pick = lambda values: pc.take(pa.array(values), pc.bit_wise_and(small, len(values) - 1))  # noqa: E731
    table = pa.table(
        {
            "blob_id": blob_column,
            "directory_id": pc.take(repo_hex, repo_index),
            "path": pc.binary_join_element_wise(
                "src/pkg_", pc.cast(small, pa.string()), "/file_", pc.cast(row_number, pa.string()), ".py", ""
            ),
            "content_id": pc.utf8_reverse(blob_column),
            "detected_licenses": pick([[], ["MIT"], ["Apache-2.0"], ["MIT", "BSD-3-Clause"]]),
            "license_type": pick(["permissive", "no_license"]),
            "repo_name": pc.take(pool, repo_index),
            "snapshot_id": pc.take(pc.utf8_reverse(repo_hex), repo_index),
            "revision_id": pc.take(repo_hex, repo_index),
            "branch_name": pick(["refs/heads/main", "refs/heads/master"]),
            "visit_date": stamp,
            "revision_date": stamp,
            "committer_date": stamp,
            "github_id": pc.add(repo_index, 1_000_000),
            "star_events_count": small,
            "fork_events_count": pc.bit_wise_and(small, 15),
            "gha_license_id": pick(["mit", None, "apache-2.0", None]),
            "gha_event_created_at": stamp,
            "gha_created_at": stamp,
            "gha_language": pick(["Python", "JavaScript", "Go", "Rust"]),
            "language": pick(["Python", "JavaScript", "Go", "Rust"]),
            "extension": pick(["py", "js", "go", "rs"]),
            "src_encoding": pick(["UTF-8", "UTF-8", "UTF-8", "ASCII"]),
            "is_vendor": pc.equal(pc.bit_wise_and(small, 31), 0),
            "is_generated": pc.equal(pc.bit_wise_and(small, 63), 1),
            "length_bytes": pc.multiply(small, 37),
        }
    )
    shard = workdir / "shard.parquet"
    pq.write_table(table, shard, row_group_size=100_000, compression="snappy")
    return {
        "release_seconds": round(release_seconds, 1),
        "shard_seconds": round(time.perf_counter() - started - release_seconds, 1),
        "shard_bytes": shard.stat().st_size,
        "repositories_in_shard_pool": pool_size,
    }


def hex_ids(count: int):
    """`count` random 40-hex-digit ids (git blob SHA-1 shaped) as an Arrow string array."""
    import pyarrow as pa

    text = os.urandom(20 * count).hex()
    offsets = pa.array(range(0, 40 * (count + 1), 40), pa.int32()).buffers()[1]
    return pa.StringArray.from_buffers(count, offsets, pa.py_buffer(text.encode("ascii")))


# --- the three contenders, each run in a child process: python bench/filter.py --run NAME WORKDIR --------------


def run_arrow(workdir: Path) -> dict:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    release = workdir / "exclusions" / "releases" / "1"
    repositories = pq.read_table(release / "repositories.parquet", columns=["repository", "scope"])
    listed = repositories.filter(pc.equal(repositories["scope"], "repository"))["repository"]
    github_paths = pc.utf8_slice_codeunits(listed, len("github.com/")).combine_chunks()
    blob_ids = pq.read_table(release / "blobs.parquet")["blob_id"].combine_chunks()
    table = pq.read_table(workdir / "shard.parquet")
    dropped = pc.or_(
        pc.is_in(pc.ascii_lower(table["repo_name"]), value_set=github_paths),
        pc.is_in(table["blob_id"], value_set=blob_ids),
    )
    kept = table.filter(pc.invert(dropped))
    pq.write_table(kept, workdir / "out-arrow.parquet", compression="snappy")
    return {"rows_kept": kept.num_rows}


def run_python(workdir: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    release = workdir / "exclusions" / "releases" / "1"
    repositories = pq.read_table(release / "repositories.parquet", columns=["repository", "scope"]).to_pylist()
    repo_set = {row["repository"] for row in repositories if row["scope"] == "repository"}
    namespace_set = {row["repository"] for row in repositories if row["scope"] == "namespace"}
    blob_set = set(pq.read_table(release / "blobs.parquet")["blob_id"].to_pylist())
    kept_rows = 0
    source = pq.ParquetFile(workdir / "shard.parquet")
    with pq.ParquetWriter(workdir / "out-python.parquet", source.schema_arrow, compression="snappy") as writer:
        for batch in source.iter_batches(batch_size=65_536):
            keep = []
            for repo_name, blob_id in zip(batch["repo_name"].to_pylist(), batch["blob_id"].to_pylist(), strict=True):
                name = "github.com/" + repo_name.lower()
                keep.append(
                    name not in repo_set and name.rsplit("/", 1)[0] not in namespace_set and blob_id not in blob_set
                )
            kept = batch.filter(pa.array(keep))
            kept_rows += kept.num_rows
            writer.write_batch(kept)
    return {"rows_kept": kept_rows}


def run_exclusions(workdir: Path) -> dict:
    from governance.client import cli

    report = workdir / "report.json"
    status = cli.main(
        [
            "filter",
            str(workdir / "exclusions"),
            str(workdir / "shard.parquet"),
            "--output",
            str(workdir / "out-exclusions.parquet"),
            "--report",
            str(report),
        ]
    )
    if status:
        raise SystemExit(status)
    result = json.loads(report.read_text())
    return {"rows_kept": result["rows_kept"], "rows_dropped": result["rows_dropped"]}


CONTENDERS = {"arrow": run_arrow, "python": run_python, "exclusions": run_exclusions}


def measure(name: str, workdir: Path) -> dict:
    """Run one contender in a fresh process; its wall time, rows/s and peak RSS (of it and its children)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--run", name, str(workdir)], capture_output=True, text=True, cwd=ROOT
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "seconds": round(seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repositories", type=int, default=1_000_000)
    parser.add_argument("--blobs", type=int, default=10_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-filter"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-python", action="store_true", help="leave out the plain Python loop (the slowest)")
    parser.add_argument("--reuse", action="store_true", help="keep the shard and release of an earlier run")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run", nargs=2, metavar=("NAME", "WORKDIR"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.run:
        name, workdir = arguments.run
        outcome = CONTENDERS[name](Path(workdir))
        # VmHWM, not ru_maxrss: Linux carries the parent's peak over into a child's ru_maxrss across exec.
        own = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # worker processes, if any
        peak_kb = max(int(own.split()[1]), workers)
        print(json.dumps({**outcome, "peak_rss_mb": round(peak_kb / 1024, 1)}))
        return
    if arguments.generate:
        sizes = arguments.rows, arguments.repositories, arguments.blobs
        print(json.dumps(generate(arguments.workdir, *sizes, arguments.seed)))
        return
    if arguments.reuse and (arguments.workdir / "shard.parquet").exists():
        data = {"reused": str(arguments.workdir)}
    else:
        import shutil

        shutil.rmtree(arguments.workdir, ignore_errors=True)
        arguments.workdir.mkdir(parents=True)
        # In a child, so that this process stays small: the contenders are started from it.
        command = [sys.executable, __file__, "--generate", "--workdir", str(arguments.workdir)]
        command += ["--seed", str(arguments.seed), "--rows", str(arguments.rows)]
        command += ["--repositories", str(arguments.repositories), "--blobs", str(arguments.blobs)]
        data = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    results = {}
    for name in ("arrow", "exclusions") + (() if arguments.skip_python else ("python",)):
        results[name] = measure(name, arguments.workdir)
        results[name]["rows_per_second"] = round(arguments.rows / results[name]["seconds"])
    exclusions, arrow = results["exclusions"], results["arrow"]
    print(
        json.dumps(
            {
                "rows": arguments.rows,
                "repositories": arguments.repositories,
                "blobs": arguments.blobs,
                "data": data,
                "arrow_is_in_filter": arrow,
                "exclusions_filter": exclusions,
                "python_loop": results.get("python"),
                "exclusions_vs_arrow_time": round(exclusions["seconds"] / arrow["seconds"], 2),
                "goal_exclusions_vs_arrow_time": 1.5,
                "python_vs_exclusions_time": round(results["python"]["seconds"] / exclusions["seconds"], 2)
                if "python" in results
                else None,
                "same_rows_as_python_loop": results["python"]["rows_kept"] == exclusions["rows_kept"]
                if "python" in results
                else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
