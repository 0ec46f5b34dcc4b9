"""Benchmark: the pipeline API and publication with a registry of production size, side by side with PostgreSQL.

With N active exclusions (a tenth of them namespaces) and B blob ids of excluded repositories in PostgreSQL:
(a) POST check/ with 10,000 entries: p50/p95 latency, and the ratio to a raw SQL lookup of the same names
    (repository → exclusion, as one would write it against the registry's tables, with a covering index
    of its own); beside it, the names alone against the check's own lookup index, the floor;
(b) publishing a release: seconds and peak memory, and the ratio to `COPY … TO` of the same rows;
(c) single-repository checks from wrk on loopback (50 connections) against gunicorn with 2 workers.

    .venv/bin/python bench/api.py [--exclusions 1000000] [--blobs 10000000] [--seconds 15] [--license-exclusions 0]
"""

import argparse
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from common import ROOT, percentile, scratch_database

POPULATE = """
INSERT INTO governance_dataset (slug, name, description, allowed_categories, allowed_licenses, denied_licenses,
    no_license, publish_every_hours, created_at)
VALUES ('bench', 'Bench', '', '[]', '[]', '[]', 'include', 0, now());
INSERT INTO optout_optoutrequest (origin, email, scope, namespace, all_datasets, reason, state, proof_token,
    reinclusion_token, submitted_ip_hash, created_at)
VALUES ('administrative', '', 'repositories', '', true, 'bench', 'active', 'bench-token', '', '', now());
INSERT INTO governance_repository (canonical, host, namespace, clone_url, created_at)
SELECT 'github.com/owner-' || mod(g, %(owners)s) || '/repo-' || g, 'github.com',
       'github.com/owner-' || mod(g, %(owners)s),
       'https://github.com/owner-' || mod(g, %(owners)s) || '/repo-' || g || '.git', now()
FROM generate_series(1, %(repositories)s) AS g;
INSERT INTO optout_exclusion (scope, repository_id, namespace, target, reasons, dataset_id, since, revoked_at)
SELECT 'repository', id, '', canonical, 'opt-out', NULL, now(), NULL FROM governance_repository;
INSERT INTO optout_exclusion (scope, repository_id, namespace, target, reasons, dataset_id, since, revoked_at)
SELECT 'namespace', NULL, 'github.com/excluded-owner-' || g, 'github.com/excluded-owner-' || g, 'opt-out', NULL,
       now(), NULL
FROM generate_series(1, %(namespaces)s) AS g;
INSERT INTO optout_exclusionsource (exclusion_id, request_id, reason, created_at, revoked_at)
SELECT e.id, r.id, 'opt-out', now(), NULL FROM optout_exclusion e, optout_optoutrequest r;
INSERT INTO governance_repositoryblob (repository_id, blob_id, size)
SELECT r.id + 0 * g, md5(r.id::text || '-' || g) || substr(md5(g::text), 1, 8), 100
FROM governance_repository r, generate_series(1, %(blobs_per_repository)s) AS g;
VACUUM ANALYZE;
"""
# Repositories the dataset's license policy excludes (one scan, verdict and decision each), as in an audited
# dataset: the check then also looks its names up in the repository table.
LICENSE_EXCLUSIONS = """
INSERT INTO audits_scan (ref, deep, commit, status, step, files_total, files_to_scan, files_done, files_scanned,
    files_reused, files_skipped, scanner_version, index_fingerprint, error, requested_by, created_at, repository_id,
    starts)
SELECT '', false, md5(id::text), 'done', 'done', 0, 0, 0, 0, 0, '{}', 'bench', '', '', '', now(), id, 1
FROM governance_repository WHERE id %% %(every)s = 0;
INSERT INTO audits_verdict (commit, declared_license, effective_license, detected_licenses, classification,
    uncertainties, conflicts, notes, evidence, evidence_digest, deep, created_at, repository_id, scan_id)
SELECT s.commit, 'GPL-3.0-only', 'GPL-3.0-only', '["GPL-3.0-only"]', 'copyleft', '[]', '[]', '[]', '[]',
       md5(s.id::text), false, now(), s.repository_id, s.id
FROM audits_scan s;
INSERT INTO audits_datasetdecision (computed, decision, reasons, since, updated_at, dataset_id, repository_id,
    target, verdict_id)
SELECT 'exclude', 'exclude', '[]', now(), now(), d.id, v.repository_id, r.canonical, v.id
FROM audits_verdict v JOIN governance_repository r ON r.id = v.repository_id, governance_dataset d
WHERE d.slug = 'bench';
VACUUM ANALYZE;
"""


def populate(database_url: str, exclusions: int, blobs: int, license_exclusions: int = 0) -> float:
    namespaces = exclusions // 10
    repositories = exclusions - namespaces
    started = time.perf_counter()
    sql = POPULATE % {
        "owners": max(1, repositories // 9),
        "repositories": repositories,
        "namespaces": namespaces,
        "blobs_per_repository": max(1, blobs // repositories),
    }
    if license_exclusions:
        sql += LICENSE_EXCLUSIONS % {"every": max(1, repositories // license_exclusions)}
    with psycopg.connect(database_url, autocommit=True) as connection:
        for statement in sql.split(";\n"):
            if statement.strip():
                connection.execute(statement)
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url_port: int) -> None:
    for _ in range(100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", url_port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exclusions", type=int, default=1_000_000)
    parser.add_argument("--blobs", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=int, default=15, help="duration of the wrk run")
    parser.add_argument("--checks", type=int, default=60, help="10,000-entry check calls to time")
    parser.add_argument(
        "--license-exclusions", type=int, default=0, help="repositories the dataset's license policy excludes"
    )
    arguments = parser.parse_args()
    result: dict = {
        "benchmark": "api",
        "exclusions": arguments.exclusions,
        "license_exclusions": arguments.license_exclusions,
        "cpu_count": os.cpu_count(),
    }

    variables = {
        "API_ANONYMOUS_RATE": "100000000/min",
        "GOVERNANCE_SIGNING_KEY_AUTOCREATE": "1",
        # Measured as production runs: no debug bookkeeping.
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-bench-only-secret-key-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    with tempfile.TemporaryDirectory() as folder, scratch_database("governance_bench_api", folder, **variables) as env:
        result["populate_seconds"] = round(
            populate(env["DATABASE_URL"], arguments.exclusions, arguments.blobs, arguments.license_exclusions), 1
        )
        repositories = arguments.exclusions - arguments.exclusions // 10
        generator = random.Random(3)
        names = [
            f"github.com/owner-{n % max(1, repositories // 9)}/repo-{n}"
            for n in generator.sample(range(1, repositories + 1), 9_000)
        ]
        names += [
            f"github.com/excluded-owner-{generator.randint(1, arguments.exclusions // 10)}/anything-{n}"
            for n in range(500)
        ]
        names += [f"github.com/nobody/unknown-{n}" for n in range(500)]
        body = json.dumps({"repositories": names}).encode()

        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "governance.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        try:
            wait_for(port)
            import urllib.request

            def check() -> float:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/datasets/bench/check/",
                    data=body,
                    headers={"Content-Type": "application/json"},
                    method="POST",
                )
                started = time.perf_counter()
                with urllib.request.urlopen(request, timeout=120) as response:
                    answer = json.loads(response.read())
                assert len(answer["results"]) == len(names)
                return time.perf_counter() - started

            for _ in range(4):  # warm both workers (each answers its first call with cold caches)
                check()
            latencies = [check() for _ in range(arguments.checks)]
            with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
                # The baseline gets the index it wants (the portal's own indexes compare bytes), so that it is
                # the best plain lookup: without it the same statement took ~150 ms instead of ~90 ms.
                connection.execute(
                    "CREATE INDEX IF NOT EXISTS bench_repository_canonical ON governance_repository (canonical) "
                    "INCLUDE (id)"
                )
                connection.execute("VACUUM ANALYZE governance_repository")
                sql_times, one_index_times = [], []
                for _ in range(arguments.checks):
                    started = time.perf_counter()
                    connection.execute(
                        "SELECT r.canonical FROM governance_repository r "
                        "JOIN optout_exclusion e ON e.repository_id = r.id "
                        "WHERE r.canonical = ANY(%s) AND e.revoked_at IS NULL",
                        (names,),
                    ).fetchall()
                    sql_times.append(time.perf_counter() - started)
                    # The floor: the names alone against the check's own lookup index (no namespaces, no
                    # reasons, no license exclusions), for reading the ratio above.
                    started = time.perf_counter()
                    connection.execute(
                        'SELECT target FROM optout_exclusion WHERE (target COLLATE "C") = ANY(%s) '
                        "AND revoked_at IS NULL",
                        (names,),
                    ).fetchall()
                    one_index_times.append(time.perf_counter() - started)
            result["check_10000"] = {
                "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
                "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
                "max_ms": round(max(latencies) * 1000, 1),
                "calls": len(latencies),
                "raw_sql_p50_ms": round(percentile(sql_times, 0.5) * 1000, 1),
                "raw_sql_p95_ms": round(percentile(sql_times, 0.95) * 1000, 1),
                "ratio_to_raw_sql": round(percentile(latencies, 0.5) / percentile(sql_times, 0.5), 2),
                "one_index_sql_p50_ms": round(percentile(one_index_times, 0.5) * 1000, 1),
                "goal": {"p95_ms": 300, "ratio_to_raw_sql": 2},
            }

            if shutil.which("wrk"):
                script = Path(folder) / "check.lua"
                script.write_text(
                    'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                    f'wrk.body = \'{{"repositories": ["{names[0]}"]}}\'\n'
                )
                output = subprocess.run(
                    [
                        "wrk",
                        "-t",
                        "2",
                        "-c",
                        "50",
                        "-d",
                        f"{arguments.seconds}s",
                        "--latency",
                        "-s",
                        str(script),
                        f"http://127.0.0.1:{port}/api/v1/datasets/bench/check/",
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                requests_per_second = float(output.split("Requests/sec:")[1].split()[0])
                p99 = output.split("99%")[1].split()[0]
                result["single_check_under_load"] = {
                    "connections": 50,
                    "gunicorn_workers": 2,
                    "requests_per_second": requests_per_second,
                    "p99": p99,
                }
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        published = subprocess.run(
            [sys.executable, "manage.py", "publish_release", "bench", "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        publish_seconds = time.perf_counter() - started
        peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
        with psycopg.connect(env["DATABASE_URL"]) as connection:
            started = time.perf_counter()
            with connection.cursor().copy(
                "COPY (SELECT COALESCE(r.canonical, e.namespace), e.scope, s.reason, e.since FROM optout_exclusion e "
                "LEFT JOIN governance_repository r ON r.id = e.repository_id JOIN optout_exclusionsource s "
                "ON s.exclusion_id = e.id ORDER BY 1) TO STDOUT"
            ) as copy:
                for _ in copy:
                    pass
            with connection.cursor().copy(
                "COPY (SELECT DISTINCT blob_id FROM governance_repositoryblob ORDER BY 1) TO STDOUT"
            ) as copy:
                for _ in copy:
                    pass
            copy_seconds = time.perf_counter() - started
        counts = json.loads(published.stdout)["counts"]
        result["publish"] = {
            "seconds": round(publish_seconds, 1),
            "peak_rss_mb": round(peak_mb, 1),
            "repositories": counts["repositories"],
            "namespaces": counts["namespaces"],
            "blobs": counts["blobs"],
            "copy_to_seconds": round(copy_seconds, 1),
            "ratio_to_copy_to": round(publish_seconds / copy_seconds, 2),
            "goal": {"seconds": 120, "peak_rss_mb": 500},
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
