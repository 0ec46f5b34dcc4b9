"""The client as pipelines install it: its own wheel, in a fresh venv holding nothing of the portal, pulling,
verifying and filtering against a live portal."""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.client_helpers import OWN_BLOB

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "python"
PORTAL_ONLY = ("django", "rest_framework", "celery", "kombu", "psycopg", "scancode", "licensedcode", "governance")


# Without PYTHONPATH: a test run that points it at a checkout (whose clients/python holds the egg-info of the
# wheel built here) must lend neither the portal nor an "installed" client to the venv.
ISOLATED = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


def _pip(python: Path, *arguments: str) -> None:
    subprocess.run(
        [python, "-m", "pip", "--disable-pip-version-check", "-q", *arguments],
        check=True,
        capture_output=True,
        env=ISOLATED,
    )


@pytest.fixture(scope="session")
def client_venv(tmp_path_factory) -> Path:
    """A venv with nothing but the client's wheel and what pip installs for it (versions as the portal's lock)."""
    folder = tmp_path_factory.mktemp("client-distribution")
    _pip(Path(sys.executable), "wheel", "--no-deps", "--wheel-dir", str(folder / "dist"), str(CLIENT))
    (wheel,) = (folder / "dist").glob("dataset_exclusions-*.whl")
    venv.create(folder / "venv", with_pip=True)
    python = folder / "venv" / "bin" / "python"
    _pip(python, "install", "-c", str(ROOT / "requirements.lock"), str(wheel))
    return folder / "venv" / "bin"


def _in_venv(bin_dir: Path, *arguments) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(argument) for argument in arguments], capture_output=True, text=True, cwd=bin_dir, env=ISOLATED
    )


def test_the_wheel_installs_only_pyarrow_and_cryptography_with_what_they_need(client_venv):
    listed = _in_venv(client_venv, client_venv / "python", "-m", "pip", "list", "--format", "json")
    installed = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert installed <= {"dataset-exclusions", "pyarrow", "cryptography", "cffi", "pycparser", "pip"}
    assert {"dataset-exclusions", "pyarrow", "cryptography"} <= installed
    found = _in_venv(
        client_venv,
        client_venv / "python",
        "-c",
        f"import importlib.util; print([m for m in {PORTAL_ONLY!r} if importlib.util.find_spec(m)])",
    )
    assert found.stdout.strip() == "[]", found.stderr


def test_the_installed_client_pulls_verifies_and_filters_against_a_live_portal(client_venv, portal, tmp_path):
    directory = tmp_path / "exclusions"
    exclusions = client_venv / "exclusions"
    pulled = _in_venv(client_venv, exclusions, "pull", portal, "the-stack", "--dir", directory)
    assert pulled.returncode == 0, pulled.stderr
    assert "release 1 of the-stack verified" in pulled.stdout
    verified = _in_venv(client_venv, exclusions, "verify", directory)
    assert verified.returncode == 0, verified.stderr

    shard = tmp_path / "shard.parquet"
    rows = {
        "repo_name": ["Opted/Out", "gone-owner/anything", "kept/repository", "kept/fork", "kept/other"],
        "blob_id": ["1" * 40, "2" * 40, "3" * 40, OWN_BLOB, "4" * 40],
        "path": ["a.py", "b.py", "c.py", "d.py", "e.py"],
    }
    pq.write_table(pa.table(rows), shard)
    filtered = _in_venv(
        client_venv, exclusions, "filter", directory, shard, "--output", tmp_path / "kept.parquet", "--jobs", "1"
    )
    assert filtered.returncode == 0, filtered.stderr
    kept = pq.read_table(tmp_path / "kept.parquet")
    assert kept.column("path").to_pylist() == ["c.py", "e.py"]
    assert kept.schema == pq.read_table(shard).schema


def test_the_installed_client_refuses_a_tampered_release_with_exit_status_1(client_venv, portal, tmp_path):
    directory = tmp_path / "exclusions"
    assert (
        _in_venv(client_venv, client_venv / "exclusions", "pull", portal, "the-stack", "--dir", directory).returncode
        == 0
    )
    listed = directory / "releases" / "1" / "repositories.jsonl"
    listed.write_text(listed.read_text().replace("opted", "other"))
    verified = _in_venv(client_venv, client_venv / "exclusions", "verify", directory)
    assert verified.returncode == 1
    assert "repositories.jsonl" in verified.stderr and "signed manifest" in verified.stderr
