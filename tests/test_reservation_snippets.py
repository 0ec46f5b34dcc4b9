"""Once a proof is verified, the owner's status page offers the files that carry the reservation to every
crawler; each one is a whole-repository reservation for the portal's own reservation check."""

import html
import re

import pytest

from optout.reservations.formats import reservations_parse
from optout.selectors import RESERVATION_SNIPPETS
from tests.optout_helpers import commit_proof, file_and_confirm

pytestmark = pytest.mark.django_db(transaction=True)


def _snippets(page: str) -> dict[str, str]:
    found = re.findall(r"<h3><code>([^<]+)</code>.*?</h3>\s*<pre class=\"commands\">(.*?)</pre>", page, re.S)
    return {file: html.unescape(content) for file, content in found}


def test_a_request_waiting_for_its_proof_offers_no_snippets(client, make_repository):
    confirmation = file_and_confirm(repositories=[make_repository("erin/tool", {"a": "1"}).as_uri()])
    page = client.get(f"/opt-out/r/{confirmation.status_token}/").content.decode()
    assert "Tell other crawlers too" not in page and _snippets(page) == {}


def test_a_verified_request_offers_the_three_files_to_commit(client, make_repository):
    confirmation = file_and_confirm(repositories=[make_repository("erin/tool", {"a": "1"}).as_uri()])
    commit_proof(make_repository, "erin/tool", confirmation.request.proof_token)
    page = client.post(f"/opt-out/r/{confirmation.status_token}/", {"action": "verify"}, follow=True).content.decode()
    assert _snippets(page) == {snippet.file: snippet.content for snippet in RESERVATION_SNIPPETS}


@pytest.mark.parametrize("snippet", RESERVATION_SNIPPETS, ids=lambda snippet: snippet.file)
def test_every_offered_file_is_a_whole_repository_reservation(snippet):
    reservations, malformed = reservations_parse({snippet.file: snippet.content.encode()})
    assert malformed == []
    assert [(reservation.file, reservation.paths) for reservation in reservations] == [(snippet.file, ())]
    assert reservations[0].covers("any/file.py")
