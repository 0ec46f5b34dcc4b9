"""The README a new user reads first: a quick start that works, what is (not what changed), a changelog beside it."""

import re
import shlex
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()

# Sentences that tell a story of changes instead of describing the portal; they belong in CHANGELOG.md.
CHANGE_STORY = [
    r"\bmoved (?:from|to|into)\b",
    r"\b(?:it|they|this|which) used to\b",
    r"\bnow (?:plays|moves|lives|reads|writes|carries|holds|runs|uses)\b",
    r"\b(?:previously|formerly)\b",
    r"\bwas renamed\b",
]


def quick_start() -> str:
    match = re.search(r"^## Quick start\n(.*?)^## ", README, re.S | re.M)
    assert match, "README.md has no '## Quick start' section"
    return match.group(1)


def test_the_quick_start_is_the_first_section():
    first_section = re.search(r"^## (.+)$", README, re.M).group(1)
    assert first_section == "Quick start"


def test_the_quick_start_offers_three_things_to_try():
    numbered = re.findall(r"^(\d)\. \*\*(.+?)\*\*", quick_start(), re.M)
    assert [number for number, _ in numbered] == ["1", "2", "3"]


def test_the_management_commands_of_the_quick_start_exist():
    named = set(re.findall(r"manage\.py (\w+)", quick_start()))
    assert named, "the quick start names no management command"
    assert named <= set(get_commands()), named - set(get_commands())


def test_the_make_targets_and_variables_of_the_quick_start_exist():
    makefile = (ROOT / "Makefile").read_text()
    for words in re.findall(r"\bmake((?: [A-Za-z_]+(?:=[^\s`]+)?)+)", quick_start()):
        command = shlex.split(words)
        targets = [word for word in command if "=" not in word]
        variables = [word.split("=")[0] for word in command if "=" in word]
        for target in targets:
            assert re.search(rf"^{target}:", makefile, re.M), f"no make target {target}"
        for variable in variables:
            assert f"$({variable})" in makefile or f"$${{{variable}" in makefile, f"the Makefile ignores {variable}"


def test_the_readme_describes_what_is_not_what_changed():
    for pattern in CHANGE_STORY:
        found = [line for line in README.splitlines() if re.search(pattern, line, re.I)]
        assert not found, f"change story in README.md (move it to CHANGELOG.md): {found}"


def test_a_changelog_keeps_what_changed():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert changelog.startswith("# Changelog\n")
    sections = re.findall(r"^## (.+)$", changelog, re.M)
    assert sections[0] == "Unreleased"
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", section) for section in sections[1:]), sections
