"""The client's `report-build`, the signatures the portal makes for it, and what the client imports."""

import json
import subprocess
import sys

import pytest

from exclusions import cli
from exclusions.manifest import manifest_canonical_bytes, manifest_verify
from governance.models import BuildReport, Release
from governance.signing import manifest_canonical_bytes as portal_canonical_bytes
from governance.signing import public_keys
from governance.tokens import pipeline_token_issue
from releases.publication import release_folder
from tests.client_helpers import run

pytestmark = pytest.mark.django_db(transaction=True)

# --- report-build, signing, imports ------------------------------------------------------------------------


def test_report_build_tells_the_portal_which_release_a_build_applied(portal, capsys, monkeypatch):
    token = pipeline_token_issue(name="nightly", dataset_slugs=["the-stack"])[1]
    monkeypatch.setenv("EXCLUSIONS_TOKEN", token)
    status = cli.main(
        ["report-build", portal, "the-stack", "--release", "1", "--build", "run-7", "--notes", "shards 0-9"]
    )
    assert status == 0 and json.loads(capsys.readouterr().out)["build_id"] == "run-7"
    assert BuildReport.objects.get(build_id="run-7").release.version == 1
    status, error = run("report-build", portal, "the-stack", "--release", "9", "--build", "x", capsys=capsys)
    assert status == 1 and "HTTP 400" in error and "no release 9" in error


def test_the_portal_signs_the_bytes_the_client_verifies(portal, settings):
    release = Release.objects.get(version=1)
    manifest = json.loads((release_folder(release) / "manifest.json").read_text())
    assert portal_canonical_bytes(manifest) == manifest_canonical_bytes(manifest)
    keys = {key.key_id: key.public_key for key in public_keys(keys_dir=settings.DATA_DIR / "keys")}
    assert manifest_verify(manifest, keys) == manifest["key_id"]


def test_the_client_modules_import_neither_django_nor_the_database(tmp_path):
    # A pipeline installs the client without running the portal: importing any of it, through the real
    # `governance` package, must not reach Django, Celery or a database driver.
    script = """
import importlib, importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("django", "celery", "kombu", "psycopg", "rest_framework"):
            raise ImportError("the client imported " + name)
sys.meta_path.insert(0, Refuse())
for module in ("cli", "pull", "verify", "download", "filtering", "shards", "release", "store", "portal", "manifest"):
    importlib.import_module("exclusions." + module)
import exclusions
exclusions.load_release
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
