"""Benchmark: license scans of one real repository, side by side with the scancode CLI.

The repository is the Django source of the installed package (`django/` from site-packages, plus
the LICENSE files of its dist-info at the root), committed into a fresh git repository on disk.
One run prints one JSON object with:

(a) time to a verdict: a non-deep `scan_repository` in this process with the license index already
    loaded (as a worker has it) and an empty blob cache, vs `scancode -l -n 2` over the whole tree
    (goal ≥ 100×);
(b) a rescan of the unchanged repository vs its first scan (goal ≥ 50×), both ways it can happen:
    `head_check` — scan_repository sees the head is the commit of the latest verdict and reuses it;
    `forced_pass` — a new Scan run through every pipeline step, where every blob is found cached;
    for the non-deep scan of (a) and the deep scan of (d);
(c) a fork (a second repository: the same tree with 5% of its text files changed) scanned --deep
    after the original's deep scan, vs the fork's own first deep scan with an empty blob cache
    (goal ≥ 10×); both through the worker;
(d) a --deep scan through a real Celery worker (prefork, --concurrency 2, Redis, PostgreSQL), queued
    with scan_request with an empty blob cache, vs `scancode -l -n 2` (goal ≤ 1.1× its time);
(e) peak memory of the worker during (d): PSS (/proc/PID/smaps_rollup) of the parent plus its pool
    children, summed per sample (goal < 2 GB; the index is loaded before the fork and shared).

A whole-Django run takes about 80 minutes on 2 cores (three full deep passes of ~25 minutes each:
scancode CLI, (d) and the fork's cold scan); `--subset django/contrib/admin` runs on part of the
tree, `--skip-fork-cold` leaves out the fork's cold scan (then (c) compares with the original's
cold deep scan, labelled so).
Uses its own database, data directory, Redis db and queue, all removed at the end.

    .venv/bin/python bench/scan.py [--subset django/contrib/admin] [--skip-fork-cold]
"""

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from common import ROOT, scratch_database

GOAL_VERDICT_RATIO = 100
GOAL_RESCAN_RATIO = 50
GOAL_FORK_RATIO = 10
GOAL_DEEP_TO_CLI = 1.1
GOAL_WORKER_PSS_MB = 2048
FORK_CHANGED_SHARE = 0.05
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")


def django_tree(into: Path, subset: str) -> int:
    """Copy the installed Django (or `subset` of it, a path starting with django/) and its licenses into `into`."""
    import django

    package = Path(django.__file__).resolve().parent
    source = package.parent / subset if subset else package
    if not source.is_dir() or package not in (source, *source.parents):
        raise SystemExit(f"--subset {subset!r} is not a folder of the installed django package")
    target = into / source.relative_to(package.parent)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    licenses = next(package.parent.glob(f"django-{django.__version__}.dist-info")) / "licenses"
    for name in ("LICENSE", "LICENSE.python"):
        shutil.copy(licenses / name, into / name)
    return sum(1 for path in into.rglob("*") if path.is_file())


def git_commit(path: Path, message: str) -> str:
    environment = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.org"}
    environment |= {"GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}
    if not (path / ".git").exists():
        subprocess.run(["git", "init", "-q", "--initial-branch=main"], cwd=path, check=True)
    subprocess.run(["git", "add", "--all"], cwd=path, check=True, env=environment)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=path, check=True, env=environment)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, check=True, capture_output=True, text=True).stdout


def fork_with_changes(original: Path, fork: Path, share: float) -> int:
    """A copy of the original repository's files with `share` of its text files (not the root licenses) changed."""
    shutil.copytree(original, fork, ignore=shutil.ignore_patterns(".git"))
    texts = sorted(
        path
        for path in fork.rglob("*")
        if path.is_file() and path.parent != fork and b"\0" not in path.read_bytes()[:8000]
    )
    total = sum(1 for path in fork.rglob("*") if path.is_file())
    changed = random.Random(5).sample(texts, max(1, round(total * share)))
    for number, path in enumerate(changed):
        with path.open("ab") as file:
            file.write(f"\n# changed in the fork ({number})\n".encode())
    git_commit(fork, "fork")
    return len(changed)


def process_family(parent: int) -> list[int]:
    """`parent` and its direct children (a Celery worker's pool, scancode's pool)."""
    children = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.append(int(entry.name))
    return [parent, *children]


def memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process, in kB; zeros when it is gone."""
    values = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                name, _, rest = line.partition(":")
                if name in ("Pss", "Rss"):
                    values[name] = int(rest.split()[0])
    except OSError:
        return 0, 0
    return values.get("Pss", 0), values.get("Rss", 0)


def cpu_seconds(pids: list[int]) -> float:
    """user + system CPU of these processes and of the children they have reaped, in seconds."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class MemorySampler:
    """Samples the summed PSS (and RSS) of a process and its direct children until stopped.

    Reading smaps_rollup of a process holding scancode's index costs tens of milliseconds of kernel time,
    so sampling every 2 s keeps the sampler itself out of the timings (the index makes memory flat anyway).
    """

    def __init__(self, parent: int, interval: float = 2.0):
        self.parent = parent
        self.interval = interval
        self.peak_pss_kb = 0
        self.peak_rss_kb = 0
        self.peak_processes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            family = process_family(self.parent)
            measured = [memory_kb(pid) for pid in family]
            pss = sum(value[0] for value in measured)
            if pss > self.peak_pss_kb:
                self.peak_pss_kb = pss
                self.peak_rss_kb = sum(value[1] for value in measured)
                self.peak_processes = sum(1 for value in measured if value[0])
            self.samples += 1
            self._stop.wait(self.interval)

    def report(self) -> dict:
        return {
            "peak_pss_mb": round(self.peak_pss_kb / 1024, 1),
            "rss_mb_at_that_sample": round(self.peak_rss_kb / 1024, 1),
            "processes_at_that_sample": self.peak_processes,
            "samples": self.samples,
        }


def scancode_cli(tree: Path, output: Path) -> dict:
    """`scancode -l -n 2 --json-pp OUT TREE`, timed, with the peak PSS of its processes."""
    command = [str(ROOT / ".venv/bin/scancode"), "-l", "-n", "2", "--quiet", "--json-pp", str(output), str(tree)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    mine = resource.getrusage(resource.RUSAGE_SELF)
    busy = machine_busy_seconds()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with MemorySampler(process.pid) as sampler:
        _, errors = process.communicate()
    seconds = time.perf_counter() - started
    busy = machine_busy_seconds() - busy
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    sampling = resource.getrusage(resource.RUSAGE_SELF)
    sampling = sampling.ru_utime + sampling.ru_stime - mine.ru_utime - mine.ru_stime
    if process.returncode != 0:
        raise SystemExit(f"scancode failed ({process.returncode}):\n{errors.decode()[-3000:]}")
    header = json.loads(output.read_text())["headers"][0]
    files = [entry for entry in json.loads(output.read_text())["files"] if entry["type"] == "file"]
    return {
        "command": "scancode -l -n 2 --json-pp OUT TREE",
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "other_processes_cpu_seconds": round(max(0.0, busy - cpu - sampling), 1),
        "files": len(files),
        "files_with_errors": sum(1 for entry in files if entry.get("scan_errors")),
        "scancode_duration_seconds": round(header.get("duration", 0.0), 1),
        "memory": sampler.report(),
    }


def scan_summary(scan, seconds: float) -> dict:
    """What one finished scan did, and how much of its time scancode itself took."""
    from django.db.models import Count, Q, Sum

    from audits.models import BlobFinding, ScanFile

    scanned_blobs = BlobFinding.objects.filter(
        scanner_version=scan.scanner_version,
        blob_id__in=ScanFile.objects.filter(scan=scan).values("blob_id"),
        created_at__gte=scan.started_at,
    ).aggregate(seconds=Sum("seconds"), timed_out=Count("pk", filter=Q(timed_out=True)))
    verdict = getattr(scan, "verdict", None)
    return {
        "seconds": round(seconds, 3),
        "status": scan.status,
        "error": scan.error,
        "files_total": scan.files_total,
        "files_to_scan": scan.files_to_scan,
        "files_scanned": scan.files_scanned,
        "files_reused": scan.files_reused,
        "files_skipped": scan.files_skipped,
        "scancode_cpu_seconds": round(scanned_blobs["seconds"] or 0.0, 1),
        "files_timed_out": scanned_blobs["timed_out"],
        "classification": verdict.classification if verdict else None,
        "declared_license": verdict.declared_license if verdict else None,
    }


def inline_scan(source: Path, *, deep: bool) -> tuple[dict, bool]:
    """`scan_repository` as the command runs it; (summary, whether the verdict was reused)."""
    from audits.services import scan_repository

    started = time.perf_counter()
    outcome = scan_repository(source=str(source), deep=deep, requested_by="bench")
    seconds = time.perf_counter() - started
    if outcome.reused_verdict:  # the counts would be those of the earlier scan whose verdict stands
        return {"seconds": round(seconds, 3), "verdict_of_scan": outcome.scan.pk}, True
    return scan_summary(outcome.scan, seconds), False


def forced_pass(source: Path, *, deep: bool) -> dict:
    """A new Scan of the repository run through every step in this process, with no head-check shortcut."""
    from audits.models import Scan
    from audits.services import _repository_from_source, scan_run

    started = time.perf_counter()
    scan = Scan.objects.create(repository=_repository_from_source(str(source)), deep=deep, requested_by="bench")
    scan = scan_run(scan_id=scan.pk)
    return scan_summary(scan, time.perf_counter() - started)


def worker_scan(source: Path, *, deep: bool, worker_pid: int, timeout: float) -> dict:
    """Queue a scan with scan_request, let the worker run it, poll its row; with the worker's peak memory."""
    from audits.models import Scan
    from audits.services import _repository_from_source, scan_request

    repository = _repository_from_source(str(source))
    cpu = cpu_seconds(process_family(worker_pid))
    busy = machine_busy_seconds()
    mine = resource.getrusage(resource.RUSAGE_SELF)
    with MemorySampler(worker_pid) as sampler:
        started = time.perf_counter()
        scan = scan_request(repository=repository, deep=deep, requested_by="bench")
        while True:
            scan.refresh_from_db()
            if scan.status in (Scan.Status.DONE, Scan.Status.FAILED):
                break
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"scan {scan.pk} was not done after {timeout:g} s: {scan.step}, {scan.files_done}")
            time.sleep(0.2)
        seconds = time.perf_counter() - started
    cpu = cpu_seconds(process_family(worker_pid)) - cpu
    busy = machine_busy_seconds() - busy
    polling = resource.getrusage(resource.RUSAGE_SELF)
    polling = polling.ru_utime + polling.ru_stime - mine.ru_utime - mine.ru_stime
    scan = Scan.objects.select_related("verdict").get(pk=scan.pk)
    summary = scan_summary(scan, seconds)
    summary["worker_cpu_seconds"] = round(cpu, 1)
    # What else ran meanwhile (this process's polling and memory sampling included): a loaded machine shows here.
    summary["other_processes_cpu_seconds"] = round(max(0.0, busy - cpu - polling), 1)
    summary["chunks"] = scan.chunks.count()
    summary["worker_memory"] = sampler.report()
    return summary


def blob_cache_empty() -> int:
    from audits.models import BlobFinding

    deleted, _ = BlobFinding.objects.all().delete()
    return deleted


def worker_start(environment: dict, queue: str, log_path: Path) -> subprocess.Popen:
    from governance.celery import app

    node = f"{queue}@localhost"
    # The default queue and the scan queue (SCANS_QUEUE, set in main), like the Procfile's worker and scans.
    command = [sys.executable, "-m", "celery", "-A", "governance", "worker", "-Q", f"{queue},{queue}-scans"]
    command += ["-n", node]
    command += ["--pool", "prefork", "--concurrency", "2", "--loglevel", "WARNING", "--without-gossip"]
    command += ["--without-mingle", "--without-heartbeat"]
    log = log_path.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not app.control.ping(destination=[node], timeout=1):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the worker did not start:\n{log_path.read_text()[-3000:]}")
    return process


def progress(stage: str, **figures) -> None:
    """One line on stderr as each stage ends, so a long run can be followed (and read if it is cut short)."""
    print(json.dumps({"stage": stage, **figures}, default=str), file=sys.stderr, flush=True)


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 2) if denominator else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", default="", help="a folder of the package, e.g. django/contrib/admin")
    parser.add_argument("--skip-fork-cold", action="store_true", help="leave out the fork's own cold deep scan")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for one worker scan")
    arguments = parser.parse_args()
    subset = arguments.subset.strip("/")
    if subset and not subset.startswith("django"):
        subset = f"django/{subset}"
    queue = f"bench-scan-{uuid.uuid4().hex[:8]}"
    result: dict = {"benchmark": "scan", "subset": subset or "django", "cpu_count": os.cpu_count()}

    with tempfile.TemporaryDirectory(prefix="bench-scan-") as folder:
        folder = Path(folder)
        original, fork, tree = folder / "django-original", folder / "django-fork", folder / "tree"
        original.mkdir()
        result["files_in_tree"] = django_tree(original, subset)
        git_commit(original, "django")
        result["fork_files_changed"] = fork_with_changes(original, fork, FORK_CHANGED_SHARE)
        shutil.copytree(original, tree, ignore=shutil.ignore_patterns(".git"))

        variables = {
            "CELERY_BROKER_URL": BROKER_URL,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "SCANS_QUEUE": f"{queue}-scans",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "AUDITS_PRELOAD_INDEX": "1",
        }
        data_dir = folder / "data"
        with scratch_database("governance_bench_scan", str(data_dir), **variables) as environment:
            os.environ.update(environment)
            os.environ["DJANGO_SETTINGS_MODULE"] = "governance.settings"
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
            from audits import scancode

            worker = worker_start(environment, queue, folder / "worker.log")
            try:
                result["worker"] = {
                    "pool": "prefork",
                    "concurrency": 2,
                    "idle_memory": {"pss_mb": round(sum(memory_kb(p)[0] for p in process_family(worker.pid)) / 1024)},
                }
                started = time.perf_counter()
                scancode.index_load()
                result["index_load_seconds_in_this_process"] = round(time.perf_counter() - started, 2)

                # (a) and (b), the non-deep scan, in this process as `manage.py scan_repository` runs it.
                first, _ = inline_scan(original, deep=False)
                head_check, reused = inline_scan(original, deep=False)
                forced = forced_pass(original, deep=False)
                progress("non-deep scans", first=first, head_check=head_check, forced_pass=forced)
                cli = scancode_cli(tree, folder / "scancode.json")
                result["scancode_cli"] = cli
                progress("scancode_cli", **cli)
                result["a_time_to_verdict"] = {
                    "how": "scan_repository(deep=False) in this process, index loaded, empty blob cache",
                    "scan": first,
                    "scancode_cli_seconds": cli["seconds"],
                    "ratio_cli_to_verdict": ratio(cli["seconds"], first["seconds"]),
                    "goal_ratio_at_least": GOAL_VERDICT_RATIO,
                }

                # (d) and (e): the deep scan, through the worker, with an empty blob cache.
                cleared = blob_cache_empty()
                deep = worker_scan(original, deep=True, worker_pid=worker.pid, timeout=arguments.timeout)
                result["d_deep_scan"] = {
                    "how": "scan_request(deep=True) through the Celery worker (2 prefork children), empty blob cache",
                    "findings_cleared_before": cleared,
                    "scan": deep,
                    "scancode_cli_seconds": cli["seconds"],
                    "ratio_to_cli": ratio(deep["seconds"], cli["seconds"]),
                    "ratio_cpu_to_cli_cpu": ratio(deep["worker_cpu_seconds"], cli["cpu_seconds"]),
                    "goal_ratio_at_most": GOAL_DEEP_TO_CLI,
                }
                progress("d_deep_scan", **deep)
                result["e_worker_memory"] = {
                    "how": "sum of PSS of the worker's parent and pool children, sampled every 2 s during (d)",
                    **deep["worker_memory"],
                    "goal_peak_pss_mb_below": GOAL_WORKER_PSS_MB,
                    "scancode_cli_peak_pss_mb": cli["memory"]["peak_pss_mb"],
                }

                deep_head_check, deep_reused = inline_scan(original, deep=True)
                deep_forced = forced_pass(original, deep=True)
                result["b_rescan_unchanged"] = {
                    "head_check": {
                        "how": "scan_repository again: the head is the latest verdict's commit, the verdict is reused",
                        "non_deep": {**head_check, "reused_verdict": reused},
                        "ratio_non_deep": ratio(first["seconds"], head_check["seconds"]),
                        "deep": {**deep_head_check, "reused_verdict": deep_reused},
                        "ratio_deep": ratio(deep["seconds"], deep_head_check["seconds"]),
                    },
                    "forced_pass": {
                        "how": "a new Scan through every step (fetch, list, select, plan, chunks, verdict) in this "
                        "process; every blob found cached",
                        "non_deep": forced,
                        "ratio_non_deep": ratio(first["seconds"], forced["seconds"]),
                        "deep": deep_forced,
                        "ratio_deep": ratio(deep["seconds"], deep_forced["seconds"]),
                    },
                    "goal_ratio_at_least": GOAL_RESCAN_RATIO,
                }

                # (c): the fork after the original, then the fork alone with an empty cache.
                fork_after = worker_scan(fork, deep=True, worker_pid=worker.pid, timeout=arguments.timeout)
                progress("fork after original", **fork_after)
                if arguments.skip_fork_cold:
                    fork_cold = None
                    cold_seconds = deep["seconds"]
                    cold_how = "NOT MEASURED (--skip-fork-cold): the original's cold deep scan (d) stands in"
                else:
                    blob_cache_empty()
                    fork_cold = worker_scan(fork, deep=True, worker_pid=worker.pid, timeout=arguments.timeout)
                    cold_seconds = fork_cold["seconds"]
                    cold_how = "the fork's own deep scan through the worker after emptying the blob cache"
                result["c_fork"] = {
                    "files_changed": result["fork_files_changed"],
                    "after_original": fork_after,
                    "cold": fork_cold,
                    "cold_how": cold_how,
                    "ratio_cold_to_after_original": ratio(cold_seconds, fork_after["seconds"]),
                    "goal_ratio_at_least": GOAL_FORK_RATIO,
                }
                result["goals_met"] = {
                    "a_verdict_vs_cli": result["a_time_to_verdict"]["ratio_cli_to_verdict"] >= GOAL_VERDICT_RATIO,
                    "b_rescan_head_check": result["b_rescan_unchanged"]["head_check"]["ratio_non_deep"]
                    >= GOAL_RESCAN_RATIO,
                    "b_rescan_forced_pass_non_deep": result["b_rescan_unchanged"]["forced_pass"]["ratio_non_deep"]
                    >= GOAL_RESCAN_RATIO,
                    "b_rescan_forced_pass_deep": result["b_rescan_unchanged"]["forced_pass"]["ratio_deep"]
                    >= GOAL_RESCAN_RATIO,
                    "c_fork": result["c_fork"]["ratio_cold_to_after_original"] >= GOAL_FORK_RATIO,
                    "d_deep_vs_cli": result["d_deep_scan"]["ratio_to_cli"] <= GOAL_DEEP_TO_CLI,
                    "e_worker_memory": result["e_worker_memory"]["peak_pss_mb"] < GOAL_WORKER_PSS_MB,
                }
            finally:
                worker.terminate()
                try:
                    worker.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
                from django.db import connections

                connections.close_all()
                import redis

                broker = redis.Redis.from_url(BROKER_URL)
                for key in broker.scan_iter(f"*{queue}*"):
                    broker.delete(key)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
