"""The outbound fetch policy: which URLs git may fetch, and that a fetch goes where the check looked."""

import ipaddress
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from governance import fetch_policy
from governance.fetch_policy import FetchScreen, address_problem, fetch_plan
from governance.git import FetchRefused, GitError, GitUnreachable, proof_file_fetch, remote_head, tree_blobs_list
from tests.git_http import serve_git_over_http

REFUSED_ADDRESSES = [
    "127.0.0.1",  # loopback
    "127.8.9.10",
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "169.254.1.1",  # link-local
    "169.254.169.254",  # instance metadata
    "169.254.170.2",
    "100.64.0.1",  # CGNAT
    "100.100.100.200",  # Alibaba metadata, inside CGNAT
    "168.63.129.16",  # Azure's platform endpoint: a public-looking address
    "224.0.0.1",  # multicast
    "0.0.0.0",  # unspecified
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.10",  # documentation
    "::1",
    "::",
    "fc00::1",  # unique-local
    "fd12:3456::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "fe80::1",  # link-local
    "fec0::1",  # site-local (deprecated, Python calls it global)
    "ff0e::1",  # global-scope multicast
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b:1::1",  # local-use NAT64
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]
PUBLIC_ADDRESSES = ["140.82.112.3", "2606:4700:4700::1111", "::ffff:140.82.112.3", "64:ff9b::8c52:7003"]
# Never a git server, whatever the operator allows.
NEVER_ALLOWED = ["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "::ffff:169.254.169.254", "0.0.0.0", "fe80::1"]


@pytest.fixture
def default_policy(settings):
    settings.REPOSITORY_FETCH_ALLOW = []
    settings.REPOSITORY_FETCH_HOSTS = []
    return settings


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_every_address_that_is_not_public_is_refused(default_policy, resolves, address):
    assert address_problem(ipaddress.ip_address(address)) is not None
    resolves({"git.example.test": [address]})
    with pytest.raises(FetchRefused, match="is not on a public address"):
        fetch_plan("https://git.example.test/owner/name.git")


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_pass_the_address_check(address):
    assert address_problem(ipaddress.ip_address(address)) is None


def test_an_ip_literal_is_refused_by_default_even_when_public(default_policy):
    with pytest.raises(FetchRefused, match="names an IP address: use the host's name"):
        fetch_plan("https://140.82.112.3/owner/name.git")


@pytest.mark.parametrize("address", NEVER_ALLOWED)
def test_metadata_and_unusable_addresses_stay_refused_when_private_ones_are_allowed(settings, address):
    settings.REPOSITORY_FETCH_ALLOW = ["private"]
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(FetchRefused):
        fetch_plan(f"https://{host}/owner/name.git")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///srv/git/repo", "on this server's disk"),
        ("http://git.example.org/owner/name.git", "plain http"),
        ("ftp://git.example.org/owner/name.git", "only https://, ssh:// and git://"),
        ("https://localhost/owner/name.git", "names this server"),
        ("https://git.localhost/owner/name.git", "names this server"),
        ("ssh://git@127.0.0.1/owner/name.git", "names an IP address"),
        ("git://[::1]/owner/name.git", "names an IP address"),
    ],
)
def test_by_default_only_https_ssh_and_git_to_host_names_are_fetched(default_policy, url, message):
    with pytest.raises(FetchRefused, match=message):
        fetch_plan(url)


def test_a_name_that_resolves_to_loopback_is_refused_without_naming_the_address(default_policy, resolves):
    resolves({"git.corp.test": ["127.0.0.1"]})
    with pytest.raises(FetchRefused, match="is not on a public address") as refused:
        fetch_plan("https://git.corp.test/owner/name.git")
    assert "127.0.0.1" not in str(refused.value)


def test_a_name_is_refused_when_any_of_its_addresses_is_private(default_policy, resolves):
    resolves({"git.mixed.test": ["140.82.112.3", "10.0.0.7"]})
    with pytest.raises(FetchRefused):
        fetch_plan("https://git.mixed.test/owner/name.git")


def test_a_public_name_is_pinned_to_every_checked_address_with_one_protocol_and_no_redirects(default_policy, resolves):
    resolves({"git.example.test": ["140.82.112.3", "2606:4700:4700::1111"]})
    plan = fetch_plan("https://git.example.test/owner/name.git")
    assert plan.url == "https://git.example.test/owner/name.git"
    settings = [plan.options[index + 1] for index in range(0, len(plan.options), 2)]
    assert settings == [
        "protocol.allow=never",
        "protocol.https.allow=always",
        "http.curloptResolve=git.example.test:443:140.82.112.3,[2606:4700:4700::1111]",
        "http.followRedirects=false",
    ]


def test_git_and_ssh_urls_connect_to_the_checked_address_and_ssh_keeps_checking_the_host_key(default_policy, resolves):
    resolves({"git.example.test": ["140.82.112.3"]})
    assert fetch_plan("git://git.example.test:9419/owner/name.git").url == "git://140.82.112.3:9419/owner/name.git"
    plan = fetch_plan("ssh://git@git.example.test:2222/owner/name.git")
    assert plan.url == "ssh://git@140.82.112.3:2222/owner/name.git"
    assert "protocol.ssh.allow=always" in plan.options
    ssh = next(option for option in plan.options if option.startswith("core.sshCommand="))
    assert "-oHostKeyAlias='[git.example.test]:2222'" in ssh and "StrictHostKeyChecking=accept-new" in ssh


def test_a_listed_host_may_resolve_to_a_private_address_but_never_to_metadata(default_policy, resolves):
    default_policy.REPOSITORY_FETCH_HOSTS = ["git.corp.test"]
    resolves({"git.corp.test": ["10.0.0.5"], "other.corp.test": ["10.0.0.6"]})
    assert "http.curloptResolve=git.corp.test:443:10.0.0.5" in fetch_plan("https://git.corp.test/a/b.git").options
    with pytest.raises(FetchRefused):
        fetch_plan("https://other.corp.test/a/b.git")
    resolves({"git.corp.test": ["169.254.169.254"]})
    with pytest.raises(FetchRefused):
        fetch_plan("https://git.corp.test/a/b.git")


def test_a_name_that_does_not_resolve_is_unreachable_not_refused(default_policy, resolves):
    resolves({})
    with pytest.raises(GitUnreachable, match="could not be resolved"):
        fetch_plan("https://gone.example.test/a/b.git")


def test_a_lookup_that_hangs_is_given_up_as_unreachable(default_policy, resolves, monkeypatch):
    monkeypatch.setattr(fetch_policy, "FETCH_LOOKUP_SECONDS", 0.2)
    resolver = resolves({})
    resolver.side_effect = lambda host, port: time.sleep(1) or [ipaddress.ip_address("140.82.112.3")]
    started = time.monotonic()
    with pytest.raises(GitUnreachable, match="could not be resolved"):
        fetch_plan("https://slow.example.test/a/b.git")
    assert time.monotonic() - started < 0.9


def test_a_refused_url_is_never_fetched_and_never_counts_as_unreachable(default_policy, make_repository):
    url = make_repository("local/repo", {"a": "1"}).as_uri()
    for read in (proof_file_fetch, remote_head, tree_blobs_list):
        with pytest.raises(FetchRefused) as refused:
            read(url)
        assert isinstance(refused.value, GitError) and not isinstance(refused.value, GitUnreachable)


def test_a_fetch_is_pinned_to_the_address_checked_even_when_the_name_changes_afterwards(
    settings, resolves, make_repository
):
    settings.REPOSITORY_FETCH_ALLOW = ["private", "http"]
    path = make_repository("pinned/repo", {".dataset-opt-out": "token\n"})
    seen: list[str] = []
    with serve_git_over_http(path.parent.parent, seen=seen) as base_url:
        port = base_url.rsplit(":", 1)[1]
        answers = iter([["127.0.0.1"], ["192.0.2.1"]])  # the second answer would lead nowhere
        resolver = resolves({})
        resolver.side_effect = lambda host, port: [ipaddress.ip_address(a) for a in next(answers)]
        proof = proof_file_fetch(f"http://git.pinned.test:{port}/pinned/repo/.git")
    assert proof.content == b"token\n"
    assert resolver.call_count == 1  # git itself looked nothing up: the name is not in any DNS
    assert seen and all(path.startswith("/pinned/repo/.git/") for path in seen)


@pytest.fixture
def redirecting_server():
    """A loopback HTTP server that redirects every request to the URL in `target[0]`."""
    target = [""]
    hits: list[str] = []

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", target[0] + self.path)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", target, hits
    server.shutdown()
    server.server_close()


def test_a_redirect_to_another_host_is_not_followed(settings, make_repository, redirecting_server):
    settings.REPOSITORY_FETCH_ALLOW = ["private", "http"]
    path = make_repository("moved/repo", {"a": "1"})
    redirect_url, target, hits = redirecting_server
    seen: list[str] = []
    with serve_git_over_http(path.parent.parent, seen=seen) as base_url:
        target[0] = base_url.replace("127.0.0.1", "localhost")
        with pytest.raises(GitError):
            remote_head(f"{redirect_url}/moved/repo/.git")
    assert hits and not seen


def test_a_submission_looks_each_host_up_once_and_never_the_big_forges(default_policy, resolves):
    resolver = resolves({"git.corp.test": ["10.0.0.5"], "git.example.test": ["140.82.112.3"]})
    screen = FetchScreen()
    refusals = screen.refusals(
        [
            "https://github.com/psf/requests.git",
            "https://git.corp.test/a/b.git",
            "https://git.corp.test/a/c.git",
            "https://git.example.test/a/b.git",
            "https://unknown.example.test/a/b.git",  # does not resolve now: the fetch decides
        ]
    )
    assert set(refusals) == {"https://git.corp.test/a/b.git", "https://git.corp.test/a/c.git"}
    assert "https://git.corp.test/a/c.git is not on a public address" in refusals["https://git.corp.test/a/c.git"]
    assert sorted(call.args[0] for call in resolver.call_args_list) == [
        "git.corp.test",
        "git.example.test",
        "unknown.example.test",
    ]


def test_a_submission_stops_looking_names_up_when_its_time_is_spent(default_policy, resolves):
    resolver = resolves({"git.corp.test": ["10.0.0.5"]})
    assert FetchScreen(budget_seconds=0).refusal("https://git.corp.test/a/b.git") is None
    assert resolver.call_count == 0


def test_an_unknown_word_in_the_allow_list_stops_the_start(tmp_path):
    from tests.test_settings import _start_settings

    completed = _start_settings(tmp_path, DJANGO_DEBUG="1", REPOSITORY_FETCH_ALLOW="local,everything")
    assert completed.returncode != 0
    assert "REPOSITORY_FETCH_ALLOW names 'everything'" in completed.stderr
    assert fetch_policy.ALLOW_CHOICES == ("local", "private", "http")
