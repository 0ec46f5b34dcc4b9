"""What the fetch policy refuses is refused where it is submitted (form, API, import, scan), never queued;
and a row from before the policy is refused again when it would be fetched."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audits.models import Scan
from audits.rescans import rescans_due
from governance.models import DatasetRepository, Repository
from governance.services import dataset_get_or_create, repository_ensure
from governance.tokens import pipeline_token_issue
from optout import services
from optout.models import OptOutRequest, Verification
from tests.optout_helpers import file_and_confirm

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def default_policy(settings, resolves):
    settings.REPOSITORY_FETCH_ALLOW = []
    settings.REPOSITORY_FETCH_HOSTS = []
    resolves({"git.corp.test": ["10.0.0.5"], "git.example.test": ["140.82.112.3"]})
    return settings


def form_data(**fields):
    return {"email": "owner@example.org", "scope": "repositories", "repositories": "", "reason": "", **fields}


def test_the_preview_names_every_refused_line_and_offers_no_submit(client, default_policy):
    lines = [
        "file:///srv/git/tool",
        "http://127.0.0.1:9/alice/tool",
        "https://git.corp.test/team/tool",
        "https://git.example.test/team/tool",
        "acme/widgets",
    ]
    page = client.post("/opt-out/", form_data(repositories="\n".join(lines))).content.decode()
    assert "<strong>Line 1</strong>: file:///srv/git/tool is a repository on this server&#x27;s disk" in page
    assert "<strong>Line 2</strong>: http://127.0.0.1:9/alice/tool.git uses plain http" in page
    assert "<strong>Line 3</strong>: https://git.corp.test/team/tool.git is not on a public address" in page
    assert "10.0.0.5" not in page
    assert "Line 4" not in page and "<code>git.example.test/team/tool</code>" in page
    assert 'value="submit"' not in page


def test_a_refused_line_is_refused_at_submission_and_nothing_is_filed(client, default_policy):
    response = client.post("/opt-out/", form_data(repositories="acme/widgets\nfile:///srv/x/y", action="submit"))
    assert response.status_code == 400
    assert "Line 2: file:///srv/x/y is a repository on this server&#x27;s disk" in response.content.decode()
    assert not OptOutRequest.objects.exists() and not Repository.objects.exists()


def test_a_namespace_whose_proof_repository_is_refused_cannot_be_submitted(client, default_policy):
    fields = form_data(scope="namespace", namespace="git.corp.test/team", proof_repository="git.corp.test/team/.github")
    page = client.post("/opt-out/", fields).content.decode()
    assert "Proof repository: https://git.corp.test/team/.github.git is not on a public address" in page
    response = client.post("/opt-out/", {**fields, "action": "submit"})
    assert response.status_code == 400 and not OptOutRequest.objects.exists()


def test_the_inventory_api_refuses_each_unfetchable_entry_alone(client, default_policy):
    dataset_get_or_create(slug="the-stack")
    token = pipeline_token_issue(name="nightly", dataset_slugs=["the-stack"])[1]
    body = {"repositories": ["acme/widgets", "file:///srv/git/tool", "https://localhost/a/b"]}
    response = client.post(
        "/api/v1/datasets/the-stack/inventory/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["repository"] == "github.com/acme/widgets"
    assert [result["error"]["code"] for result in results[1:]] == ["fetch_refused", "fetch_refused"]
    assert "on this server's disk" in results[1]["error"]["detail"]
    assert "names this server" in results[2]["error"]["detail"]
    assert list(DatasetRepository.objects.values_list("repository__canonical", flat=True)) == [
        "github.com/acme/widgets"
    ]


def test_an_import_names_each_refused_row_and_imports_the_others(tmp_path, default_policy):
    path = tmp_path / "inventory.jsonl"
    rows = [{"repository": "acme/widgets"}, {"repository": "https://10.0.0.1/a/b"}, {"repository": "acme/widgets"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out, err = StringIO(), StringIO()
    call_command("import_inventory", "the-stack", str(path), stdout=out, stderr=err)
    assert "row 2: https://10.0.0.1/a/b.git names an IP address" in err.getvalue()
    assert "1 rows refused" in out.getvalue()
    assert list(DatasetRepository.objects.values_list("repository__canonical", flat=True)) == [
        "github.com/acme/widgets"
    ]


def test_a_scan_of_a_refused_source_fails_with_its_reason_and_starts_nothing(make_repository, default_policy):
    path = make_repository("local/tool", {"LICENSE": "MIT"})
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("scan_repository", str(path), "--json", stdout=out, stderr=StringIO())
    line = json.loads(out.getvalue())
    assert line["source"] == str(path)
    assert "cannot be scanned" in line["error"] and "on this server's disk" in line["error"]
    assert not Scan.objects.exists()


def test_rescans_skip_repositories_the_policy_refuses_by_their_url(settings):
    dataset = dataset_get_or_create(slug="the-stack")[0]
    for text in ["file:///srv/git/tool", "http://127.0.0.1:8080/a/b", "https://[::1]/a/b", "acme/widgets"]:
        DatasetRepository.objects.create(dataset=dataset, repository=repository_ensure(text=text))
    settings.REPOSITORY_FETCH_ALLOW = []
    assert [repository.canonical for repository in rescans_due()] == ["github.com/acme/widgets"]
    settings.REPOSITORY_FETCH_ALLOW = ["local", "private", "http"]
    assert len(rescans_due()) == 4


def test_a_request_filed_before_the_policy_is_refused_when_checked_and_not_retried_soon(make_repository, settings):
    url = make_repository("alice/tool", {"a": "1"}).as_uri()
    request = file_and_confirm(repositories=[url]).request  # local fetches were allowed then
    settings.REPOSITORY_FETCH_ALLOW = []
    Verification.objects.filter(request=request).update(next_check_at=timezone.now())
    services.optout_request_verify(request_id=request.pk)
    verification = request.verifications.get()
    assert verification.state == Verification.State.PENDING and verification.attempts == 1
    assert verification.next_check_at > timezone.now() + timedelta(minutes=settings.OPTOUT_RECHECK_MINUTES - 1)
    assert "could not be read" in verification.result and "disk" not in verification.result
    assert "on this server's disk" in verification.detail


def test_the_demo_says_what_to_set_when_local_fetches_are_off(settings):
    settings.REPOSITORY_FETCH_ALLOW = []
    with pytest.raises(CommandError, match=r"set REPOSITORY_FETCH_ALLOW=local to load it \(`make run` does this"):
        call_command("demo", stdout=StringIO())
    assert not Repository.objects.exists()
