"""Reservation files in general: which files are read, limits, bytes that are not text, and no crash on any input."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout.reservations import MAX_FILE_BYTES, RESERVATION_FILES, Malformed, Reservation, reservations_parse


def test_the_six_root_files_are_read_in_the_documented_order():
    assert list(RESERVATION_FILES) == [
        "tdmrep.json",
        ".well-known/tdmrep.json",
        "ai.txt",
        ".gitattributes",
        ".aipref",
        "ai-preferences.txt",
    ]


def test_no_file_means_no_reservation_and_nothing_malformed():
    assert reservations_parse({}) == ([], [])


def test_files_with_other_names_are_not_read():
    assert reservations_parse({"robots.txt": b"User-Agent: *\nDisallow: /\n"}) == ([], [])


def test_reservations_come_in_file_order_with_their_reason():
    found, _ = reservations_parse(
        {".aipref": b"Content-Usage: train-ai=n\n", "ai.txt": b"User-Agent: *\nDisallow: /\n"}
    )
    assert [(r.file, r.reason) for r in found] == [("ai.txt", "reservation:ai-txt"), (".aipref", "reservation:aipref")]


@pytest.mark.parametrize("name", list(RESERVATION_FILES))
def test_a_file_over_the_size_limit_is_malformed_and_not_read(name):
    content = b"User-Agent: *\nDisallow: /\n" + b"#" * MAX_FILE_BYTES
    found, malformed = reservations_parse({name: content})
    assert found == []
    assert malformed == [Malformed(RESERVATION_FILES[name], name, malformed[0].error)]
    assert "too large" in malformed[0].error


@pytest.mark.parametrize("name", list(RESERVATION_FILES))
def test_a_binary_file_is_malformed_and_not_read(name):
    found, malformed = reservations_parse({name: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"})
    assert found == []
    assert "binary" in malformed[0].error


@pytest.mark.parametrize("name", list(RESERVATION_FILES))
def test_an_empty_file_reserves_nothing(name):
    found, _ = reservations_parse({name: b""})
    assert found == []


def test_an_empty_tdmrep_file_is_malformed_because_it_is_not_json():
    _, malformed = reservations_parse({"tdmrep.json": b""})
    assert "empty" in malformed[0].error


def test_a_line_that_is_not_utf8_is_reported_and_the_other_lines_still_count():
    found, malformed = reservations_parse({"ai.txt": b"# caf\xe9\nUser-Agent: *\nDisallow: /\n"})
    assert [r.line for r in found] == [3]
    assert malformed == [Malformed("ai-txt", "ai.txt", "line 1: not UTF-8 text; ignored")]


def test_the_evidence_text_is_cut_to_about_300_characters():
    found, _ = reservations_parse({"ai.txt": b"User-Agent: *\nDisallow: /" + b"a" * 1000 + b"\n"})
    assert len(found[0].text) <= 300


def test_a_whole_repository_reservation_covers_every_path():
    whole = Reservation("ai-txt", "ai.txt", 2, "Disallow: /")
    assert whole.covers("src/a.py") and whole.covers("README") and whole.reason == "reservation:ai-txt"


@pytest.mark.parametrize("name", list(RESERVATION_FILES))
@settings(max_examples=150, deadline=None)
@given(content=st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise(name, content):
    found, malformed = reservations_parse({name: content})
    for reservation in found:
        reservation.covers("src/a.py")
        reservation.covers("")
    assert all(isinstance(m, Malformed) for m in malformed)


ALPHABET = st.sampled_from(
    [
        "User-Agent: *",
        "Disallow: ",
        "Allow: ",
        "Content-Usage: ",
        "train-ai=n",
        "ai-training=false",
        "-ai-training",
        "*",
        "**",
        "/",
        "$",
        "[",
        "]",
        "!",
        '"',
        "\\",
        "#",
        ":",
        ",",
        ";",
        "=",
        "(",
        ")",
        "\n",
        "\r\n",
        " ",
        "\t",
        "a",
        ".py",
        "{",
        "}",
        '"location"',
        '"tdm-reservation"',
        "1",
        "0",
        "\ufeff",
        "é",
    ]
)


@pytest.mark.parametrize("name", list(RESERVATION_FILES))
@settings(max_examples=150, deadline=None)
@given(parts=st.lists(ALPHABET, max_size=60), path=st.text(alphabet="ab/.*[]$", max_size=12))
def test_near_miss_text_never_raises_and_covers_answers_a_boolean(name, parts, path):
    found, _ = reservations_parse({name: "".join(parts).encode("utf-8")})
    for reservation in found:
        assert reservation.covers(path) in (True, False)
