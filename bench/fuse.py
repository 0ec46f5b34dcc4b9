"""Benchmark: the membership filter (Fuse16, and Fuse8 beside it) against exact sets, at 10 million keys.

For blob ids (random 40-hex-digit ids, as git SHA-1s are) and for repository names (`github.com/owner-i/repo-j`):
- the filter: seconds to derive the keys and to build it (pyfusefilter's C construction), file bytes, bits per key,
  and the false-positive rate measured on --probes ids or names that are not listed;
- memory: how much a fresh process grows (RSS) to hold each lookup, each in a child process of its own: the
  filter with the sorted ids the client confirms against, a Python frozenset, pyarrow's is_in hash set (built
  inside a dataset Scanner, as `exclusions filter` holds it), and for names the filter alone;
- speed: lookups per second one key at a time from Python (filter: contains_key, BlobMembership.is_listed;
  set: `in`) and a column at a time (filter: contains_keys; BlobMembership.listed with its confirmations, on
  batches of 65,536 rows of which 2% are listed; Arrow: is_in probing a set built once, the build timed apart:
  until the first verdict).
Seconds are CPU seconds of the process (steadier than wall time on a shared machine). Prints JSON, with the load
average before and after.

    .venv/bin/python bench/fuse.py [--keys 10000000] [--probes 10000000] [--workdir /tmp/bench-fuse]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "clients" / "python")]

BATCH = 65_536


def hex_ids(count: int):
    """`count` random 40-hex-digit ids (git blob SHA-1 shaped) as an Arrow string array."""
    import pyarrow as pa

    text = os.urandom(20 * count).hex()
    offsets = pa.array(range(0, 40 * (count + 1), 40), pa.int32()).buffers()[1]
    return pa.StringArray.from_buffers(count, offsets, pa.py_buffer(text.encode("ascii")))


def repository_names(count: int, prefix: str = "github.com/owner-"):
    import pyarrow as pa
    import pyarrow.compute as pc

    numbers = pa.array(range(count), pa.int64())
    owners = pc.cast(pc.divide(numbers, 9), pa.string())
    return pc.binary_join_element_wise(prefix, owners, "/repo-", pc.cast(numbers, pa.string()), "")


def rss_mb() -> float:
    import pyarrow as pa

    # What Arrow's allocator still keeps of freed buffers (reading the Parquet file) is handed back first.
    pa.default_memory_pool().release_unused()
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024


def timed(function, *arguments):
    # CPU seconds of this process: on a shared 2-core machine they hold still where wall time does not.
    started = time.process_time()
    result = function(*arguments)
    return result, time.process_time() - started


def sorted_distinct(keys):
    import pyarrow.compute as pc

    distinct = pc.unique(keys)
    return pc.take(distinct, pc.sort_indices(distinct))


def per_second(count: int, seconds: float) -> int:
    return round(count / seconds) if seconds else 0


# --- the figures ---------------------------------------------------------------------------------------------


def blob_figures(workdir: Path, keys: int, probes: int) -> dict:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from exclusions.membership import blob_keys
    from releases.fuse import fuse_build

    ids = hex_ids(keys)
    ids = pc.take(ids, pc.sort_indices(ids))
    pq.write_table(pa.table({"blob_id": ids}), workdir / "blobs.parquet", compression="zstd")
    (shaped, blob_key_array), key_seconds = timed(blob_keys, ids)
    distinct, distinct_seconds = timed(sorted_distinct, blob_key_array)
    strangers = hex_ids(probes)
    stranger_keys = blob_keys(strangers)[1]
    # Batches as a shard brings them: 2% of rows carry a listed id.
    generator = random.Random(1)
    rows = strangers.slice(0, min(probes, 40 * BATCH)).to_pylist()
    for index in range(0, len(rows), 50):
        rows[index] = ids[generator.randrange(keys)].as_py()
    batches = [pa.array(rows[start : start + BATCH]) for start in range(0, len(rows), BATCH)]
    figures = {"keys": keys, "distinct_keys": len(distinct), "key_seconds": round(key_seconds + distinct_seconds, 2)}
    for bits in (16, 8):
        figures[f"fuse{bits}"] = filter_figures(distinct, bits, ids, stranger_keys, batches)
    (workdir / "blobs.fuse16").write_bytes(fuse_build(distinct).to_bytes())  # what the memory child holds
    figures["exact_sorted_ids_bytes"] = ids.nbytes
    figures["arrow_is_in"] = arrow_is_in_speed(ids, batches)
    figures["python_set"] = python_set_speed(ids, rows[:1_000_000])
    return figures


def filter_figures(distinct, bits: int, ids, stranger_keys, batches) -> dict:
    import pyarrow.compute as pc

    from exclusions.membership import BlobMembership
    from releases.fuse import fuse_build

    membership, build_seconds = timed(lambda: fuse_build(distinct, bits=bits))
    size = len(membership.to_bytes())
    hits, lookup_seconds = timed(membership.contains_keys, stranger_keys)
    false_positives = pc.sum(hits).as_py()
    sample = stranger_keys.slice(0, 300_000).to_pylist()
    _answers, scalar_seconds = timed(lambda: [membership.contains_key(key) for key in sample])
    exact = BlobMembership(membership, ids)
    found, listed_seconds = timed(lambda: sum(pc.sum(exact.listed(batch)).as_py() or 0 for batch in batches))
    rows_in = sum(len(batch) for batch in batches)
    sample_ids = batches[0].to_pylist() * 2
    _answers, is_listed_seconds = timed(lambda: [exact.is_listed(blob) for blob in sample_ids])
    return {
        "build_seconds": round(build_seconds, 2),
        "file_bytes": size,
        "bits_per_key": round(8 * size / len(distinct), 3),
        "false_positive_rate": false_positives / len(stranger_keys),
        "false_positives": false_positives,
        "contains_keys_per_second": per_second(len(stranger_keys), lookup_seconds),
        "contains_key_per_second_python": per_second(len(sample), scalar_seconds),
        "listed_rows_per_second_exact": per_second(rows_in, listed_seconds),
        "listed_rows_found": found,
        "is_listed_per_second_python": per_second(len(sample_ids), is_listed_seconds),
    }


def arrow_is_in_speed(ids, batches) -> dict:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    schema = pa.schema([("blob", pa.string())])
    # The hash set is built when the Scanner binds its projection or before the first verdict comes out; the
    # probes are timed from there, in the same scan.
    started, first, found, after_first = time.process_time(), None, 0, 0
    scanner = ds.Scanner.from_batches(
        (pa.record_batch([batch], schema=schema) for batch in batches),
        schema=schema,
        columns={"hit": pc.is_in(pc.field("blob"), value_set=ids)},
        use_threads=False,
    )
    for verdict in scanner.to_batches():
        if first is None:
            first = time.process_time()
        else:
            after_first += verdict.num_rows
        found += pc.sum(verdict.column(0)).as_py() or 0
    ended = time.process_time()
    return {
        "build_seconds": round(first - started, 2),
        "probe_rows_per_second": per_second(after_first, ended - first),
        "rows_found": found,
    }


def python_set_speed(ids, probes: list[str]) -> dict:
    exact, build_seconds = timed(lambda: frozenset(ids.to_pylist()))
    _answers, seconds = timed(lambda: [blob in exact for blob in probes])
    return {"build_seconds": round(build_seconds, 2), "in_per_second": per_second(len(probes), seconds)}


def name_figures(workdir: Path, keys: int, probes: int) -> dict:
    import pyarrow as pa
    import pyarrow.compute as pc

    from exclusions.membership import repository_key
    from releases.fuse import fuse_build

    names = repository_names(keys).to_pylist()
    key_list, key_seconds = timed(lambda: [repository_key(name) for name in names])
    distinct, distinct_seconds = timed(sorted_distinct, pa.array(key_list, pa.uint64()))
    del key_list
    strangers = repository_names(probes, prefix="github.com/stranger-").to_pylist()
    stranger_keys = pa.array([repository_key(name) for name in strangers], pa.uint64())
    membership, build_seconds = timed(fuse_build, distinct)
    (workdir / "names.fuse16").write_bytes(membership.to_bytes())
    hits = pc.sum(membership.contains_keys(stranger_keys)).as_py()
    sample = strangers[:300_000]
    _answers, scalar_seconds = timed(lambda: [membership.contains_key(repository_key(name)) for name in sample])
    exact, set_seconds = timed(frozenset, names)
    _answers, in_seconds = timed(lambda: [name in exact for name in sample])
    return {
        "keys": keys,
        "key_seconds": round(key_seconds + distinct_seconds, 2),
        "fuse16": {
            "build_seconds": round(build_seconds, 2),
            "file_bytes": len(membership.to_bytes()),
            "bits_per_key": round(8 * len(membership.to_bytes()) / len(distinct), 3),
            "false_positive_rate": hits / probes,
            "false_positives": hits,
            "probes": probes,
            "key_and_contains_key_per_second_python": per_second(len(sample), scalar_seconds),
        },
        "python_set": {"build_seconds": round(set_seconds, 2), "in_per_second": per_second(len(sample), in_seconds)},
        "names_arrow_bytes": repository_names(keys).nbytes,
    }


# --- memory, each in a child: python bench/fuse.py --child NAME WORKDIR KEYS ---------------------------------


def child(name: str, workdir: Path, keys: int) -> dict:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from exclusions.membership import BlobMembership, MembershipFilter

    before = rss_mb()
    held = []
    if name.startswith("blob_"):
        ids = pq.read_table(workdir / "blobs.parquet").column(0).combine_chunks()
        if name == "blob_filter":  # the filter and the sorted ids, as Release.blob_membership holds them
            content = (workdir / "blobs.fuse16").read_bytes()
            held.append(BlobMembership(MembershipFilter.from_bytes(content), ids))
        elif name == "blob_python_set":
            held.append(frozenset(ids.to_pylist()))
            del ids
        elif name == "blob_arrow_is_in":
            measured = {}
            schema = pa.schema([("blob", pa.string())])
            probe = pa.record_batch([ids.slice(0, 16)], schema=schema)

            def probes():
                yield probe
                measured["rss"] = rss_mb()  # the first batch went through: the hash set is built
                yield probe

            scanner = ds.Scanner.from_batches(
                probes(), schema=schema, columns={"hit": pc.is_in(pc.field("blob"), value_set=ids)}, use_threads=False
            )
            for _batch in scanner.to_batches():
                pass
            return {"rss_growth_mb": round(measured["rss"] - before, 1)}
    elif name == "name_python_set":
        held.append(frozenset(repository_names(keys).to_pylist()))
    elif name == "name_filter":  # the filter alone: what answers "certainly not" for names
        held.append(MembershipFilter.from_bytes((workdir / "names.fuse16").read_bytes()))
    return {
        "rss_growth_mb": round(rss_mb() - before, 1),
        "arrow_allocated_mb": round(pa.total_allocated_bytes() / 2**20, 1),
    }


def memory(workdir: Path, keys: int) -> dict:
    results = {}
    for name in ("blob_filter", "blob_python_set", "blob_arrow_is_in", "name_filter", "name_python_set"):
        command = [sys.executable, __file__, "--child", name, str(workdir), str(keys)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=10_000_000)
    parser.add_argument("--probes", type=int, default=10_000_000, help="keys that are not listed, for the FP rate")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-fuse"))
    parser.add_argument("--child", nargs=3, metavar=("NAME", "WORKDIR", "KEYS"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        name, workdir, keys = arguments.child
        print(json.dumps(child(name, Path(workdir), int(keys))))
        return
    arguments.workdir.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    blobs = blob_figures(arguments.workdir, arguments.keys, arguments.probes)
    names = name_figures(arguments.workdir, arguments.keys, arguments.probes)
    held = memory(arguments.workdir, arguments.keys)
    print(
        json.dumps(
            {
                "keys": arguments.keys,
                "probes": arguments.probes,
                "cpus": os.cpu_count(),
                "loadavg_start": [round(value, 2) for value in load_start],
                "loadavg_end": [round(value, 2) for value in os.getloadavg()],
                "blob_ids": blobs,
                "repository_names": names,
                "memory": held,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
