"""License notices at grep speed: a file's header read without scancode, so that scancode reads each notice once.

Most files of a repository open with the same notice under lines that differ per file: curl's banner, the ASF
header, a BSD text below `Copyright (c) 2009-2012, <author>`. `notice_block` keeps the words of the first comment
of the header that speaks of licensing, from its first paragraph of license terms to its last (so a second notice
in the same comment stays), without comment markers, copyright and author lines, file titles or the code below;
`notice_key` names that block, so that files whose blocks hold the same words share one scancode finding.
`SPDX-License-Identifier:` lines need no scancode at all: `spdx_identifiers` reads them with the SPDX list.

What lies past the header (HEADER_LINES lines) is not read: a notice placed lower in a file goes unseen, and a
license file (LICENSE, COPYING) needs scancode on the whole text, not on its header.
"""

import hashlib
import re
from dataclasses import dataclass
from typing import NamedTuple

from audits.scanning.spdx import SpdxParse, spdx_parse

HEADER_LINES = 60
# A minified or generated file can be one line of megabytes; its notice, if any, is at its start.
HEADER_BYTES = 64 * 1024
# Part of every key: a change of the rules below must change the keys, or old findings would be shared wrongly.
NOTICE_FORMAT = b"notice-v2\0"

# PEP 263: an encoding declaration is a comment on line 1 or 2.
_PRELUDE = re.compile(rb"#!|[ \t\f]*#.*?coding[:=]")
_SPDX_LINE = re.compile(r"SPDX-License-Identifier\s*:(?P<expression>.*)", re.IGNORECASE)
# What follows an expression on its line: comment closers, string quotes and commas, a `\n` inside a C string.
_SPDX_TRAILER = re.compile(r"""(?:\s|\*/|-->|-}|\*\)|\]\]|\"\"\"|'''|\\n|[*"',;\\#])+$""")

_SPDX_WORD = re.compile(r"[()]|[^\s()]+")
# An id of the SPDX list, a LicenseRef-…, a DocumentRef-…:LicenseRef-…, with `+` for "or later".
_SPDX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:-]*\+?")

# (opener, closer) of block comments and of docstrings, which are where notices live.
_BLOCKS = (("/*", "*/"), ("<!--", "-->"), ('"""', '"""'), ("'''", "'''"), ("--[[", "]]"), ("{-", "-}"), ("(*", "*)"))
# A line comment starts with one of these; `#include` and friends are C code.
_LINE_COMMENT = re.compile(
    r"""(?://|\#(?!(?:include|define|undef|ifn?def|if|elif|else|endif|pragma|error|warning|import|line)\b)
    (?!\s+(?:include|define|ifn?def|endif|pragma)\b)|;|--|%|dnl\b|@?rem\b|::|'(?=\s|$)|!|\.\.(?=\s|$))""",
    re.IGNORECASE | re.VERBOSE,
)
# Fortran 77 marks a comment with C in the first column.
_FORTRAN_COMMENT = re.compile(r"[Cc](?=\s|$)")
_LEADING_MARKER = re.compile(
    r"""\s*(?:/\*+[!-]?|\*+/|\*+|//+!?|\#+!?|;+|<!--|-->|--+(?:\[\[)?|%+|dnl\b|@?rem\b|::|'''|\"\"\"|'(?=\s|$)
    |!+|\.\.(?=\s|$)|\{-|-\}|\(\*|\*\)|\]\])""",
    re.IGNORECASE | re.VERBOSE,
)
_TRAILING_MARKER = re.compile(r"""(?:\s*(?:\*+/|-->|-\}|\*\)|\]\]|'''|\"\"\"|\*+|\#+|//+))+\s*$""")
# Editor settings (`-*- mode: c -*-`, `vim: set ts=8:`) and source-control stamps (`$OpenBSD$`, `$Id: … $`).
_EDITOR_LINE = re.compile(r"-\*-.*-\*-|^vim?:|^ex:|^\$\w+(?::[^$]*)?\$$")

# Words of license terms: a paragraph holding one is part of the notice.
_NOTICE = re.compile(
    r"licen[cs]|copyleft|public[\s-]domain|spdx|permission is hereby granted|permission to use|permission notice"
    r"|copyright notice|redistribut|warrant|free software|\b[AL]?GPL|\bGNU (?:General|Lesser|Library|Affero)"
    r"|creative commons|distributed under|terms of the|proprietary|confidential",
    re.IGNORECASE,
)
# A copyright line naming the FSF is still only a copyright line.
_FSF = re.compile(r"free software foundation", re.IGNORECASE)
_COPYRIGHT = re.compile(
    r"^(?:portions?\s+|parts?\s+)?(?:copyright\b(?!\s+(?:notices?|holders?|owners?|and|or|laws?|statements?|ownership"
    r"|to|in|of|is|are|protection|interest|rights|licen[cs]e))|©|&copy;)"
    r"|(?:copyright|\(c\)|©)\s*(?:\(c\)\s*)?(?:19|20)\d\d|^all rights reserved\.?$",
    re.IGNORECASE,
)
_AUTHOR = re.compile(
    r"^(?:@author\b|authors?\s*:|written\s+by\b|contributed\s+by\b|created\s+by\b|original\s+authors?\b|maintainers?\s*:"
    r"|contributors?\s*:|based\s+on\b.*\bby\b|originally\s+written\b.*\bby\b)",
    re.IGNORECASE,
)
# A line naming the file it opens (`anet.c -- Basic TCP socket stuff`, `File: curl_crtl_init.c`, `orm/session.py`).
_TITLE = re.compile(r"^(?:file:\s*)?[\w./+-]+\.[A-Za-z]{1,5}(?:\s+(?:-{1,2}|—)\s|\s*:|\s*$)", re.IGNORECASE)
# What tells a continued copyright line (another holder, an address) from the license text after it.
_HOLDER_DETAIL = re.compile(
    r"@|<[^>]*>|all rights reserved|\bat\b.*\bdot\b|\b(?:19|20)\d\d\b|\b(?:inc|ltd|gmbh|llc)\b\.?", re.IGNORECASE
)


@dataclass(frozen=True)
class SpdxIdentifier:
    """The `SPDX-License-Identifier:` lines of a file's header, read as one expression."""

    expression: str  # normalised SPDX expression ("" when no line parsed)
    lines: tuple[int, ...]  # 1-based line numbers of the identifier lines
    unknown: tuple[str, ...] = ()  # ids as written that are not on the SPDX list (now LicenseRef-…)
    errors: tuple[str, ...] = ()  # lines that are not an SPDX expression, with why


def notice_header(content: bytes, *, max_lines: int = HEADER_LINES) -> bytes:
    """The first `max_lines` lines of a file as they are (not counting a shebang or an encoding line)."""
    first_two = content[:4096].split(b"\n", 2)[:2]
    prelude = 0
    while prelude < len(first_two) and _PRELUDE.match(first_two[prelude]):
        prelude += 1
    end = 0
    for _ in range(max_lines + prelude):
        newline = content.find(b"\n", end, HEADER_BYTES)
        if newline < 0:
            return content[:HEADER_BYTES]
        end = newline + 1
    return content[:end]


def spdx_identifiers(content: bytes, *, max_lines: int = HEADER_LINES) -> SpdxIdentifier | None:
    """Every `SPDX-License-Identifier:` line of the header, ANDed into one expression; None when there is none."""
    header = notice_header(content, max_lines=max_lines)
    if b"spdx-license-identifier" not in header.lower():
        return None
    text = header.decode("utf-8", errors="replace")
    numbers, expressions, unknown, errors = [], [], set(), []
    for number, line in enumerate(text.split("\n"), start=1):
        found = _SPDX_LINE.search(line)
        if found is None:
            continue
        numbers.append(number)
        written = _spdx_written(found["expression"])
        parsed = spdx_parse(written) if _spdx_shaped(written) else SpdxParse("", error="not an SPDX expression")
        if parsed.error:
            errors.append(f"line {number}: {written!r}: {parsed.error}")
            continue
        if parsed.expression not in expressions:
            expressions.append(parsed.expression)
        unknown.update(parsed.unknown)
    if not numbers:
        return None
    return SpdxIdentifier(_spdx_and(expressions), tuple(numbers), tuple(sorted(unknown)), tuple(errors))


def _spdx_written(text: str) -> str:
    """The expression of an identifier line without the comment closer or the string quotes around it."""
    text = _SPDX_TRAILER.sub("", text.strip().lstrip("\"'"))
    # `(GPL-2.0+ OR MIT)` keeps its parenthesis; the one closing a call around a string does not.
    while text.endswith(")") and text.count(")") > text.count("("):
        text = _SPDX_TRAILER.sub("", text[:-1])
    return text.strip()


def _spdx_shaped(text: str) -> bool:
    """Ids joined by operators: license-expression alone would read `in line and ok` (code that mentions the tag)
    as the ids `in line` and `ok`."""
    expecting_id = True
    for word in _SPDX_WORD.findall(text):
        if word in "()":
            continue
        is_operator = word.upper() in ("AND", "OR", "WITH")
        if is_operator == expecting_id or not is_operator and not _SPDX_ID.fullmatch(word):
            return False
        expecting_id = is_operator
    return not expecting_id


def _spdx_and(expressions: list[str]) -> str:
    if len(expressions) <= 1:
        return "".join(expressions)
    combined = " AND ".join(f"({expression})" if " OR " in expression else expression for expression in expressions)
    return spdx_parse(combined).expression or combined


class _Line(NamedTuple):
    kind: str  # comment, code or blank
    words: str  # without comment markers, whitespace collapsed
    indent: int = 0  # of the words after the comment markers


_BLANK = _Line("blank", "")


def notice_block(header: bytes) -> bytes:
    """The words of the header's license notice, a line for each line: no comment markers, copyright or author
    lines, banners, descriptions or code; the whole header, so normalised, when no comment in it speaks of licensing.
    """
    lines = _header_lines(header.decode("utf-8", errors="replace").removeprefix("\ufeff"))
    # Every comment with a notice: a second one below the first is a second license (automake's Makefile.in: the
    # FSF's permission for the file, then the project's GPL notice copied from Makefile.am).
    notices = []
    for run in _comment_runs(lines):
        paragraphs = _paragraphs(run)
        with_notice = [index for index, paragraph in enumerate(paragraphs) if _NOTICE.search(_words(paragraph))]
        if with_notice:
            first, last = with_notice[0], with_notice[-1]
            notices += _without_credits([_from_notice(paragraphs[first]), *paragraphs[first + 1 : last + 1]])
    if notices:
        return _joined(notices)
    # No notice to share: scancode gets every line, code included (`__license__ = "MIT"`).
    return _joined([line.words for line in lines if line.kind != "blank"])


def notice_key(header: bytes) -> str:
    """sha1 of the header's notice block read as words (line breaks as spaces): files whose notices hold the same
    words, however wrapped, share a key."""
    words = " ".join(notice_block(header).decode("utf-8").split())
    return hashlib.sha1(NOTICE_FORMAT + words.encode("utf-8")).hexdigest()


def _header_lines(text: str) -> list[_Line]:
    """Each line as comment, code or blank; a comment that closes is followed by a blank, so that two comments never
    make one paragraph."""
    lines = []
    closer = None  # of the block comment or docstring the line is in
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if number <= 2 and _PRELUDE.match(raw.encode()) or stripped.startswith(("<?php", "<?xml")):
            lines.append(_BLANK)
            continue
        fortran = False
        if closer is not None:
            kind = "comment"
            if closer in stripped:
                closer = None
        elif opened := next((pair for pair in _BLOCKS if stripped.startswith(pair[0])), None):
            kind = "comment"
            if opened[1] not in stripped[len(opened[0]) :]:
                closer = opened[1]
        elif _LINE_COMMENT.match(stripped):
            kind = "comment"
        elif _FORTRAN_COMMENT.match(raw):
            kind, fortran = "comment", True
        elif stripped:
            kind = "code"
            closer = _opened_after_code(raw)
        else:
            kind = "blank"
        if kind == "code":
            lines.append(_Line("code", " ".join(stripped.split())))
            continue
        words, indent = _unmarked(raw[1:] if fortran else raw)
        if not words or _EDITOR_LINE.search(words):
            lines.append(_BLANK)
            continue
        lines.append(_Line("comment", " ".join(words.split()), indent))
        if closer is None and stripped.endswith(tuple(end for _, end in _BLOCKS)):
            lines.append(_BLANK)
    return lines


def _opened_after_code(raw: str) -> str | None:
    """`*/` when the line opens a comment after code (`int x; /* …`) and does not close it."""
    opening = raw.rfind("/*")
    outside_string = raw.count('"', 0, opening) % 2 == 0
    if opening > 0 and raw[opening - 1].isspace() and outside_string and "*/" not in raw[opening:]:
        return "*/"
    return None


def _unmarked(raw: str) -> tuple[str, int]:
    """A comment line without its markers, and how far its words are indented after them."""
    text = raw
    while marker := _LEADING_MARKER.match(text):
        text = text[marker.end() :]
    text = _TRAILING_MARKER.sub("", text)
    return text.strip(), len(text) - len(text.lstrip())


def _comment_runs(lines: list[_Line]) -> list[list[_Line]]:
    """The comment and blank lines between two lines of code."""
    runs, current = [], []
    for line in lines:
        if line.kind == "code":
            runs.append(current)
            current = []
        else:
            current.append(line)
    runs.append(current)
    return [run for run in runs if any(line.kind == "comment" for line in run)]


def _paragraphs(lines: list[_Line]) -> list[list[_Line]]:
    paragraphs, current = [], []
    for line in lines:
        if line.kind == "blank":
            if current:
                paragraphs.append(current)
            current = []
        else:
            current.append(line)
    if current:
        paragraphs.append(current)
    return paragraphs


def _words(lines: list[_Line]) -> str:
    return " ".join(line.words for line in lines)


def _from_notice(paragraph: list[_Line]) -> list[_Line]:
    """The paragraph from its first line of license terms on, when the lines before it are a sentence of their own
    (`Lua API` above `See Copyright Notice in lua.h`) rather than the start of the notice's first sentence."""
    first = next((index for index, line in enumerate(paragraph) if _NOTICE.search(line.words)), 0)
    if first == 0:
        return paragraph
    before, words = paragraph[first - 1].words, paragraph[first].words
    if words[:1].isupper() or before.endswith((".", ":", ";", "!", "?")) or _is_credit(before):
        return paragraph[first:]
    return paragraph


def _without_credits(paragraphs: list[list[_Line]]) -> list[str]:
    """The paragraphs' lines without copyright statements, author credits and file titles, which differ per file
    and grant nothing, nor the holders, addresses or description lines that continue them."""
    kept = []
    for paragraph in paragraphs:
        continued = None  # the credit or title line being continued
        for line in paragraph:
            if _is_credit(line.words) or (_TITLE.match(line.words) and not _NOTICE.search(line.words)):
                continued = line
                continue
            if continued is not None and not _NOTICE.search(line.words) and _continues(continued, line):
                continue
            continued = None
            kept.append(line.words)
    return kept


def _continues(credit: _Line, line: _Line) -> bool:
    if _TITLE.match(credit.words) and not _is_credit(credit.words):
        return not line.words[:1].isupper()  # the description goes on until a sentence starts
    return line.indent > credit.indent or bool(_HOLDER_DETAIL.search(line.words))


def _is_credit(text: str) -> bool:
    if not (_COPYRIGHT.search(text) or _AUTHOR.match(text)):
        return False
    # `Copyright 2010 X. Licensed under …` carries terms: keep it, even if it then differs per file.
    return not _NOTICE.search(_FSF.sub("", text))


def _joined(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode("utf-8")
