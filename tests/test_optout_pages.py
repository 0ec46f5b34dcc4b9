"""The opt-out pages: form and preview, confirmation, private status page, review queue."""

import re

import pytest
from django.core import mail
from django.utils import timezone

from governance.services import dataset_get_or_create
from optout import services
from optout.models import OptOutRequest
from tests.optout_helpers import commit_proof, file_and_confirm, verify_all

pytestmark = pytest.mark.django_db(transaction=True)


def form_data(**fields):
    return {"email": "owner@example.org", "scope": "repositories", "repositories": "", "reason": "", **fields}


def test_the_form_explains_the_steps_and_is_labelled(client):
    page = client.get("/opt-out/").content.decode()
    assert "prove that you control the code" in page
    for field in ["id_email", "id_repositories", "id_namespace", "id_proof_repository", "id_reason"]:
        assert f'for="{field}"' in page


def test_every_help_text_is_the_one_its_field_points_to(client):
    html = client.get("/opt-out/").content.decode()
    described = re.findall(r'aria-describedby="([^"]+)"', html)
    assert described, "the form's fields name their help texts"
    for ids in described:
        for help_id in ids.split():
            assert f'id="{help_id}"' in html, f"{help_id} is named by a field but not on the page"


def test_the_opt_out_button_of_the_lookup_fills_the_form(client):
    page = client.get("/opt-out/", {"repository": "github.com/acme/widgets"}).content.decode()
    assert "github.com/acme/widgets</textarea>" in page


def test_preview_lists_canonical_repositories_and_files_nothing(client):
    response = client.post(
        "/opt-out/",
        form_data(repositories="https://github.com/Acme/Widgets.git\ngit@github.com:acme/widgets.git\nacme/gadgets"),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<code>github.com/acme/widgets</code>" in page and "<code>github.com/acme/gadgets</code>" in page
    assert "line 2" in page and "Submit request" in page
    assert not OptOutRequest.objects.exists() and not mail.outbox


def test_preview_names_each_line_it_cannot_read_and_offers_no_submit(client):
    page = client.post("/opt-out/", form_data(repositories="acme/widgets\nThanks for your help!\n")).content.decode()
    assert "Line 2</strong>" in page and "could not be read" in page
    assert 'value="submit"' not in page


def test_submitting_files_the_request_and_sends_the_mail(client):
    response = client.post("/opt-out/", form_data(repositories="acme/widgets", action="submit"))
    assert response.status_code == 302 and response["Location"] == "/opt-out/sent/"
    assert OptOutRequest.objects.get().state == "awaiting_email"
    assert "/opt-out/confirm/" in mail.outbox[0].body


def test_a_submission_with_a_bad_line_is_refused_with_the_line(client):
    response = client.post("/opt-out/", form_data(repositories="acme/widgets\nnot a repo", action="submit"))
    assert response.status_code == 400 and "Line 2 is not a repository" in response.content.decode()
    assert not OptOutRequest.objects.exists()


def test_missing_fields_are_named(client):
    response = client.post("/opt-out/", {"scope": "namespace"})
    page = response.content.decode()
    assert response.status_code == 400
    assert (
        "Name the owner or group" in page and "Name a repository under it" in page and "This field is required" in page
    )


def test_oversized_fields_are_refused(client):
    response = client.post("/opt-out/", form_data(repositories="a/b", reason="x" * 5000, action="submit"))
    assert response.status_code == 400 and "at most 2000 characters" in response.content.decode()


def test_too_many_submissions_answer_429_with_when_to_retry(client, settings):
    settings.OPTOUT_SUBMISSIONS_PER_IP_PER_HOUR = 1
    client.post("/opt-out/", form_data(repositories="a/b", action="submit"))
    response = client.post("/opt-out/", form_data(email="other@example.org", repositories="a/b", action="submit"))
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "try again in" in response.content.decode()


def test_the_confirmation_link_needs_a_button_press(client):
    client.post("/opt-out/", form_data(repositories="acme/widgets", action="submit"))
    link = re.search(r"/opt-out/confirm/[^/]+/", mail.outbox[0].body).group(0)
    assert client.get(link).status_code == 200  # a mail scanner opening it changes nothing
    assert OptOutRequest.objects.get().state == "awaiting_email"
    response = client.post(link)
    assert response.status_code == 302 and response["Location"].startswith("/opt-out/r/")
    assert response["Referrer-Policy"] == "same-origin"
    assert OptOutRequest.objects.get().state == "awaiting_proof"
    again = client.post(link)
    assert again.status_code == 410 and "not valid any more" in again.content.decode()


def test_the_status_page_explains_the_proof_and_never_shows_the_address_or_reason(client, make_repository):
    repository = make_repository("erin/tool", {"a": "1"}).as_uri()
    confirmation = file_and_confirm(repositories=[repository], email="erin@example.org", reason="my secret reason")
    response = client.get(f"/opt-out/r/{confirmation.status_token}/")
    page = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert confirmation.request.proof_token in page and ".dataset-opt-out" in page and "Verify now" in page
    assert "erin@example.org" not in page and "my secret reason" not in page
    assert re.search(r"E-mail address confirmed", page)


def test_verify_now_on_the_status_page_checks_the_proof(client, make_repository):
    repository = make_repository("erin/tool", {"a": "1"}).as_uri()
    confirmation = file_and_confirm(repositories=[repository])
    commit_proof(make_repository, "erin/tool", confirmation.request.proof_token)
    response = client.post(f"/opt-out/r/{confirmation.status_token}/", {"action": "verify"}, follow=True)
    page = response.content.decode()
    assert 'id="request-state">Excluded<' in page
    assert "Proof found in commit" in page and "is now excluded" in page


def test_verify_now_over_its_limits_answers_429_with_retry_after_and_says_why(client, make_repository, settings):
    confirmation = file_and_confirm(repositories=[make_repository("erin/tool", {"a": "1"}).as_uri()])
    url = f"/opt-out/r/{confirmation.status_token}/"
    assert client.post(url, {"action": "verify"}).status_code == 302
    again = client.post(url, {"action": "verify"})
    assert again.status_code == 429 and 0 < int(again["Retry-After"]) <= 31
    assert "Please wait" in again.content.decode() and "no-store" in again["Cache-Control"]

    settings.OPTOUT_VERIFY_INTERVAL_SECONDS = 0
    settings.OPTOUT_VERIFY_PER_IP_PER_HOUR = 1
    network = client.post(url, {"action": "verify"})
    assert network.status_code == 429 and int(network["Retry-After"]) > 60
    assert "Too many verification requests from your network" in network.content.decode()


def test_withdrawing_needs_the_box_ticked(client, make_repository):
    confirmation = file_and_confirm(repositories=[make_repository("f/r", {"a": "1"}).as_uri()])
    url = f"/opt-out/r/{confirmation.status_token}/"
    page = client.post(url, {"action": "withdraw"}, follow=True).content.decode()
    assert "Tick the box" in page and OptOutRequest.objects.get().state == "awaiting_proof"
    client.post(url, {"action": "withdraw", "confirm": "yes"})
    assert OptOutRequest.objects.get().state == "withdrawn"


def test_an_unknown_status_link_is_a_plain_404(client):
    response = client.get("/opt-out/r/not-a-real-token/")
    assert response.status_code == 404 and "No request has this status link" in response.content.decode()


def test_the_review_queue_is_only_for_maintainers(client, outsider, maintainer):
    assert client.get("/review/requests/").status_code == 302
    client.force_login(outsider)
    assert client.get("/review/requests/").status_code == 302
    client.force_login(maintainer)
    assert client.get("/review/requests/").status_code == 200


def test_a_maintainer_approves_from_the_queue(client, maintainer, make_repository, settings):
    settings.OPTOUT_AUTO_APPROVE = False
    confirmation = file_and_confirm(repositories=[make_repository("g/r", {"a": "1"}).as_uri()], reason="private")
    commit_proof(make_repository, "g/r", confirmation.request.proof_token)
    services.optout_request_verify_now(request=confirmation.request)
    services.optout_request_verify(request_id=confirmation.request.pk)
    client.force_login(maintainer)
    queue = client.get("/review/requests/").content.decode()
    assert f"#{confirmation.request.pk}" in queue
    detail = client.get(f"/review/requests/{confirmation.request.pk}/").content.decode()
    assert "private" in detail and "Approve" in detail  # maintainers read the private reason
    client.post(f"/review/requests/{confirmation.request.pk}/", {"action": "approve"})
    assert OptOutRequest.objects.get().state == "active"


def test_the_lookup_shows_an_exclusion_with_its_public_reason_only(client, make_repository):
    dataset_get_or_create(slug="the-stack")
    confirmation = file_and_confirm(repositories=["github.com/h/r"], reason="very private")
    from django.core.management import call_command

    call_command("exclude", "the-stack", "github.com/h/r", "--reason", "legal secret")
    page = client.get("/", {"q": "https://github.com/H/R"}).content.decode()
    assert "status-excluded" in page and "(administrative)" in page
    assert "legal secret" not in page and "very private" not in page and "owner@example.org" not in page
    assert confirmation.request.proof_token not in page


def test_a_post_without_the_csrf_token_is_refused(make_repository):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/opt-out/", form_data(repositories="a/b", action="submit"))
    assert response.status_code == 403 and not OptOutRequest.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "scope"),
    [
        ("email", "a" * 250 + "@example.org", "repositories"),
        ("repositories", "github.com/a/b\n" * 20_000, "repositories"),
        ("namespace", "github.com/" + "a" * 1000, "namespace"),
        ("proof_repository", "github.com/a/" + "b" * 1000, "namespace"),
    ],
)
def test_every_field_has_a_size_limit(client, field, value, scope):
    data = form_data(scope=scope, repositories="a/b", namespace="github.com/a", proof_repository="github.com/a/b")
    data.update({field: value, "action": "submit"})
    response = client.post("/opt-out/", data)
    assert response.status_code == 400 and "at most" in response.content.decode()
    assert not OptOutRequest.objects.exists()


def test_the_status_page_reports_a_running_check_to_its_script_until_it_is_done(client, make_repository):
    confirmation = file_and_confirm(repositories=[make_repository("k/r", {"a": "1"}).as_uri()], email="k@example.org")
    request = confirmation.request
    url = f"/opt-out/r/{confirmation.status_token}/"
    before = client.get(url, {"format": "json"}).json()
    assert before["checking"] is False and "k@example.org" not in str(before)

    # Asked from the page, not read yet (a worker has it): the page says so.
    OptOutRequest.objects.filter(pk=request.pk).update(last_check_requested_at=timezone.now())
    assert client.get(url, {"format": "json"}).json()["checking"] is True
    assert "Checking now…" in client.get(url).content.decode()

    verify_all(request)  # the proof is still missing: the check ends without it
    after = client.get(url, {"format": "json"}).json()
    assert after["checking"] is False and after["fingerprint"] != before["fingerprint"]
    page = client.get(url).content.decode()
    assert "Checking now…" not in page and "No .dataset-opt-out file on the default branch yet" in page


def test_verify_now_pressed_says_how_long_before_it_can_be_pressed_again(client, make_repository, settings):
    settings.OPTOUT_VERIFY_INTERVAL_SECONDS = 30
    confirmation = file_and_confirm(repositories=[make_repository("k/r", {"a": "1"}).as_uri()])
    url = f"/opt-out/r/{confirmation.status_token}/"
    assert "data-wait-seconds" not in client.get(url).content.decode()

    page = client.post(url, {"action": "verify"}, follow=True).content.decode()
    assert 'value="verify" data-wait-seconds="30"' in page
    assert 'you can ask again in <span class="wait-seconds">30</span> seconds' in page

    again = client.post(url, {"action": "verify"})
    assert again.status_code == 429 and "Please wait 30 seconds." in again.content.decode()
    assert 'data-wait-seconds="30"' in again.content.decode()


@pytest.mark.parametrize(
    ("proven", "heading"),
    [(False, "Repository"), (True, "Excluded")],
    ids=["waiting-for-proof", "excluded"],
)
def test_the_repositories_column_says_excluded_only_once_they_are(client, make_repository, proven, heading):
    confirmation = file_and_confirm(repositories=[make_repository("k/r", {"a": "1"}).as_uri()])
    if proven:
        commit_proof(make_repository, "k/r", confirmation.request.proof_token)
    services.optout_request_verify_now(request=confirmation.request)  # inline: read at once
    page = client.get(f"/opt-out/r/{confirmation.status_token}/").content.decode()
    assert f'<thead><tr><th scope="col">{heading}</th>' in page


def test_a_request_in_review_heads_its_repositories_column_repository(client, make_repository, settings):
    settings.OPTOUT_AUTO_APPROVE = False
    confirmation = file_and_confirm(repositories=[make_repository("k/r", {"a": "1"}).as_uri()])
    commit_proof(make_repository, "k/r", confirmation.request.proof_token)
    services.optout_request_verify_now(request=confirmation.request)
    confirmation.request.refresh_from_db()
    assert confirmation.request.state == "in_review"
    page = client.get(f"/opt-out/r/{confirmation.status_token}/").content.decode()
    assert '<thead><tr><th scope="col">Repository</th>' in page
