"""Demo data made on the spot, so a new user sees every page filled after `make run`.

Everything is real: git repositories on disk holding license texts from scancode's
own license database, an inventory file imported through the same code path as
`manage.py import_inventory`, and six weeks of requests, releases and builds played
through the domain functions at past moments. Running it again changes nothing.
"""

import json
import random
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from audits.demo import demo_audit_repositories, demo_failed_scan, demo_scans
from audits.scancode import license_text
from governance.celery import app
from governance.exceptions import GovernanceError
from governance.fetch_policy import local_allowed, offline_screening_lifted
from governance.git import local_repository_commit
from governance.identity import parse_repository
from governance.models import Dataset
from governance.services import (
    dataset_get_or_create,
    inventory_import_create,
    inventory_import_run,
    repository_from_ref,
)
from optout.demo import demo_proof_repositories, demo_request_steps, demo_requests_exist
from optout.services import optouts_import, reservation_check
from releases.blobs import blob_listings_run_missing
from releases.publication import build_report_record, release_publish

# (owner/name, scancode license key or None, what the README says)
DEMO_REPOSITORIES = [
    ("acme/mit-widgets", "mit", "A small widget library under the MIT license."),
    ("acme/apache-gateway", "apache-2.0", "An HTTP gateway under the Apache License 2.0."),
    ("acme/bsd-parser", "bsd-new", "A parser under the 3-clause BSD license."),
    ("copyleft-labs/gpl-editor", "gpl-3.0", "A text editor under the GNU GPL v3."),
    ("copyleft-labs/lgpl-codec", "lgpl-2.1", "A codec library under the GNU LGPL v2.1."),
    ("copyleft-labs/agpl-server", "agpl-3.0", "A network service under the GNU AGPL v3."),
    ("solo-dev/scripts", None, "Personal scripts, published without a license."),
]
# Repositories that reserve themselves, as owners write it: the whole of one, the vendored files of the other.
RESERVING_REPOSITORIES = [
    ("reserving-org/no-training", None, "Code whose owner reserves it from AI training.", "* ai-training=false\n"),
    ("reserving-org/vendored", "mit", "An app whose vendored files are reserved.", "vendor/** ai-training=false\n"),
]
# Records of an existing opt-out registry (an issue tracker's export): owners and repositories of the inventory.
REGISTRY_RECORDS = [
    {"issue": 101, "author": "demo-user-3", "optout_owners": ["demo-user-3"]},
    {"issue": 102, "author": "demo-user-4", "optout_repos": ["demo-user-4/project-4", "demo-user-4/project-64"]},
    {"issue": 103, "author": "demo-user-5", "optout_owners": ["demo-user-5"], "optout_repos": ["not a repository"]},
]
DATASETS = [
    ("the-stack-demo", "The Stack (demo)", "A Stack-v2-style corpus of permissively licensed and unlicensed code."),
    ("starcoder-demo", "StarCoder training set (demo)", "A second build with its own inventory."),
]
# Their publication schedules, as the history below plays them (RELEASES): status pages say when the next is due.
PUBLISH_EVERY_HOURS = {"the-stack-demo": 7 * 24, "starcoder-demo": 14 * 24}


@dataclass
class DemoSummary:
    repositories_dir: Path
    datasets: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_refused: int = 0
    admin_username: str = "admin"
    admin_password: str = ""
    status_pages: dict[str, str] = field(default_factory=dict)
    scanned: int = 0


def _demo_repository(root: Path, name: str, license_key: str | None, blurb: str, attributes: str = "") -> Path:
    path = root / name
    if (path / ".git").is_dir():
        return path
    files = {
        "README.md": f"# {name.split('/')[1]}\n\n{blurb}\n",
        "src/main.py": f'"""{blurb}"""\n\n\ndef main():\n    print("hello from {name}")\n',
    }
    if attributes:
        files[".gitattributes"] = attributes
        files["vendor/lib.py"] = "# A vendored library.\n"
    if license_key:
        files["LICENSE"] = license_text(license_key)
    local_repository_commit(path, files, message="Initial commit")
    return path


def _stack_style_inventory(path: Path, local_repositories: list[Path], *, seed: int) -> Path:
    """A Stack-v2-style JSONL file: one row per file, so repositories repeat, plus two unreadable rows."""
    generator = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        for repository in local_repositories:
            for file_path in ("README.md", "src/main.py", "LICENSE"):
                out.write(json.dumps({"repository": repository.as_uri(), "path": file_path}) + "\n")
        for number in range(240):
            repo_name = f"demo-user-{number % 60}/project-{number}"
            for file_number in range(generator.randint(1, 6)):
                out.write(json.dumps({"repo_name": repo_name, "path": f"src/file_{file_number}.py"}) + "\n")
        out.write(json.dumps({"repo_name": "https://user:secret@github.com/demo/leaked", "path": "x.py"}) + "\n")
        out.write('{"repo_name": "demo-user-1/project-1", "path": \n')
    return path


def demo_load() -> DemoSummary:
    """Create the demo datasets, repositories, inventories, six weeks of history and an admin account; idempotent."""
    if not local_allowed():
        # Its repositories are on this disk: without `local`, every request and scan would be refused.
        raise GovernanceError(
            "the demo's git repositories are local (file://), which the fetch policy refuses: "
            "set REPOSITORY_FETCH_ALLOW=local to load it (`make run` does this unless REPOSITORY_FETCH_ALLOW is set)"
        )
    # Its requests and inventories name github.com repositories too, recorded as from a past in which the portal
    # was online: offline mode (`make run`) accepts them here, and still never fetches them.
    with offline_screening_lifted():
        return _demo_loaded()


def _demo_loaded() -> DemoSummary:
    root = Path(settings.DATA_DIR) / "demo"
    repositories_dir = root / "repositories"
    summary = DemoSummary(repositories_dir=repositories_dir)
    local = [_demo_repository(repositories_dir, *spec) for spec in DEMO_REPOSITORIES]
    reserving = [_demo_repository(repositories_dir, *spec) for spec in RESERVING_REPOSITORIES]
    local += reserving

    local += demo_audit_repositories(repositories_dir)
    summary.admin_password = _demo_admin(summary.admin_username)

    for index, (slug, name, description) in enumerate(DATASETS):
        with transaction.atomic():
            dataset, _ = dataset_get_or_create(slug=slug, name=name)
            Dataset.objects.filter(pk=dataset.pk).update(
                name=name, description=description, publish_every_hours=PUBLISH_EVERY_HOURS[slug]
            )
        # Each dataset holds a different slice, so lookups show differences between them.
        inventory = _stack_style_inventory(root / f"{slug}.jsonl", local[index:], seed=index)
        inventory_import = inventory_import_create(
            dataset_slug=slug, source_path=str(inventory), source_name=inventory.name, enqueue=False
        )
        result = inventory_import_run(import_id=inventory_import.pk)
        summary.datasets.append(slug)
        summary.rows_read += result.rows_read
        summary.rows_refused += result.rows_failed

    # Status links are secrets stored only as hashes: keep the demo's in a file to show them again.
    links_file = root / "status-pages.json"
    history_made = not demo_requests_exist()
    if history_made:
        demo_proof_repositories(repositories_dir)
        _history_play(demo_request_steps(repositories_dir, summary.status_pages) + _release_steps())
        links_file.write_text(json.dumps(summary.status_pages, indent=2))
    elif links_file.exists():
        summary.status_pages = json.loads(links_file.read_text())
    # License verdicts for every local repository (scancode, a few seconds), after the proofs were
    # committed, so a second run finds every head unchanged and keeps the verdicts.
    summary.scanned = demo_scans(local)
    if history_made:
        demo_failed_scan(repositories_dir)
        _demo_existing_optouts(root, reserving)
        with _tasks_inline():
            _demo_current_releases()
    return summary


# Weekly releases of the first dataset and fortnightly ones of the second, each applied by a build some
# hours later: (days before now, dataset, hours until a build applies it).
RELEASES = [(days, DATASETS[0][0], 6) for days in (42, 35, 28, 21, 14, 7)] + [
    (days, DATASETS[1][0], 24) for days in (38, 24, 10)
]


def _release_steps() -> list[tuple[float, object]]:
    steps = []
    for days_ago, slug, build_hours in RELEASES:

        def build(slug=slug):
            dataset = Dataset.objects.get(slug=slug)
            version = dataset.releases.order_by("-version").values_list("version", flat=True).first()
            build_report_record(dataset=dataset, version=version, build_id=f"{slug}-build-{version}", notes="Demo")

        steps.append((days_ago, lambda slug=slug: release_publish(dataset_slug=slug)))
        steps.append((days_ago - build_hours / 24, build))
    return steps


def _history_play(steps: list[tuple[float, object]]) -> None:
    """Run the steps oldest first, each under a clock set to its moment, with tasks inline."""
    now = timezone.now()
    with _tasks_inline():
        for days_ago, step in sorted(steps, key=lambda item: -item[0]):
            with _clock(now - timedelta(days=days_ago)):
                step()


@contextmanager
def _clock(moment):
    # The domain functions, and auto_now fields, read django.utils.timezone.now: setting it is the one way to
    # record a past moment through the real code paths (signatures and git commits keep the real time).
    with mock.patch.object(timezone, "now", return_value=moment):
        yield


@contextmanager
def _tasks_inline():
    # The demo runs before any worker starts: with a broker configured, its checks would wait in the queue.

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def _demo_existing_optouts(root: Path, reserving: list[Path]) -> None:
    """What the portal finds already decided elsewhere: a registry's export imported as it would be with
    `manage.py import_optouts` (one record names something unreadable), and the reservations the
    reserving repositories carry, read as the reservation sweep reads them."""
    export = root / "registry-issues.jsonl"
    export.write_text("".join(json.dumps(record) + "\n" for record in REGISTRY_RECORDS))
    optouts_import(source="demo-registry", path=export, file_format="jsonl-issues")
    for path in reserving:
        reservation_check(repository_id=repository_from_ref(ref=parse_repository(path.as_uri())).pk)


def _demo_current_releases() -> None:
    """Today's release of each dataset, carrying the license verdicts just made; a build applies the first one."""

    # The first dataset last: the report at /transparency/ opens on the most recently published one.
    for slug, _, _ in reversed(DATASETS):
        # Only the repositories on this disk: the inventory's and the registry's others (github.com/demo-user-…)
        # exist nowhere, and the demo never reaches the network.
        blob_listings_run_missing(dataset_slug=slug, on_disk_only=True)
        release = release_publish(dataset_slug=slug)
        if slug == DATASETS[0][0]:
            dataset = Dataset.objects.get(slug=slug)
            build_report_record(dataset=dataset, version=release.version, build_id=f"{slug}-build-{release.version}")


def _demo_admin(username: str) -> str:
    password_file = Path(settings.DATA_DIR) / "demo-admin-password"
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(12))
        password_file.chmod(0o600)
    password = password_file.read_text().strip()
    user, _ = get_user_model().objects.get_or_create(username=username, defaults={"email": "admin@localhost"})
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return password
