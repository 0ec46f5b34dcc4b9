"""`exclusions`: the command line of the pipeline client.

    exclusions pull BASE_URL DATASET [--release N|latest] --dir DIR [--key KEY] [--progress]
    exclusions verify DIR [--release N] [--key KEY]
    exclusions filter DIR INPUT... --output OUT [--repo-column repo_name] [--blob-column blob_id] [--report FILE]
    exclusions report-build BASE_URL DATASET --release N --build ID [--token T] [--notes TEXT]

Exit status 0 when everything worked; otherwise 1 with one line on stderr naming the file and why
(2 for a command line that cannot be read).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

from exclusions.errors import ClientError
from exclusions.filtering import Counts
from exclusions.portal import Portal
from exclusions.progress import Progress
from exclusions.pull import release_pull
from exclusions.shards import shards_filter, shards_plan
from exclusions.store import write_atomic
from exclusions.verify import directory_verify

TOKEN_VARIABLE = "EXCLUSIONS_TOKEN"


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        return arguments.run(arguments)
    except ClientError as error:
        print(f"exclusions {arguments.command}: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a directory that cannot be made, a full disk: one line naming the file, too
        print(f"exclusions {arguments.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"exclusions {arguments.command}: interrupted; a pull resumes where it stopped", file=sys.stderr)
        return 130


def _pull(arguments) -> int:
    result = release_pull(
        base_url=arguments.base_url,
        dataset=arguments.dataset,
        directory=arguments.dir,
        release=arguments.release,
        key=arguments.key,
        progress=Progress(enabled=True if arguments.progress else None),
        timeout=arguments.timeout,
    )
    if result.already:
        print(f"release {result.version} of {arguments.dataset} is already in {arguments.dir} and verifies")
    else:
        how = ", ".join(f"{name} {way}" for name, way in sorted(result.files.items()))
        release = f"release {result.version} of {arguments.dataset}"
        print(f"{release} verified (key {result.key_id}) into {result.folder}: {how}")
    return 0


def _verify(arguments) -> int:
    verified = directory_verify(arguments.dir, version=arguments.release, key=arguments.key)
    files = len(verified.manifest["files"])
    print(
        f"release {verified.version} of {verified.dataset}: signature (key {verified.key_id}) and {files} files verify"
    )
    return 0


def _filter(arguments) -> int:
    repo_column = arguments.repo_column or None
    blob_column = arguments.blob_column or None
    if repo_column is None and blob_column is None:
        raise ClientError("--repo-column and --blob-column are both off: there would be nothing to filter by")
    started = time.perf_counter()
    verified = directory_verify(arguments.dir, version=arguments.release)
    shards = shards_plan(arguments.inputs, arguments.output)
    workers = arguments.jobs or min(len(shards), os.cpu_count() or 1)
    shards = shards_filter(verified, shards, repo_column=repo_column, blob_column=blob_column, workers=workers)
    total = Counts()
    for shard in shards:
        total.add(shard.counts)
    failed = [shard for shard in shards if shard.error]
    report = {
        "release": verified.describe(),
        "repo_column": repo_column,
        "blob_column": blob_column,
        **total.as_dict(),
        "shards": [shard.report() for shard in shards],
        "failed": len(failed),
        "workers": max(1, min(workers, len(shards))),
        "seconds": round(time.perf_counter() - started, 3),
    }
    if arguments.report:
        write_atomic(Path(arguments.report), (json.dumps(report, indent=2) + "\n").encode())
    shards_written = f"in {len(shards) - len(failed)} of {len(shards)} shards"
    print(f"release {verified.version} of {verified.dataset}: {total.summary()} {shards_written}", file=sys.stderr)
    for shard in failed:
        print(f"exclusions filter: {shard.error}", file=sys.stderr)
    return 1 if failed else 0


def _report_build(arguments) -> int:
    token = arguments.token or os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        raise ClientError(f"a pipeline token is needed: --token T or the environment variable {TOKEN_VARIABLE}")
    if not arguments.release.isdigit():
        raise ClientError(f"--release {arguments.release!r}: give the release number the build applied")
    answer = Portal(arguments.base_url, arguments.dataset, timeout=arguments.timeout).build_report(
        version=int(arguments.release), build_id=arguments.build, notes=arguments.notes, token=token
    )
    print(json.dumps(answer))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exclusions", description="Pull, verify and apply signed exclusion-list releases of a code dataset."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    pull = commands.add_parser("pull", help="download and verify a release (or only what changed) into DIR")
    pull.add_argument("base_url", metavar="BASE_URL", help="the portal, e.g. https://portal.example.org")
    pull.add_argument("dataset", metavar="DATASET", help="the dataset's slug")
    pull.add_argument("--release", default="latest", help="a release number or 'latest' (default)")
    pull.add_argument("--dir", required=True, type=Path, help="the exclusions directory (made when missing)")
    pull.add_argument("--key", help="pin the signing key: base64 or hex of the raw Ed25519 key, PEM, or a file")
    pull.add_argument("--progress", action="store_true", help="draw a progress bar even when stderr is no terminal")
    pull.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the portal (default 60)")
    pull.set_defaults(run=_pull)

    verify = commands.add_parser("verify", help="check a downloaded release: signature, sizes, sha256")
    verify.add_argument("dir", metavar="DIR", type=Path)
    verify.add_argument("--release", type=int, help="a release number (default: the current one)")
    verify.add_argument("--key", help="check against this key instead of DIR/trust.json")
    verify.set_defaults(run=_verify)

    filter_ = commands.add_parser("filter", help="drop the rows of Parquet/JSONL shards that the release excludes")
    filter_.add_argument("dir", metavar="DIR", type=Path)
    filter_.add_argument("inputs", metavar="INPUT", nargs="+", help=".parquet, .jsonl, .ndjson (JSON Lines may be .gz)")
    filter_.add_argument("--output", required=True, help="output file for one input, folder for several")
    filter_.add_argument("--repo-column", default="repo_name", help="repository column; '' turns the rule off")
    filter_.add_argument("--blob-column", default="blob_id", help="git blob SHA-1 column; '' turns the rule off")
    filter_.add_argument("--report", help="write the JSON report (rows in, dropped per reason, release) here")
    filter_.add_argument("--release", type=int, help="a release number in DIR (default: the current one)")
    filter_.add_argument("--jobs", type=int, default=0, help="worker processes (default: one per core, per shard)")
    filter_.set_defaults(run=_filter)

    build = commands.add_parser("report-build", help="tell the portal which release a build applied")
    build.add_argument("base_url", metavar="BASE_URL")
    build.add_argument("dataset", metavar="DATASET")
    build.add_argument("--release", required=True, help="the release number the build applied")
    build.add_argument("--build", required=True, help="the build's id (1-200 characters)")
    build.add_argument("--token", help=f"the pipeline token (better: the environment variable {TOKEN_VARIABLE})")
    build.add_argument("--notes", default="", help="free text, e.g. the shards built")
    build.add_argument("--timeout", type=float, default=60.0)
    build.set_defaults(run=_report_build)
    return parser


if __name__ == "__main__":
    sys.exit(main())
