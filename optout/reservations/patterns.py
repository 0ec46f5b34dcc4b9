"""Path patterns of the reservation files, matched against repository paths ("src/a.py", no leading slash).

Two dialects: robots.txt paths (RFC 9309 section 2.2.3: prefix match, `*` any characters, `$` at the end
anchors; used by ai.txt, TDMRep locations and Content-Usage rules) and gitattributes(5) patterns (gitignore
rules: `*` and `?` stop at `/`, `**` crosses directories, a pattern without `/` matches the file name at any
depth). Both compile to a small token list run over a set of positions, so a hostile pattern costs
len(pattern) x len(path) steps at worst, never regex backtracking."""

from functools import lru_cache
from urllib.parse import unquote

LITERAL, ONE, CLASS, STAR, GLOBSTAR, DIRECTORIES, END = range(7)


def robots_normal(pattern: str) -> str:
    """The pattern as stored: percent-decoded, without its leading "/" ("/" -> "", "/docs/*" -> "docs/*")."""
    return unquote(pattern.strip()).removeprefix("/")


def robots_priority(stored: str) -> int:
    """RFC 9309 precedence: the length of the path pattern as written (counted with its leading "/")."""
    return len(stored) + 1


def robots_matches(stored: str, path: str) -> bool:
    return _run(_robots_tokens(stored), path, prefix=True)


def gitattributes_matches(pattern: str, path: str) -> bool:
    anchored, tokens = _git_tokens(pattern)
    subject = path if anchored else path.rsplit("/", 1)[-1]
    return _run(tokens, subject, prefix=False)


@lru_cache(maxsize=4096)
def _robots_tokens(stored: str) -> tuple:
    tokens: list = []
    for index, character in enumerate(stored):
        if character == "*":
            if not tokens or tokens[-1] != (GLOBSTAR, None):
                tokens.append((GLOBSTAR, None))
        elif character == "$" and index == len(stored) - 1:
            tokens.append((END, None))
        else:
            tokens.append((LITERAL, character))
    return tuple(tokens)


@lru_cache(maxsize=4096)
def _git_tokens(pattern: str) -> tuple[bool, tuple]:
    """(anchored to the root, tokens). A leading "/" anchors and is dropped; so does any other "/"."""
    anchored = "/" in pattern
    source = pattern.removeprefix("/")
    tokens: list = []
    index = 0
    while index < len(source):
        character = source[index]
        if source.startswith("**", index) and (index == 0 or source[index - 1] == "/"):
            after = index + 2
            if after == len(source):
                tokens.append((GLOBSTAR, None))
                index = after
                continue
            if source[after] == "/":
                tokens.append((DIRECTORIES, None))
                index = after + 1
                continue
        if character == "*":
            while index < len(source) and source[index] == "*":
                index += 1
            tokens.append((STAR, None))
            continue
        if character == "?":
            tokens.append((ONE, None))
        elif character == "[":
            parsed = _git_class(source, index)
            if parsed is None:
                tokens.append((LITERAL, "["))
            else:
                token, index = parsed
                tokens.append(token)
                continue
        elif character == "\\" and index + 1 < len(source):
            index += 1
            tokens.append((LITERAL, source[index]))
        else:
            tokens.append((LITERAL, character))
        index += 1
    return anchored, tuple(tokens)


def _git_class(source: str, start: int):
    """A bracket expression `[a-z]`, `[!0-9]` or `[^x]`; None when it is not closed (then `[` is literal)."""
    index = start + 1
    negated = index < len(source) and source[index] in "!^"
    if negated:
        index += 1
    ranges = []
    first = True
    while index < len(source):
        character = source[index]
        if character == "]" and not first:
            return (CLASS, (negated, tuple(ranges))), index + 1
        if character == "\\" and index + 1 < len(source):
            index += 1
            character = source[index]
        if source[index + 1 : index + 2] == "-" and index + 2 < len(source) and source[index + 2] != "]":
            ranges.append((character, source[index + 2]))
            index += 3
        else:
            ranges.append((character, character))
            index += 1
        first = False
    return None


def _class_has(token_value, character: str) -> bool:
    negated, ranges = token_value
    inside = any(low <= character <= high for low, high in ranges)
    return inside != negated and character != "/"


def _run(tokens: tuple, path: str, *, prefix: bool) -> bool:
    """Positions in `path` reachable after each token; prefix=True accepts any reachable end (robots.txt)."""
    positions = {0}
    size = len(path)
    for kind, value in tokens:
        if kind == END:
            return size in positions
        if kind == GLOBSTAR:
            positions = set(range(min(positions), size + 1))
        elif kind == STAR:
            reached = set()
            for position in sorted(positions):
                if position in reached:
                    continue
                reached.add(position)
                while position < size and path[position] != "/":
                    position += 1
                    reached.add(position)
            positions = reached
        elif kind == DIRECTORIES:
            start = min(positions)
            positions = set(positions) | {index + 1 for index in range(start, size) if path[index] == "/"}
        elif kind == ONE:
            positions = {p + 1 for p in positions if p < size and path[p] != "/"}
        elif kind == CLASS:
            positions = {p + 1 for p in positions if p < size and _class_has(value, path[p])}
        else:
            positions = {p + 1 for p in positions if p < size and path[p] == value}
        if not positions:
            return False
    return prefix or size in positions
