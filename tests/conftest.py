"""Shared fixtures: the named roles, inline tasks, and real git repositories on disk."""

import contextlib
import http.server
import socket
import threading
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.db import connection

import governance.git
from governance.celery import app as celery_app
from tests.review_helpers import unsure_decision, with_review_permission
from tests.worker_helpers import celery_worker_running, kombu_bindings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def tasks_run_inline(request):
    """Unit tests run tasks inline; tests marked `worker` talk to a real worker through Redis."""
    inline = request.node.get_closest_marker("worker") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = inline
    yield
    celery_app.conf.task_always_eager = previous


LOOPBACK_NAMES = ("localhost", "ip6-localhost", "ip6-loopback")


@pytest.fixture(autouse=True)
def names_resolve_on_loopback_only():
    """The fetch policy looks names up (governance/fetch_policy.py): in tests only loopback names resolve, from
    /etc/hosts, so no query leaves the machine; any other name fails as if it did not exist."""
    from unittest import mock

    from governance import fetch_policy

    real = fetch_policy.addresses_resolved

    def resolved(host, port):
        if host.lower().rstrip(".") not in LOOPBACK_NAMES:
            raise OSError(f"{host}: tests resolve only loopback names")
        return real(host, port)

    with mock.patch.object(fetch_policy, "addresses_resolved", autospec=True, side_effect=resolved) as resolver:
        yield resolver


@pytest.fixture
def resolves(names_resolve_on_loopback_only):
    """resolves({"git.corp.test": ["10.0.0.5"]}): what names resolve to for this test; the others do not resolve."""
    import ipaddress

    def set_answers(answers: dict[str, list[str]]):
        def resolved(host, port):
            if host not in answers:
                raise OSError(f"{host}: no such name")
            return [ipaddress.ip_address(address) for address in answers[host]]

        names_resolve_on_loopback_only.side_effect = resolved
        return names_resolve_on_loopback_only

    return set_answers


@pytest.fixture(autouse=True)
def cache_cleared():
    """Nothing cached by one test (throttle counts, reports) reaches the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """Each test writes uploads, mails and releases into its own folder."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


@pytest.fixture
def owner(django_user_model):
    """Someone who owns repositories and may ask for them to be left out."""
    return django_user_model.objects.create_user("owner", "owner@example.org", "owner-password-1")


@pytest.fixture
def outsider(django_user_model):
    """Someone with no claim on anything and no staff rights."""
    return django_user_model.objects.create_user("outsider", "outsider@example.org", "outsider-password-1")


@pytest.fixture
def maintainer(django_user_model):
    """A staff member who maintains the datasets: reviews, imports, publishes."""
    user = django_user_model.objects.create_user(
        "maintainer", "maintainer@example.org", "maintainer-password-1", is_staff=True
    )
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["governance", "optout", "audits"]))
    return user


@pytest.fixture
def reviewer(maintainer):
    """A maintainer who may settle license verdicts."""
    return with_review_permission(maintainer)


@pytest.fixture
def unsure(dataset):
    """A repository of the test's `dataset` whose license the policy cannot decide."""
    return unsure_decision(dataset)


@pytest.fixture
def make_repository(tmp_path):
    """Build a real git repository on disk: make_repository("acme/lib", {"LICENSE": text}) → its path."""
    from governance.git import local_repository_commit

    def make(name: str, files: dict[str, str | bytes], *, message: str = "Initial commit"):
        path = tmp_path / "repositories" / name
        local_repository_commit(path, files, message=message)
        return path

    return make


@pytest.fixture
def worker_process(tmp_path, settings):
    """`celery -A governance worker` in its own process, on queues of its own, against the test database.

    Tasks queued by the test process (and by a live server in it) go to those queues while the test runs: the
    default one (its name is yielded) and the proof-check and scan queues named after it, all served by this worker.
    """
    with celery_worker_running(tmp_path, settings) as queue:
        yield queue


@pytest.fixture(scope="session", autouse=True)
def kombu_bindings_removed():
    """No `_kombu.binding…` key outlives the run in the test's Redis database.

    Every test makes queues of its own, and kombu's Redis transport records each queue a worker or sender declares
    (and the workers' control and event exchanges) in such keys, which nothing else removes.
    """
    yield
    url = django_settings.CELERY_BROKER_URL
    if url.startswith("redis://") and (left := kombu_bindings(url)):
        redis.Redis.from_url(url).delete(*left)


class BrokerOutage:
    """The Celery app pointed at a closed loopback port, as when Redis is down; `back()` ends the outage."""

    def __init__(self):
        with socket.socket() as probe:  # a port nothing listens on once this socket is closed
            probe.bind(("127.0.0.1", 0))
            self.url = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
        self.previous = (celery_app.conf.broker_write_url, celery_app.conf.task_always_eager)
        self._switch(self.url, eager=False)

    def back(self) -> None:
        url, eager = self.previous
        self._switch(url, eager=eager)

    @staticmethod
    def _switch(url: str, *, eager: bool) -> None:
        # Celery caches its connection and producer pools; kombu keeps one pool per broker URL.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        celery_app.conf.broker_write_url = url  # what senders use (Celery copies broker_url into it)
        celery_app.conf.task_always_eager = eager


@pytest.fixture
def broker_down():
    """Every send to the broker fails (connection refused) until `broker_down.back()`."""
    outage = BrokerOutage()
    yield outage
    outage.back()


@pytest.fixture(scope="session")
def live_server_connections_closed(django_db_setup, django_db_blocker):
    """At the end of the run, close what a live server's threads leave open, so the test database can be dropped."""
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def browser_page(monkeypatch, live_server_connections_closed):
    """A page in headless Chromium from Debian's package, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    if not Path("/usr/bin/chromium").exists():
        pytest.fail("browser tests need Debian's chromium package: apt-get install chromium (.ci/run installs it)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            browser.close()


# Git servers on loopback, for the tests of governance/git.py.


@pytest.fixture
def repositories(tmp_path):
    """A folder of real repositories, served over file:// or HTTP by the tests that need them."""
    root = tmp_path / "served"
    root.mkdir()
    return root


@pytest.fixture
def silent_listener():
    """A loopback port that accepts connections and never answers them."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def failing_server():
    """A loopback HTTP server that answers every request with 503 Service Unavailable."""

    class Unavailable(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_error(503)

        def log_message(self, format, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def repo(make_repository):
    """A real repository on disk with some code; returns its file:// URL."""
    path = make_repository("alice/widgets", {"README.md": "# widgets\n", "src/w.py": "print(1)\n"})
    return path.as_uri()


@pytest.fixture
def kept_scratch(tmp_path, monkeypatch):
    """The scratch repository a listing fetches into, kept after the call so a test can look inside."""
    kept = tmp_path / "fetched"

    @contextlib.contextmanager
    def kept_directory(**options):
        kept.mkdir()
        yield str(kept)

    monkeypatch.setattr(governance.git, "TemporaryDirectory", kept_directory)
    return kept
