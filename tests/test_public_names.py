"""The names others rely on stay put when code moves between apps: URLs and their names, Celery task names
(routing, beat and queued messages use them) and management commands."""

import pytest
from django.core.management import get_commands
from django.urls import reverse

from governance.celery import app
from governance.queueing import task_named

URLS = {
    ("governance-home", ()): "/",
    ("governance-healthz", ()): "/healthz",
    ("governance-transparency-report", ()): "/transparency/",
    ("governance-transparency-dataset", ("d",)): "/transparency/d/",
    ("governance-transparency-json", ("d",)): "/transparency/d.json",
    ("governance-transparency-figure-csv", ("d", "f")): "/transparency/d/f.csv",
    ("governance-transparency-figure-json", ("d", "f")): "/transparency/d/f.json",
    ("governance-review-overview", ()): "/review/",
    ("optout-request-form", ()): "/opt-out/",
    ("optout-request-sent", ()): "/opt-out/sent/",
    ("optout-request-confirm", ("t",)): "/opt-out/confirm/t/",
    ("optout-request-status", ("t",)): "/opt-out/r/t/",
    ("optout-review-queue", ()): "/review/requests/",
    ("optout-review-request", (7,)): "/review/requests/7/",
    ("audits-review-queue", ()): "/review/licenses/",
    ("audits-review-decision", (7,)): "/review/licenses/7/",
    ("audits-scan-detail", (7,)): "/review/scans/7/",
    ("api-schema", ()): "/api/schema/",
    ("api-docs", ()): "/api/docs/",
    ("api-dataset-list", ()): "/api/v1/datasets/",
    ("api-key-list", ()): "/api/v1/keys/",
    ("api-release-list", ("d",)): "/api/v1/datasets/d/releases/",
    ("api-release-detail", ("d", "3")): "/api/v1/datasets/d/releases/3/",
    ("api-release-changes", ("d", "3")): "/api/v1/datasets/d/releases/3/changes/",
    ("api-release-file", ("d", "3", "manifest.json")): "/api/v1/datasets/d/releases/3/manifest.json",
    ("api-dataset-check", ("d",)): "/api/v1/datasets/d/check/",
    ("api-dataset-inventory", ("d",)): "/api/v1/datasets/d/inventory/",
    ("api-dataset-builds", ("d",)): "/api/v1/datasets/d/builds/",
    ("api-dataset-webhooks", ("d",)): "/api/v1/datasets/d/webhooks/",
    ("api-dataset-webhook", ("d", 7)): "/api/v1/datasets/d/webhooks/7/",
    ("api-compat-query-urls", ()): "/api/v2/query/urls/",
}

TASKS = {
    "governance.tasks.inventory_import_task",
    "governance.tasks.inventory_import_sweep",
    "governance.tasks.blob_listing_task",
    "governance.tasks.blob_listings_sweep",
    "governance.tasks.releases_publish_due",
    "governance.tasks.release_publish_task",
    "releases.tasks.webhook_delivery_task",
    "releases.tasks.webhook_deliveries_sweep",
    "optout.tasks.optout_request_verify_task",
    "optout.tasks.verification_check_task",
    "optout.tasks.optout_request_reinclusion_task",
    "optout.tasks.verification_sweep",
    "optout.tasks.reservation_check_task",
    "optout.tasks.reservations_sweep",
    "audits.tasks.scan_task",
    "audits.tasks.scan_chunk_task",
    "audits.tasks.scan_finish_task",
    "audits.tasks.scans_sweep",
    "audits.tasks.rescans_sweep",
}

COMMANDS = {
    "demo",
    "exclude",
    "import_inventory",
    "import_optouts",
    "issue_token",
    "publish_release",
    "rotate_signing_key",
    "scan_repository",
}


@pytest.mark.parametrize(("name", "args", "path"), [(name, args, path) for (name, args), path in URLS.items()])
def test_every_url_name_still_gives_its_path(name, args, path):
    assert reverse(name, args=args) == path


def test_the_celery_tasks_keep_their_names():
    app.loader.import_default_modules()  # loads every app's tasks, as a worker does
    assert {name for name in app.tasks if not name.startswith("celery.")} == TASKS
    assert all(task_named(name).name == name for name in TASKS)


def test_every_scheduled_task_is_a_registered_one():
    assert {entry["task"] for entry in app.conf.beat_schedule.values()} <= TASKS


def test_the_management_commands_keep_their_names():
    project_apps = {"governance", "optout", "audits", "releases"}
    assert {name for name, app_name in get_commands().items() if app_name in project_apps} == COMMANDS
