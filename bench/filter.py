"""Benchmark: `exclusions filter` on a Stack-v2-style Parquet shard, side by side with what else a pipeline could do.

Generates under --workdir (default /tmp/bench-filter) a shard of N rows in The Stack v2's schema (26 columns,
repositories on a long tail, mixed-case `repo_name`, about 5% of rows from excluded repositories, 1% under
excluded owners, 2% carrying an excluded blob in a fork) and a signed release of R repository rows (a tenth of
them namespaces) and B blob ids, laid out as `exclusions pull` leaves it. Then, round after round (--runs; every
engine once per round, in turn, each in a process of its own: peak RSS per engine, the release loaded by each):
- arrow: pyarrow alone: read_table, is_in on the lower-cased repo_name, on its owner and on blob_id, filter,
  write_table: Arrow's own speed with the whole shard in memory (the limit; goal: exclusions ≤ 1.2× its time);
- python: a plain Python loop over sets, batch by batch (what a pipeline author writes by hand; goal: slower);
- exclusions: `exclusions filter` on the shard (verification of the release included);
- exclusions_jobs: `exclusions filter --jobs N` (--processes) on the shard cut into --shards files;
- exclusions_baseline: `exclusions filter` from another code tree (--baseline-tree), for before/after figures;
- datatrove: a datatrove pipeline (ParquetReader, exclusions.datatrove.ExclusionFilter, ParquetWriter) on the
  --shards files, one task each, --processes workers (not run by default; needs the [datatrove] extra).
- spark: `exclusions.spark`'s job (mapInArrow) in Spark's local mode on --processes cores (goal: within 2× of the
  CLI's rows per core-second); its peak RSS and CPU are summed over its process tree (driver, JVM, Python workers).
Every engine must keep the same rows: their count and a hash of the kept blob ids are compared.

    .venv/bin/python bench/filter.py [--rows 10000000] [--repositories 1000000] [--blobs 10000000] [--runs 3]
"""

import argparse
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This tree's client, not the one the venv's editable install points at.
sys.path[:0] = [str(ROOT), str(ROOT / "clients" / "python")]


def generate(workdir: Path, rows: int, repositories: int, blobs: int, seed: int) -> dict:
    import random

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from exclusions.release_files import ExcludedRow, blobs_write, changes_write, repositories_write
    from exclusions.store import Store
    from governance.signing import manifest_sign, public_keys
    from releases.fuse import membership_build

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
    membership = membership_build(folder=release_dir)
    manifest = {
        "format": 1,
        "dataset": "bench",
        "version": 1,
        "created_at": since,
        "previous": None,
        "counts": {"repositories": listed, "namespaces": namespaces, "blobs": blob_info.rows},
        "files": [info.as_dict() for info in (jsonl, parquet, blob_info, membership, changes)],
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


# --- the contenders, each run in a child process: python bench/filter.py --run NAME WORKDIR ---------------------


def run_arrow(workdir: Path, processes: int) -> dict:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    release = workdir / "exclusions" / "releases" / "1"
    repositories = pq.read_table(release / "repositories.parquet", columns=["repository", "scope"])
    github = len("github.com/")
    listed = repositories.filter(pc.equal(repositories["scope"], "repository"))["repository"]
    namespaces = repositories.filter(pc.equal(repositories["scope"], "namespace"))["repository"]
    github_paths = pc.utf8_slice_codeunits(listed, github).combine_chunks()
    owners = pc.utf8_slice_codeunits(namespaces, github).combine_chunks()
    blob_ids = pq.read_table(release / "blobs.parquet")["blob_id"].combine_chunks()
    table = pq.read_table(workdir / "shard.parquet")
    low = pc.ascii_lower(table["repo_name"])
    owner = pc.list_element(pc.split_pattern(low, "/", max_splits=1), 0)
    dropped = pc.or_(
        pc.or_(pc.is_in(low, value_set=github_paths), pc.is_in(owner, value_set=owners)),
        pc.is_in(table["blob_id"], value_set=blob_ids),
    )
    kept = table.filter(pc.invert(dropped))
    pq.write_table(kept, workdir / "out-arrow.parquet", compression="snappy")
    return {"rows_kept": kept.num_rows}


def run_python(workdir: Path, processes: int) -> dict:
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


def _exclusions(workdir: Path, inputs: list[Path], output: Path, *options: str) -> dict:
    from exclusions import cli

    report = workdir / f"report-{output.name}.json"
    arguments = ["filter", str(workdir / "exclusions"), *map(str, inputs), "--output", str(output)]
    status = cli.main([*arguments, "--report", str(report), *options])
    if status:
        raise SystemExit(status)
    result = json.loads(report.read_text())
    return {"rows_kept": result["rows_kept"], "rows_dropped": result["rows_dropped"], "workers": result["workers"]}


def run_exclusions(workdir: Path, processes: int) -> dict:
    return _exclusions(workdir, [workdir / "shard.parquet"], workdir / "out-exclusions.parquet")


def run_exclusions_jobs(workdir: Path, processes: int) -> dict:
    shutil.rmtree(workdir / "out-jobs", ignore_errors=True)
    inputs = sorted((workdir / "shards").glob("*.parquet"))
    return _exclusions(workdir, inputs, workdir / "out-jobs", "--jobs", str(processes))


def run_datatrove(workdir: Path, processes: int) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter

    from exclusions.datatrove import ExclusionFilter

    out = workdir / "out-datatrove"
    shutil.rmtree(out, ignore_errors=True)
    pieces = sorted((workdir / "shards").glob("*.parquet"))
    # The shard has no `content`: `path` stands in as the documents' text. Every other column comes back as a
    # column of its own (expand_metadata) with the input's type: datatrove infers a schema from the first
    # document otherwise, and a null there (gha_license_id) breaks the next batch.
    columns = [field for field in pq.read_schema(pieces[0]) if field.name != "path"]
    schema = pa.schema([pa.field("text", pa.string()), pa.field("id", pa.string()), *columns])
    executor = LocalPipelineExecutor(
        [
            ParquetReader(str(workdir / "shards"), text_key="path"),
            ExclusionFilter(workdir / "exclusions"),
            ParquetWriter(str(out), expand_metadata=True, schema=schema),
        ],
        tasks=len(pieces),  # task i reads piece i and writes it in order: the outputs, by rank, keep the CLI's order
        workers=processes,
        logging_dir=str(workdir / "logs-datatrove"),
        skip_completed=False,
        # Not datatrove's forkserver: spawned workers are this process's children, so that their CPU time and
        # peak RSS are counted (a forkserver's children are not).
        start_method="spawn",
    )
    block = executor.run().stats[1]
    total = {name: int(block.stats[name].total) for name in list(block.stats)}
    dropped = {reason: total.get(f"dropped_{reason}", 0) for reason in ("repository", "namespace", "blob")}
    dropped["total"] = total.get("dropped", 0)
    return {"rows_kept": total["forwarded"], "rows_dropped": dropped, "workers": processes}


def run_spark(workdir: Path, processes: int) -> dict:
    """`exclusions.spark`'s job in local mode on the shard: this process is Spark's driver, with a JVM and Python
    workers below it. Their memory and CPU are measured here, summed over the process tree from /proc (every 0.2 s):
    this process's own peak and its waited-for children's rusage would miss the JVM's Python workers."""
    import threading

    from exclusions import spark

    output, report = workdir / "out-spark", workdir / "report-spark.json"
    seen: dict[int, tuple[int, float]] = {}  # pid → (latest RSS in kB, latest CPU seconds)
    peak_kb, stop = [0], threading.Event()

    def sample() -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while not stop.wait(0.2):
            tree, changed = {os.getpid()}, True
            stats = {}
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        fields = (entry / "stat").read_text().rpartition(")")[2].split()
                        stats[int(entry.name)] = fields
                    except OSError:
                        continue
            while changed:  # descendants: every process whose parent is in the tree
                grown = {pid for pid, fields in stats.items() if int(fields[1]) in tree}
                changed, tree = not grown <= tree, tree | grown
            total = 0
            for pid in tree & stats.keys():
                fields = stats[pid]
                rss_kb = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
                seen[pid] = (rss_kb, (int(fields[11]) + int(fields[12])) / tick)
                total += rss_kb
            peak_kb[0] = max(peak_kb[0], total)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    arguments = ["--release", str(workdir / "exclusions"), "--input", str(workdir / "shard.parquet")]
    arguments += ["--output", str(output), "--overwrite", "--report", str(report), "--master", f"local[{processes}]"]
    arguments += ["--conf", "spark.ui.enabled=false", "--conf", "spark.driver.memory=2g"]
    try:
        status = spark.main(arguments)
    finally:
        stop.set()
        sampler.join()
    if status:
        raise SystemExit(status)
    result = json.loads(report.read_text())
    return {
        "rows_kept": result["rows_kept"],
        "rows_dropped": result["rows_dropped"],
        "workers": processes,
        "process_tree": {
            "peak_rss_mb": round(peak_kb[0] / 1024, 1),  # RSS summed over the tree: pages shared count twice
            "cpu_seconds": round(sum(cpu for _rss, cpu in seen.values()), 2),  # as last sampled, per process
            "processes_seen": len(seen),
        },
    }


CONTENDERS = {
    "arrow": run_arrow,
    "python": run_python,
    "exclusions": run_exclusions,
    "exclusions_jobs": run_exclusions_jobs,
    "spark": run_spark,  # exclusions.spark in local[--processes] mode (not in DEFAULT_ENGINES: a JVM to start)
    "exclusions_baseline": run_exclusions,  # the same command, from the code tree given by --baseline-tree
    "datatrove": run_datatrove,
}
OUTPUTS = {"arrow": "out-arrow.parquet", "python": "out-python.parquet", "exclusions": "out-exclusions.parquet"}
# Spark's part files, numbered by partition: the partitions of one input file follow its row groups in order, so the
# in-order fingerprint below holds for Spark too (checked, not assumed: another order gives another hash).
OUTPUTS["spark"] = "out-spark"


def kept_fingerprint(workdir: Path, name: str) -> dict:
    """Rows an engine kept and a sha256 of their blob ids in order: equal for engines that keep the same rows."""
    import hashlib

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if name == "exclusions_jobs":
        files = sorted((workdir / "out-jobs").glob("*.parquet"))
    elif name == "datatrove":  # 000_00000.parquet … by rank: the pieces' order, no sorting of rows needed
        files = sorted((workdir / "out-datatrove").glob("*.parquet"))
    else:
        output = workdir / OUTPUTS.get(name, "out-exclusions.parquet")
        files = sorted(output.glob("*.parquet")) if output.is_dir() else [output]
    digest, sizes, rows = hashlib.sha256(), hashlib.sha256(), 0
    for path in files:
        column = pq.read_table(path, columns=["blob_id"]).column(0)
        for chunk in column.chunks:
            chunk = chunk.fill_null("") if chunk.null_count else chunk
            # The bytes of the values and their lengths: the ids in order, without a Python string per row.
            lengths = pc.binary_length(chunk)
            bounds = pa.Array.from_buffers(pa.int32(), len(chunk) + 1, [None, chunk.buffers()[1]], offset=chunk.offset)
            digest.update(memoryview(chunk.buffers()[2])[bounds[0].as_py() : bounds[-1].as_py()])
            sizes.update(memoryview(lengths.buffers()[1])[: 4 * len(lengths)])  # apart: chunks differ per engine
            rows += len(chunk)
    digest.update(sizes.digest())
    return {"rows_kept": rows, "blob_ids_sha256": digest.hexdigest()[:16]}


def split_shard(workdir: Path, pieces: int) -> None:
    """The shard cut into `pieces` files by row groups, in order: the input of the --processes figure."""
    import pyarrow.parquet as pq

    folder = workdir / "shards"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    source = pq.ParquetFile(workdir / "shard.parquet")
    groups = source.metadata.num_row_groups
    bounds = [round(groups * index / pieces) for index in range(pieces + 1)]
    for index in range(pieces):
        with pq.ParquetWriter(folder / f"part-{index:02d}.parquet", source.schema_arrow, compression="snappy") as out:
            for group in range(bounds[index], bounds[index + 1]):
                out.write_table(source.read_row_group(group))


def measure(name: str, workdir: Path, arguments) -> dict:
    """Run one contender in a fresh process; its wall time, peak RSS and the load average around it."""
    command = [sys.executable, __file__, "--run", name, str(workdir), "--processes", str(arguments.processes)]
    if name == "exclusions_baseline":
        command += ["--code-root", str(arguments.baseline_tree)]
    load_before = os.getloadavg()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    fingerprint = kept_fingerprint(workdir, name)
    if fingerprint["rows_kept"] != outcome["rows_kept"]:
        raise SystemExit(f"{name}: says {outcome['rows_kept']} rows kept, its output holds {fingerprint['rows_kept']}")
    return {
        **outcome,
        **fingerprint,
        "seconds": round(seconds, 2),
        "loadavg_before": [round(value, 2) for value in load_before],
        "loadavg_after": [round(value, 2) for value in os.getloadavg()],
    }


def summary(runs: list[dict], rows: int) -> dict:
    seconds = [run["seconds"] for run in runs]
    peaks = [run["peak_rss_mb"] for run in runs]
    median = statistics.median(seconds)
    return {
        "seconds_median": round(median, 2),
        "seconds_min": min(seconds),
        "seconds_max": max(seconds),
        "rows_per_second_median": round(rows / median),
        "peak_rss_mb_max": max(peaks),
        "cpu_seconds_median": statistics.median(run["cpu_seconds"] for run in runs),
        "rows_kept": runs[0]["rows_kept"],
        "blob_ids_sha256": runs[0]["blob_ids_sha256"],
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repositories", type=int, default=1_000_000)
    parser.add_argument("--blobs", type=int, default=10_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-filter"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="rounds; each runs every engine once, in turn")
    parser.add_argument("--processes", type=int, default=2, help="--jobs of the several-shards figure (default 2)")
    parser.add_argument("--shards", type=int, default=4, help="files the shard is cut into for that figure")
    parser.add_argument(
        "--engines", default=",".join(DEFAULT_ENGINES), help="comma-separated, of: " + ", ".join(CONTENDERS)
    )
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="a code tree (e.g. `git archive` of an older commit) whose "
        "`exclusions filter` runs as the engine exclusions_baseline",
    )
    parser.add_argument("--skip-python", action="store_true", help="leave out the plain Python loop")
    parser.add_argument("--reuse", action="store_true", help="keep the shard and release of an earlier run")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run", nargs=2, metavar=("NAME", "WORKDIR"), help=argparse.SUPPRESS)
    parser.add_argument("--code-root", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.run:
        if arguments.code_root:
            code_root = arguments.code_root.resolve()
            sys.path[:0] = [str(code_root), str(code_root / "clients" / "python")]
        name, workdir = arguments.run
        outcome = CONTENDERS[name](Path(workdir), arguments.processes)
        # VmHWM, not ru_maxrss: Linux carries the parent's peak over into a child's ru_maxrss across exec.
        own = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # worker processes, if any
        own_mb = int(own.split()[1]) / 1024
        used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        cpu = sum(usage.ru_utime + usage.ru_stime for usage in used)  # on a shared machine, steadier than wall time
        peaks = {"peak_rss_mb": round(max(own_mb, workers), 1), "cpu_seconds": round(cpu, 2)}
        if workers:  # a pool: every worker holds its own hash sets at once
            peaks.update(peak_rss_mb_main=round(own_mb, 1), peak_rss_mb_per_worker=round(workers, 1))
            peaks["peak_rss_mb"] = round(own_mb + workers * outcome.get("workers", 1), 1)
        peaks.update(outcome.pop("process_tree", {}))  # an engine that measured its whole process tree (spark)
        print(json.dumps({**outcome, **peaks}))
        return
    if arguments.generate:
        sizes = arguments.rows, arguments.repositories, arguments.blobs
        print(json.dumps(generate(arguments.workdir, *sizes, arguments.seed)))
        return
    engines = [name for name in arguments.engines.split(",") if name]
    unknown = sorted(set(engines) - set(CONTENDERS))
    if unknown:
        parser.error(f"unknown engines: {', '.join(unknown)}")
    if arguments.skip_python and "python" in engines:
        engines.remove("python")
    if "exclusions_baseline" in engines and not arguments.baseline_tree:
        parser.error("exclusions_baseline needs --baseline-tree")
    if arguments.reuse and (arguments.workdir / "shard.parquet").exists():
        data = {"reused": str(arguments.workdir)}
    else:
        shutil.rmtree(arguments.workdir, ignore_errors=True)
        arguments.workdir.mkdir(parents=True)
        # In a child, so that this process stays small: the contenders are started from it.
        command = [sys.executable, __file__, "--generate", "--workdir", str(arguments.workdir)]
        command += ["--seed", str(arguments.seed), "--rows", str(arguments.rows)]
        command += ["--repositories", str(arguments.repositories), "--blobs", str(arguments.blobs)]
        data = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    if {"exclusions_jobs", "datatrove"} & set(engines):
        split_shard(arguments.workdir, arguments.shards)
    runs: dict[str, list] = {name: [] for name in engines}
    load_start = os.getloadavg()
    for _round in range(arguments.runs):
        for name in engines:  # interleaved: a busy spell of the shared machine falls on every engine alike
            runs[name].append(measure(name, arguments.workdir, arguments))
    results = {name: summary(runs[name], arguments.rows) for name in engines}
    fingerprints = {(result["rows_kept"], result["blob_ids_sha256"]) for result in results.values()}
    fingerprints |= {(run["rows_kept"], run["blob_ids_sha256"]) for name in engines for run in runs[name]}
    median = {name: result["seconds_median"] for name, result in results.items()}
    goals = {}
    if "exclusions" in median and "arrow" in median:
        ratio = median["exclusions"] / median["arrow"]
        goals["exclusions_vs_arrow_time"] = {"median_ratio": round(ratio, 2), "goal": 1.2, "met": ratio <= 1.2}
    if "exclusions" in median and "python" in median:
        ratio = median["exclusions"] / median["python"]
        goals["exclusions_vs_python_loop_time"] = {"median_ratio": round(ratio, 2), "goal": "< 1", "met": ratio < 1}
    if "exclusions_jobs" in median and "exclusions" in median:
        goals["exclusions_one_process_vs_jobs_time"] = round(median["exclusions"] / median["exclusions_jobs"], 2)
    if "datatrove" in median and ({"exclusions", "exclusions_jobs"} & set(median)):
        # Rows a second per process used: datatrove runs --processes workers, as exclusions_jobs does.
        cli = "exclusions_jobs" if "exclusions_jobs" in median else "exclusions"
        cli_processes = arguments.processes if cli == "exclusions_jobs" else 1
        per_core = {
            "datatrove": round(arguments.rows / median["datatrove"] / arguments.processes),
            cli: round(arguments.rows / median[cli] / cli_processes),
        }
        ratio = per_core[cli] / per_core["datatrove"]
        goals["datatrove_vs_cli_per_core_throughput"] = {
            "rows_per_second_per_process": per_core,
            "cli_over_datatrove": round(ratio, 2),
            "goal": "≤ 2",
            "met": ratio <= 2,
        }
    if "spark" in median and "exclusions" in median:
        # Per core: Spark runs on --processes cores, `exclusions filter` in one process (plus its writer thread).
        cli, spark = arguments.rows / median["exclusions"], arguments.rows / (median["spark"] * arguments.processes)
        goals["spark_vs_cli_rows_per_core_second"] = {
            "cli": round(cli),
            "spark": round(spark),
            "ratio": round(cli / spark, 2),
            "goal": "spark within 2x",
            "met": cli / spark <= 2,
        }
    if "exclusions_baseline" in median and "exclusions" in median:
        goals["exclusions_baseline_vs_exclusions_time"] = round(median["exclusions_baseline"] / median["exclusions"], 2)
    print(
        json.dumps(
            {
                "rows": arguments.rows,
                "repositories": arguments.repositories,
                "blobs": arguments.blobs,
                "runs": arguments.runs,
                "processes": arguments.processes,
                "shards_for_processes": arguments.shards,
                "cpus": os.cpu_count(),
                "loadavg_start": [round(value, 2) for value in load_start],
                "loadavg_end": [round(value, 2) for value in os.getloadavg()],
                "data": data,
                "goals": goals,
                "same_rows_everywhere": len(fingerprints) == 1,
                "engines": results,
            },
            indent=2,
        )
    )
    if len(fingerprints) != 1:
        raise SystemExit("the engines kept different rows: " + repr(sorted(fingerprints)))


DEFAULT_ENGINES = ("arrow", "python", "exclusions", "exclusions_jobs")

if __name__ == "__main__":
    main()
