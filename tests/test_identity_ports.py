"""A self-hosted server's port is part of a repository's identity, ssh:// and git:// ports stay in the clone URL,
and a proof is read from the URL its owner submitted."""

import pytest
from django.utils import timezone

from governance.identity import canonical_and_namespace, parse_namespace, parse_repository
from governance.models import Repository
from optout import services
from optout.models import Verification
from tests.git_http import serve_git_over_http
from tests.optout_helpers import commit_proof, file_and_confirm


@pytest.mark.parametrize(
    ("spelling", "canonical", "namespace", "clone_url"),
    [
        ("https://git.example.org:8443/Team/Tool", "git.example.org:8443/Team/Tool", "git.example.org:8443/Team",
         "https://git.example.org:8443/Team/Tool.git"),
        ("http://git.example.org:1/Team/Tool.git", "git.example.org:1/Team/Tool", "git.example.org:1/Team",
         "http://git.example.org:1/Team/Tool.git"),
        ("git.example.org:8443/Team/Tool", "git.example.org:8443/Team/Tool", "git.example.org:8443/Team",
         "https://git.example.org:8443/Team/Tool.git"),
        ("http://[::1]:8080/o/r", "[::1]:8080/o/r", "[::1]:8080/o", "http://[::1]:8080/o/r.git"),
    ],
)  # fmt: skip
def test_a_web_port_other_than_the_schemes_is_part_of_the_identity(spelling, canonical, namespace, clone_url):
    ref = parse_repository(spelling)
    assert (ref.canonical, ref.namespace, ref.clone_url) == (canonical, namespace, clone_url)
    assert parse_repository(ref.canonical).canonical == canonical  # the canonical spelling parses back to itself
    assert canonical_and_namespace(spelling) == (canonical, namespace)
    assert parse_namespace(namespace) == namespace


def test_two_servers_on_one_host_are_two_repositories():
    assert (
        parse_repository("https://h.example.org:8443/a/b").canonical
        != parse_repository("http://h.example.org:1/a/b").canonical
    )


@pytest.mark.parametrize(
    "spelling",
    ["https://h.example.org/a/b", "https://h.example.org:443/a/b", "http://h.example.org:80/a/b",
     "http://h.example.org/a/b", "git@h.example.org:a/b.git", "ssh://git@h.example.org:2222/a/b",
     "git://h.example.org:9419/a/b"],
)  # fmt: skip
def test_default_web_ports_and_ssh_or_git_ports_leave_the_identity_as_it_was(spelling):
    assert parse_repository(spelling).canonical == "h.example.org/a/b"


@pytest.mark.parametrize(
    ("spelling", "clone_url"),
    [
        ("ssh://git@git.example.org:2222/Team/Tool.git", "ssh://git@git.example.org:2222/Team/Tool.git"),
        ("git+ssh://git@git.example.org/Team/Tool", "ssh://git@git.example.org/Team/Tool.git"),
        ("git://git.example.org:9419/Team/Tool", "git://git.example.org:9419/Team/Tool.git"),
        ("git@git.example.org:Team/Tool.git", "https://git.example.org/Team/Tool.git"),
    ],
)
def test_ssh_and_git_urls_keep_their_scheme_and_port_for_git(spelling, clone_url):
    assert parse_repository(spelling).clone_url == clone_url


@pytest.mark.parametrize(
    "spelling",
    ["https://github.com:8443/psf/requests", "ssh://git@github.com:22/psf/requests", "git://github.com/psf/requests"],
)
def test_the_big_forges_ignore_ports_and_are_read_over_https(spelling):
    ref = parse_repository(spelling)
    assert (ref.canonical, ref.clone_url) == ("github.com/psf/requests", "https://github.com/psf/requests.git")


@pytest.mark.django_db(transaction=True)
def test_a_proof_is_read_from_the_url_its_owner_submitted_not_the_first_one_seen(settings, make_repository):
    settings.REPOSITORY_FETCH_ALLOW = ["private", "http"]
    path = make_repository("team/tool.git", {"README": "x"})
    with serve_git_over_http(path.parent.parent) as base_url:
        authority = base_url.removeprefix("http://")
        # Both name one repository; the first spelling makes the row, with an https clone URL this server cannot serve.
        first = file_and_confirm(repositories=[f"{authority}/team/tool"], email="first@example.org").request
        second = file_and_confirm(repositories=[f"{base_url}/team/tool"], email="second@example.org").request
        repository = Repository.objects.get()
        assert repository.clone_url.startswith("https://")
        commit_proof(make_repository, "team/tool.git", second.proof_token)
        for request in (first, second):
            Verification.objects.filter(request=request).update(next_check_at=timezone.now())
            services.optout_request_verify(request_id=request.pk)
    assert second.verifications.get().proof_url == f"{base_url}/team/tool.git"
    assert second.verifications.get().state == Verification.State.VERIFIED
    assert first.verifications.get().state == Verification.State.UNREACHABLE  # https to an http server
