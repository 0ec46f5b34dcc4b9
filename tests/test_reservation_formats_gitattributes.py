"""`.gitattributes` lines setting `ai-training=false` (gitattributes(5) patterns and precedence)."""

import pytest

from optout.reservations import reservations_parse

OWNER_FILE = b"""# Line endings
* text=auto eol=lf
*.png binary

# Not for AI training
vendor/** ai-training=false
vendor/ok/** ai-training=true
*.ipynb -ai-training linguist-generated
/docs/internal/** ai-training=false
"""


def parse(content):
    return reservations_parse({".gitattributes": content})


@pytest.mark.parametrize("pattern", [b"*", b"**", b"/**"])
def test_a_pattern_for_every_file_reserves_the_whole_repository(pattern):
    found, malformed = parse(b"%s ai-training=false\n" % pattern)
    assert malformed == []
    assert [(r.kind, r.line, r.paths) for r in found] == [("gitattributes", 1, ())]


def test_other_attributes_are_no_reservation():
    assert parse(b"* text=auto\n*.sh eol=lf\n") == ([], [])


def test_a_true_or_other_value_is_no_reservation():
    assert parse(b"* ai-training=true\n*.py ai-training\n*.md ai-training=maybe\n")[0] == []


def test_each_false_line_is_a_path_reservation_with_its_evidence():
    found, malformed = parse(OWNER_FILE)
    assert malformed == []
    assert [(r.line, r.text, r.paths) for r in found] == [
        (6, "vendor/** ai-training=false", ("vendor/**",)),
        (8, "*.ipynb -ai-training linguist-generated", ("*.ipynb",)),
        (9, "/docs/internal/** ai-training=false", ("/docs/internal/**",)),
    ]


def test_a_later_line_overrides_an_earlier_one_for_the_same_path():
    vendor, _, _ = parse(OWNER_FILE)[0]
    assert vendor.covers("vendor/lib/a.c")
    assert not vendor.covers("vendor/ok/a.c")
    assert not vendor.covers("src/vendor/a.c")


def test_a_false_line_after_a_true_line_reserves_again():
    found, _ = parse(b"docs/** ai-training=false\ndocs/** ai-training=true\ndocs/private/** ai-training=false\n")
    assert not any(r.covers("docs/a.md") for r in found)
    assert any(r.covers("docs/private/a.md") for r in found)


def test_unsetting_or_unspecifying_after_a_reservation_takes_it_back():
    found, _ = parse(b"*.py ai-training=false\ntests/** !ai-training\n")
    (python,) = found
    assert python.covers("src/a.py") and not python.covers("tests/test_a.py")


def test_a_pattern_without_slash_matches_file_names_at_any_depth():
    _, notebooks, _ = parse(OWNER_FILE)[0]
    assert notebooks.covers("a.ipynb")
    assert notebooks.covers("analysis/2024/run.ipynb")
    assert not notebooks.covers("analysis/run.ipynb.txt")


def test_a_pattern_with_slash_is_relative_to_the_root_and_star_stays_in_one_directory():
    found, _ = parse(b"docs/*.md ai-training=false\n")
    (docs,) = found
    assert docs.covers("docs/a.md")
    assert not docs.covers("docs/sub/a.md")
    assert not docs.covers("src/docs/a.md")


def test_double_star_matches_any_number_of_directories():
    (found,), _ = parse(b"**/generated/**/*.pb.go ai-training=false\n")
    assert found.covers("generated/a.pb.go")
    assert found.covers("api/generated/v1/x/a.pb.go")
    assert not found.covers("api/generated.pb.go")


def test_question_mark_and_brackets_match_one_character():
    (found,), _ = parse(b"data/file[0-9]?.csv ai-training=false\n")
    assert found.covers("data/file1a.csv")
    assert not found.covers("data/filex1.csv")


def test_a_quoted_pattern_with_a_space_is_read():
    (found,), _ = parse(b'"my docs/**" ai-training=false\n')
    assert found.covers("my docs/a.txt")


def test_a_negative_pattern_is_reported_and_ignored():
    found, (malformed,) = parse(b"!vendor/** ai-training=false\n")
    assert found == []
    assert malformed.error == "line 1: negative patterns are forbidden in gitattributes; ignored"


def test_a_directory_pattern_is_reported_with_the_pattern_to_write_instead():
    found, (malformed,) = parse(b"* text=auto\nvendor/ ai-training=false\n")
    assert found == []
    assert malformed.error.startswith("line 2: 'vendor/' names a directory") and "'vendor/**'" in malformed.error


def test_crlf_bom_and_comments_are_handled():
    found, malformed = parse(b"\xef\xbb\xbf# keep out\r\n\r\n*.py\tai-training=false\r\n")
    assert malformed == [] and [(r.line, r.paths) for r in found] == [(3, ("*.py",))]


def test_macro_definitions_are_not_reservations():
    assert parse(b"[attr]private -ai-training\n")[0] == []
