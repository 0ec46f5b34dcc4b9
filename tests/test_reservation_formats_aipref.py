"""IETF AI Preferences: Content-Usage lines in .aipref / ai-preferences.txt."""

import pytest

from optout.reservations import reservations_parse

PATHS = b"""# AI usage preferences for this repository
Content-Usage: / search=y
Content-Usage: /models/ train-ai=n, search=y
Content-Usage: /models/open/ train-ai=y
Content-Usage: /*.csv$ train-ai=n
"""


def parse(content, name=".aipref"):
    return reservations_parse({name: content})


@pytest.mark.parametrize(
    "value",
    [b"train-ai=n", b"train-ai=n, search=y", b'search=y,train-ai=n;reason="x"', b"/ train-ai=n", b"train-genai=n"],
)
def test_train_ai_n_reserves_the_whole_repository(value):
    found, malformed = parse(b"Content-Usage: %s\n" % value, name="ai-preferences.txt")
    assert malformed == []
    assert [(r.kind, r.file, r.line, r.paths) for r in found] == [("aipref", "ai-preferences.txt", 1, ())]


@pytest.mark.parametrize(
    "value",
    [
        b"train-ai=y",
        b"search=n",
        b"ai-use=n",
        b'train-ai="n"',
        b"train-ai",
        b"train-ai=?0",
        b"train-ai=n, train-ai=y",
        b"train-ai=n, train-genai=y",
        b"future-label=n",
    ],
)
def test_anything_but_the_token_n_for_training_is_no_reservation(value):
    assert parse(b"Content-Usage: %s\n" % value) == ([], [])


def test_a_path_form_reserves_that_path_and_the_longest_rule_wins():
    found, malformed = parse(PATHS)
    assert malformed == []
    models, tables = found
    assert (models.line, models.paths) == (3, ("models/",))
    assert models.covers("models/weights.bin")
    assert not models.covers("models/open/readme.md")
    assert not models.covers("src/models/a.py")
    assert (tables.line, tables.paths) == (5, ("*.csv$",))
    assert tables.covers("data/a.csv") and not tables.covers("data/a.csv.gz")


def test_identical_paths_with_conflicting_preferences_keep_the_reservation():
    (found,), _ = parse(b"Content-Usage: /data/ train-ai=y\nContent-Usage: /data/ train-ai=n\n")
    assert found.covers("data/x.csv")


def test_other_fields_and_comments_are_ignored():
    found, malformed = parse(b"User-Agent: *\r\nAllow: /\r\ncontent-usage: train-ai=n # no training\r\n")
    assert malformed == [] and [r.line for r in found] == [3]


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"Content-Usage: Train-AI=n", "a key must start with a lowercase letter"),
        (b"Content-Usage: train-ai=n,", "trailing ','"),
        (b"Content-Usage: train-ai=n search=y", "expected ','"),
        (b'Content-Usage: train-ai="n', "not closed"),
        (b"train-ai=n", "not a 'Content-Usage: ...' line"),
    ],
)
def test_a_broken_line_is_malformed_with_its_line_number(line, error):
    found, (malformed,) = parse(b"# prefs\n" + line + b"\n")
    assert found == []
    assert malformed.kind == "aipref" and malformed.error.startswith("line 2: ") and error in malformed.error


def test_a_broken_line_does_not_hide_a_good_one():
    found, malformed = parse(b"Content-Usage: train-ai=n\nContent-Usage: ???\n")
    assert [r.line for r in found] == [1]
    assert malformed[0].error.startswith("line 2:")
