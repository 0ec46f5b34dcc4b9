"""ai.txt: robots.txt groups (RFC 9309) addressed to AI trainers."""

import pytest

from optout.reservations import reservations_parse

SPAWNING = b"""# Spawning AI
# Prevent datasets from using the following file types

User-Agent: *
Disallow: /
Disallow: *
"""

PARTIAL = b"""# ai.txt for example/project\r
User-agent: GPTBot\r
User-agent: CCBot   # common crawl\r
Disallow: *.py\r
Disallow: /vendor/\r
Allow: /vendor/ours/\r
Allow: /src/examples/*.py$\r
\r
User-agent: SomeSearchBot\r
Disallow: /\r
"""


def parse(content):
    return reservations_parse({"ai.txt": content})


def test_disallow_everything_for_every_agent_reserves_the_whole_repository():
    found, malformed = parse(SPAWNING)
    assert malformed == []
    assert [(r.kind, r.line, r.text, r.paths) for r in found] == [
        ("ai-txt", 5, "Disallow: /", ()),
        ("ai-txt", 6, "Disallow: *", ()),
    ]


@pytest.mark.parametrize("agent", ["GPTBot", "gptbot", "Google-Extended", "anthropic-ai", "ClaudeBot/1.0", "*"])
def test_a_group_naming_a_training_agent_applies(agent):
    found, _ = parse(b"User-Agent: %s\nDisallow: /\n" % agent.encode())
    assert [r.paths for r in found] == [()]


def test_a_group_for_other_agents_only_is_no_reservation():
    assert parse(b"User-Agent: Googlebot\nDisallow: /\n") == ([], [])


def test_an_empty_disallow_reserves_nothing():
    assert parse(b"User-Agent: *\nDisallow:\n") == ([], [])


def test_file_type_and_folder_rules_are_path_reservations():
    found, malformed = parse(PARTIAL)
    assert malformed == []
    python, vendor = found
    assert (python.line, python.paths) == (4, ("*.py",))
    assert (vendor.line, vendor.paths) == (5, ("vendor/",))


def test_a_file_type_rule_matches_as_a_prefix_pattern():
    python, _ = parse(PARTIAL)[0]
    assert python.covers("setup.py")
    assert python.covers("src/pkg/a.py")
    assert python.covers("src/pkg/a.pyi")  # RFC 9309 patterns match prefixes: `*.py$` would not
    assert not python.covers("src/pkg/a.rs")


def test_a_longer_allow_takes_paths_back_from_a_disallow():
    python, vendor = parse(PARTIAL)[0]
    assert vendor.covers("vendor/lib/x.c")
    assert not vendor.covers("vendor/ours/x.c")
    assert not python.covers("src/examples/demo.py")
    assert python.covers("src/examples/demo.pyc")


def test_allow_wins_a_tie_of_equal_length():
    (found,), _ = parse(b"User-Agent: *\nDisallow: /a\nAllow: /a\n")
    assert not found.covers("a/b")


def test_disallow_everything_with_an_allow_is_not_whole():
    (found,), _ = parse(b"User-Agent: *\nDisallow: /\nAllow: /docs/\n")
    assert found.paths == ("",)
    assert found.covers("src/a.py") and not found.covers("docs/a.md")


def test_an_allow_of_another_group_does_not_take_paths_back():
    found, _ = parse(b"User-Agent: GPTBot\nAllow: /\n\nUser-Agent: *\nDisallow: /\n")
    assert [(r.line, r.paths) for r in found] == [(5, ())]


def test_field_names_are_case_insensitive_and_rules_before_any_group_are_ignored():
    found, _ = parse(b"Disallow: /\nUSER-AGENT: *\nDISALLOW: /private/\n")
    assert [(r.line, r.paths) for r in found] == [(3, ("private/",))]


def test_lines_that_are_not_fields_are_ignored_like_robots_parsers_do():
    found, malformed = parse(b"This file tells AI crawlers what to skip.\nUser-Agent: *\nDisallow: /\n")
    assert malformed == [] and [r.line for r in found] == [3]


def test_a_percent_encoded_path_is_decoded():
    (found,), _ = parse(b"User-Agent: *\nDisallow: /my%20docs/\n")
    assert found.covers("my docs/a.txt")
