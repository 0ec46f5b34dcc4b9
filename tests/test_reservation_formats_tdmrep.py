"""W3C TDMRep rules in tdmrep.json / .well-known/tdmrep.json."""

import pytest

from optout.reservations import reservations_parse

WHOLE = b"""[
  {
    "location": "/",
    "tdm-reservation": 1,
    "tdm-policy": "https://example.org/policies/tdm.json"
  }
]
"""

PARTIAL = b"""[
  {"location": "/docs/*", "tdm-reservation": 1, "tdm-policy": "https://example.org/tdm"},
  {"location": "/docs/public/*", "tdm-reservation": 0},
  {"location": "/*.ipynb$", "tdm-reservation": 1}
]"""


def parse(content, name=".well-known/tdmrep.json"):
    return reservations_parse({name: content})


@pytest.mark.parametrize("location", ["/", "/*", "*"])
def test_a_reservation_of_the_whole_site_reserves_the_whole_repository(location):
    found, malformed = parse(b'[{"location": "%s", "tdm-reservation": 1}]' % location.encode())
    assert malformed == []
    assert [(r.kind, r.paths, r.line) for r in found] == [("tdmrep", (), 1)]


def test_the_evidence_is_the_rule_and_its_line():
    (found,), _ = parse(WHOLE)
    assert found.line == 2
    assert found.text.startswith('{ "location": "/", "tdm-reservation": 1')
    assert found.file == ".well-known/tdmrep.json"


def test_a_reservation_of_a_location_covers_only_the_paths_under_it():
    found, malformed = parse(PARTIAL)
    assert malformed == []
    docs, notebooks = found
    assert docs.paths == ("docs/*",) and docs.line == 2
    assert docs.covers("docs/guide.md")
    assert docs.covers("docs/api/index.md")
    assert not docs.covers("src/docs/a.md")
    assert not docs.covers("README.md")


def test_a_more_specific_location_without_reservation_takes_paths_back():
    docs, _ = parse(PARTIAL)[0]
    assert not docs.covers("docs/public/a.md")
    assert docs.covers("docs/publicity.md")


def test_the_end_anchor_limits_a_location_to_whole_names():
    _, notebooks = parse(PARTIAL)[0]
    assert notebooks.covers("analysis/run.ipynb")
    assert not notebooks.covers("analysis/run.ipynb.bak")


def test_a_zero_reservation_everywhere_is_no_reservation():
    assert parse(b'[{"location": "/", "tdm-reservation": 0}]') == ([], [])


def test_a_site_reservation_with_an_exception_is_no_longer_whole():
    (found,), _ = parse(b'[{"location": "/*", "tdm-reservation": 1}, {"location": "/public/*", "tdm-reservation": 0}]')
    assert found.paths == ("*",)
    assert found.covers("src/a.py") and not found.covers("public/a.py")


def test_the_root_tdmrep_json_and_a_bom_and_crlf_are_read():
    found, malformed = parse(b'\xef\xbb\xbf[\r\n {"location": "/", "tdm-reservation": 1}\r\n]\r\n', name="tdmrep.json")
    assert malformed == [] and [(r.file, r.line) for r in found] == [("tdmrep.json", 2)]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b'[{"location": "/", "tdm-reservation": 1},]', "not valid JSON"),
        (b'{"location": "/", "tdm-reservation": 1}', "not a JSON array"),
        (b"tdm-reservation: 1", "not valid JSON"),
        (b'[{"tdm-reservation": 1}]', 'line 1: a rule has no "location"'),
        (b'[{"location": "/", "tdm-reservation": 2}]', '"tdm-reservation" is 2, not 0 or 1'),
        (b'[{"location": "/", "tdm-reservation": "1"}]', 'is "1", not 0 or 1'),
        (b'[{"location": "/", "tdm-reservation": true}]', "is true, not 0 or 1"),
        (b'[\n"/"\n]', "line 2: a rule is not a JSON object"),
        (b"[" * 40000, "not valid JSON: nested too deeply"),
        (b'[{"location": "/", "tdm-reservation": 1}] []', "extra data"),
        (b'[{"location": "/", "tdm-reservation": 1}]\xff', "not UTF-8"),
    ],
)
def test_a_file_that_is_not_a_valid_rule_list_is_malformed_and_reserves_nothing(content, error):
    found, (malformed,) = parse(content)
    assert found == []
    assert malformed.kind == "tdmrep" and error in malformed.error


def test_one_bad_rule_makes_the_whole_file_malformed_rather_than_a_guess():
    found, (malformed,) = parse(
        b'[{"location": "/", "tdm-reservation": 1},\n {"location": "/x", "tdm-reservation": 5}]'
    )
    assert found == [] and malformed.error.startswith("line 2:")


def test_an_empty_array_reserves_nothing():
    assert parse(b"[ ]") == ([], [])
