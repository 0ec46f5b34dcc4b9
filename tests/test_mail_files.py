"""Mail in embedded mode (governance/mail.py): one readable .eml file per message, its links on the console."""

import email
import email.policy
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from governance.mail import UnwrappedMail, address_masked, mail_links_unprinted
from optout import services
from optout.models import OptOutRequest

pytestmark = pytest.mark.django_db(transaction=True)

LINK_RE = re.compile(r"https?://\S+")


@pytest.fixture
def mail_dir(settings, data_dir):
    """Mails go where `make run` puts them when no SMTP host is configured (settings.MAILERS)."""
    folder = data_dir / "mail"
    settings.DEBUG = True  # as `make run` runs
    settings.MAILERS = {"default": {"BACKEND": "governance.mail.EmlFileBackend", "OPTIONS": {"file_path": str(folder)}}}
    return folder


def submit(repo, email_address="alice.liddell@example.org"):
    return services.optout_request_submit(
        email=email_address, scope="repositories", repositories_text=repo, reason="", ip="203.0.113.1"
    )


def test_the_confirmation_link_copied_from_the_mail_file_confirms_the_request(mail_dir, repo, client):
    submit(repo)
    [eml] = mail_dir.glob("*.eml")
    raw = eml.read_text(encoding="utf-8")  # as a person opens it in an editor
    assert "quoted-printable" not in raw.lower() and "base64" not in raw.lower()

    link = next(link for link in LINK_RE.findall(raw) if "/opt-out/confirm/" in link)
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200 and b"Confirm my request" in page.content
    confirmed = client.post(urlsplit(link).path)
    assert confirmed.status_code == 302 and "/opt-out/r/" in confirmed["Location"]
    assert OptOutRequest.objects.get().state != OptOutRequest.State.AWAITING_EMAIL


def test_each_mail_is_a_file_of_its_own_with_plain_utf8_parts(mail_dir, repo):
    submit(repo, "first@example.org")
    submit(repo, "second@example.org")
    files = sorted(mail_dir.glob("*.eml"))
    assert len(files) == 2
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    parts = [part for part in message.walk() if part.get_content_maintype() == "text"]
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part["Content-Transfer-Encoding"] in ("7bit", "8bit") for part in parts)
    assert all(part.get_content_charset() == "utf-8" for part in parts)


def test_the_console_shows_the_links_of_a_mail_but_not_the_address(mail_dir, repo, capsys, caplog):
    submit(repo, "alice.liddell@example.org")
    printed = capsys.readouterr().err
    [line] = [line for line in printed.splitlines() if line.startswith("Mail to ")]
    assert line.startswith('Mail to a…@example.org ("Confirm your opt-out request"): http://127.0.0.1:8000/opt-out/')
    [eml] = mail_dir.glob("*.eml")
    assert LINK_RE.search(line).group(0) in eml.read_text(encoding="utf-8")
    assert "alice.liddell" not in printed + caplog.text


def test_the_links_of_a_mail_follow_the_public_base_url(mail_dir, repo, settings, capsys):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8001"
    submit(repo)
    assert "http://127.0.0.1:8001/opt-out/confirm/" in capsys.readouterr().err


def test_long_links_are_never_wrapped_whichever_policy_a_backend_asks_for():
    link = "https://portal.example/opt-out/confirm/" + "A" * 150 + "/"
    mail = UnwrappedMail(subject="s", body=f"Open:\n\n{link}\n", to=["a@example.org"])
    mail.attach_alternative(f'<p><a href="{link}">{link}</a></p>', "text/html")
    for policy in (email.policy.default, email.policy.SMTP):
        sent = mail.message(policy=policy).as_bytes().decode()
        assert sent.count(link) == 3 and "quoted-printable" not in sent


@pytest.mark.parametrize(
    ("address", "shown"),
    [("alice@example.org", "a…@example.org"), ("x@y.z", "x…@y.z"), ("not an address", "…")],
)
def test_an_address_on_the_console_keeps_its_first_letter_and_domain(address, shown):
    assert address_masked(address) == shown


def test_mails_sent_while_links_are_unprinted_are_written_but_not_announced(mail_dir, repo, capsys):
    with mail_links_unprinted():
        submit(repo)
    assert "Mail to " not in capsys.readouterr().err and len(list(mail_dir.glob("*.eml"))) == 1


def test_the_confirmation_mail_as_the_smtp_backend_builds_it_keeps_its_link_whole(repo, settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    submission = submit(repo)
    [message] = mail.outbox
    sent = message.message(policy=email.policy.SMTP).as_bytes().decode()  # what SMTP's backend sends
    assert f"/opt-out/confirm/{submission.confirm_token}/" in sent and "quoted-printable" not in sent.lower()


def test_without_debug_the_console_line_masks_the_private_link(mail_dir, repo, settings, capsys):
    settings.DEBUG = False  # a server whose console is a log
    submission = submit(repo)
    printed = capsys.readouterr().err
    assert "http://127.0.0.1:8000/opt-out/confirm/…/" in printed and submission.confirm_token not in printed
