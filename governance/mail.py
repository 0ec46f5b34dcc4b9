"""Mails a person can read and whose links work: never wrapped, and in embedded mode one `.eml` file each.

Python's email policies wrap body lines at 78 characters; a text part with a longer line (a confirmation link
is one) goes out quoted-printable, and the link copied from the raw message ends in `=` and a line break.
`UnwrappedMail` builds every message, whichever backend sends it, with lines up to RFC 5322's limit of 998, so
a text or HTML part is sent as 7bit/8bit UTF-8 as written. `EmlFileBackend` (embedded mode, no SMTP host)
writes each message to its own `.eml` file and prints its links to the console of `make run`.
"""

import email.policy
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.filebased import EmailBackend as FileBackend

from governance.log_masking import secrets_masked

# RFC 5322 2.1.1: no line longer than 998 characters. A body within it is never re-encoded.
MAX_LINE_LENGTH = 998
_LINK_RE = re.compile(r"https?://[^\s<>\"']+")
_links_printed: ContextVar[bool] = ContextVar("mail_links_printed", default=True)


@contextmanager
def mail_links_unprinted() -> Iterator[None]:
    """Mails sent inside are written but not announced (the demo's mails to made-up people would bury the rest)."""
    reset = _links_printed.set(False)
    try:
        yield
    finally:
        _links_printed.reset(reset)


class UnwrappedMail(EmailMultiAlternatives):
    """A mail (text, optional HTML alternative) whose parts are never folded or quoted-printable."""

    def message(self, *, policy=email.policy.default):
        return super().message(policy=unwrapped(policy))


def unwrapped(policy: email.policy.Policy) -> email.policy.Policy:
    """`policy` (the SMTP backend asks for email.policy.SMTP) with lines up to 998 characters, 8bit allowed."""
    return policy.clone(max_line_length=MAX_LINE_LENGTH, cte_type="8bit")


def address_masked(address: str) -> str:
    """`a…@example.org`: enough to tell mails apart on a console, not enough to read an address."""
    local, at, domain = str(address).rpartition("@")
    if not at:
        return "…"
    return f"{local[:1]}…@{domain}"


def mail_links(message) -> list[str]:
    """The links of a mail's text part (and of its HTML alternative), in order, each once."""
    texts = [str(message.body)] + [str(part.content) for part in getattr(message, "alternatives", [])]
    links: list[str] = []
    for text in texts:
        for link in _LINK_RE.findall(text):
            if link not in links:
                links.append(link)
    return links


class EmlFileBackend(FileBackend):
    """Embedded mode's mail: each message in `<file_path>/<time>-<id>.eml`, its links printed on the console."""

    def send_messages(self, email_messages):
        sent = 0
        for message in email_messages or []:
            if not message.recipients():
                continue
            self._write_eml(message)
            if _links_printed.get():
                self._print_links(message)
            sent += 1
        return sent

    def _write_eml(self, message) -> Path:
        # Any EmailMessage (Django's own mails too, e.g. password resets) is built without wrapping here.
        content = message.message(policy=unwrapped(email.policy.default))
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = Path(self.file_path) / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
        path.write_bytes(content.as_bytes())
        return path

    def _print_links(self, message) -> None:
        # The console of `make run` (debug) is the reader's own: the links are what they came for, the addresses
        # are not. A server without SMTP and without debug writes its console to logs: private links masked there.
        to = ", ".join(address_masked(address) for address in message.to) or "…"
        links = mail_links(message)
        line = f'Mail to {to} ("{" ".join(str(message.subject).split())}")'
        line += f": {' '.join(links)}" if links else f" written to {self.file_path}"
        # On stderr, beside the server's own lines: a command's stdout may be data (`--json`, the benches).
        sys.stderr.write((line if settings.DEBUG else secrets_masked(line)) + "\n")
        sys.stderr.flush()
