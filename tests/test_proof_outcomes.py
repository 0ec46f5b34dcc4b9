"""The owner's status page says one thing for every repository git could not read: it cannot be used to learn
whether a path exists, is a repository, or whether a port is closed, open or silent."""

import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from optout import services
from optout.models import Verification
from tests.git_http import serve_git_over_http
from tests.optout_helpers import file_and_confirm

pytestmark = pytest.mark.django_db(transaction=True)

# What the old page told a visitor about a host; none of it may appear any more.
REVEALING = ["connection", "refused", "timed out", "resolve", "not a git repository", "not found", "404", "private"]


@pytest.fixture
def web_server_that_is_not_git():
    """A loopback port that answers every request with a web page: open, but no git server."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>hello</html>")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_port():
    """A loopback port that accepts connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def closed_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free again once closed: nothing listens there


def test_every_unreadable_repository_gets_the_same_state_wording_and_schedule(
    client, settings, make_repository, tmp_path, web_server_that_is_not_git, silent_port, closed_port
):
    settings.REPOSITORY_FETCH_ALLOW = ["local", "private", "http"]  # so that these hosts are tried at all
    settings.OPTOUT_GIT_TIMEOUT_SECONDS = 2
    served = make_repository("served/real", {"README": "hello"})
    (tmp_path / "plain" / "directory").mkdir(parents=True)
    with serve_git_over_http(served.parent.parent) as git_server:
        cases = {
            "no such path on a git server": f"{git_server}/served/missing",
            "no such local path": (tmp_path / "nowhere" / "repository").as_uri(),
            "a local directory that is not a repository": (tmp_path / "plain" / "directory").as_uri(),
            "a closed port": f"http://127.0.0.1:{closed_port}/a/closed",
            "an open port that is not git": f"http://127.0.0.1:{web_server_that_is_not_git}/a/web",
            "a port that never answers": f"http://127.0.0.1:{silent_port}/a/silent",
        }
        confirmation = file_and_confirm(repositories=list(cases.values()))
        Verification.objects.filter(request=confirmation.request).update(next_check_at=timezone.now())
        services.optout_request_verify(request_id=confirmation.request.pk)
    verifications = list(confirmation.request.verifications.select_related("repository"))
    assert len(verifications) == len(cases)

    # And a repository the policy refuses when it is fetched (filed while local fetches were allowed).
    refused = file_and_confirm(repositories=[served.as_uri()], email="later@example.org").request
    settings.REPOSITORY_FETCH_ALLOW = ["private", "http"]
    Verification.objects.filter(request=refused).update(next_check_at=timezone.now())
    services.optout_request_verify(request_id=refused.pk)
    assert "on this server's disk" in refused.verifications.get().detail

    wordings = {
        re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "<time>", v.result.replace(v.repository.canonical, "<repository>"))
        for v in [*verifications, refused.verifications.select_related("repository").get()]
    }
    assert wordings == {
        "<repository> could not be read: it does not exist, is not public, or its host did not answer. "
        "Next try: <time> UTC."
    }
    assert {v.get_public_state_display() for v in verifications} == {"Waiting for the proof file"}
    assert len({v.state for v in verifications}) == 1
    assert len({v.next_check_at - v.last_checked_at for v in verifications}) == 1
    assert all(v.detail for v in verifications)  # the real causes, kept for maintainers

    page = client.get(f"/opt-out/r/{confirmation.status_token}/").content.decode()
    assert page.count("badge-pending") == len(cases) and "badge-unreachable" not in page
    table = page[page.index('<table id="verifications"') : page.index("</table>")]
    # What the page says, not the names it was given or its machine-readable times (a port or a
    # microsecond may hold "404").
    for verification in verifications:
        table = table.replace(verification.repository.canonical, "<repository>")
    table = re.sub(r'datetime="[^"]*"', "", table)
    for word in REVEALING:
        assert word not in table.lower(), word
    assert "Cause (maintainers only)" not in page
    states = client.get(f"/opt-out/r/{confirmation.status_token}/?format=json").json()["fingerprint"]
    assert "unreachable" not in states


def test_maintainers_see_the_real_cause(client, maintainer, settings):
    settings.REPOSITORY_FETCH_ALLOW = ["private", "http"]
    request = file_and_confirm(repositories=["http://127.0.0.1:1/alice/gone"]).request
    Verification.objects.filter(request=request).update(next_check_at=timezone.now())
    services.optout_request_verify(request_id=request.pk)
    client.force_login(maintainer)
    page = client.get(f"/review/requests/{request.pk}/").content.decode()
    assert "Cause (maintainers only): the host of http://127.0.0.1:1/alice/gone.git could not be reached" in page
