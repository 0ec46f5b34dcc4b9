"""Real workers, as the Procfile runs them: a visitor's list of tarpit repositories does not delay an owner's proof."""

import os
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from governance.celery import app as celery_app
from optout import services
from optout.models import Verification
from tests.conftest import ROOT
from tests.git_http import serve_git_over_http
from tests.optout_helpers import commit_proof, file_and_confirm
from tests.tarpit import tarpit

TARPIT_REPOSITORIES = 20
GIT_TIMEOUT = 60  # background checks of the tarpit outlast the test


@pytest.fixture
def procfile_workers(tmp_path, settings):
    """The `proofs` and `proofs-now` workers of the Procfile, on queues of this test's own."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    queues = {"PROOF_CHECKS_QUEUE": f"{prefix}-proofs", "PROOF_CHECKS_NOW_QUEUE": f"{prefix}-proofs-now"}
    for name, value in queues.items():
        setattr(settings, name, value)
    test_database = connection.settings_dict["NAME"]
    environment = {
        **os.environ,
        "DATABASE_URL": urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{test_database}").geturl(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": prefix,
        **queues,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "GOVERNANCE_DATA_DIR": str(tmp_path / "worker-data"),
        "DJANGO_DEBUG": "1",
        "AUDITS_PRELOAD_INDEX": "0",
        "REPOSITORY_FETCH_ALLOW": "local,private,http",
        "OPTOUT_GIT_TIMEOUT_SECONDS": str(GIT_TIMEOUT),
        "OPTOUT_CHECKS_PER_HOST": "2",
        "OPTOUT_CHECKS_PER_REQUEST": "2",
    }
    processes = []
    for queue, concurrency in ((queues["PROOF_CHECKS_QUEUE"], 2), (queues["PROOF_CHECKS_NOW_QUEUE"], 2)):
        node = f"{queue}@localhost"
        log = open(tmp_path / f"{queue}.log", "wb")  # noqa: SIM115 - closed after the worker stops
        command = [sys.executable, "-m", "celery", "-A", "governance", "worker", "-Q", queue, "-n", node]
        command += ["--concurrency", str(concurrency), "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        processes.append((process, log, node))
    try:
        deadline = time.monotonic() + 90
        for process, _, node in processes:
            while not celery_app.control.ping(destination=[node], timeout=1):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the worker {node} did not start")
        yield
    finally:
        for process, log, _ in processes:
            process.kill()  # tarpit checks would hold a warm shutdown for their whole time limit
            process.wait(timeout=30)
            log.close()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_request_full_of_tarpit_repositories_does_not_delay_another_owners_proof(
    procfile_workers, make_repository, tmp_path
):
    with tarpit() as server:
        hostile = file_and_confirm(
            repositories=[server.url(f"o/r{n}.git") for n in range(TARPIT_REPOSITORIES)], email="x@example.org"
        ).request
        hostile.verifications.update(next_check_at=timezone.now())
        services.optout_request_verify(request_id=hostile.pk)  # the sweep's round
        services.optout_request_verify_now(request=hostile, ip="192.0.2.66")  # and its "Verify now"
        deadline = time.monotonic() + 60
        while server.open < 2:
            assert time.monotonic() < deadline, "the workers never reached the tarpit"
            time.sleep(0.1)

        make_repository("alice/widgets.git", {"README.md": "# widgets\n"})
        with serve_git_over_http(tmp_path / "repositories") as base:
            owner = file_and_confirm(repositories=[f"{base}/alice/widgets.git"]).request
            commit_proof(make_repository, "alice/widgets.git", owner.proof_token)
            services.optout_request_verify_now(request=owner, ip="198.51.100.7")
            deadline = time.monotonic() + 90
            while not Verification.objects.filter(request=owner, state=Verification.State.VERIFIED).exists():
                assert time.monotonic() < deadline, "the owner's proof was never verified"
                time.sleep(0.1)

        # Verified before a single background check of the tarpit ran to its time limit: it waited behind none.
        recorded = Verification.objects.filter(request=hostile, last_check_seconds__gte=GIT_TIMEOUT * 0.8)
        assert not recorded.exists()
        assert server.most_open <= 2 + 1  # the per-host cap of the background checks, and one "Verify now" check
        assert Verification.objects.filter(request=hostile, check_queued_at__isnull=False).count() <= 2 + 2
