"""Parsers of machine-readable "do not train" reservations in a repository's root files.

Pure functions over bytes: no Django, no database, no git. The sources of every rule are in README.md,
"Reservations read in repositories"."""

import json
from dataclasses import dataclass

from optout.reservations.patterns import gitattributes_matches, robots_matches, robots_normal, robots_priority
from optout.reservations.structured import FieldSyntaxError, dictionary_parse

TDMREP, AI_TXT, GITATTRIBUTES, AIPREF = "tdmrep", "ai-txt", "gitattributes", "aipref"

RESERVATION_FILES: dict[str, str] = {
    "tdmrep.json": TDMREP,
    ".well-known/tdmrep.json": TDMREP,
    "ai.txt": AI_TXT,
    ".gitattributes": GITATTRIBUTES,
    ".aipref": AIPREF,
    "ai-preferences.txt": AIPREF,
}
MAX_FILE_BYTES = 64 * 1024
# Raised whenever a rule below changes: the reservation check then reads again the repositories whose head has
# not moved since their last reading, instead of keeping what the old rules made of the same files.
RULES_VERSION = 1
MAX_TEXT = 300

# ai.txt groups that speak to a dataset builder: `*` (every group of an ai.txt is about AI use, so `*` means
# every AI trainer, this dataset included) and the published product tokens of AI-training crawlers.
TRAINING_AGENTS = frozenset(
    token.lower()
    for token in (
        "*",
        "GPTBot",
        "CCBot",
        "Google-Extended",
        "anthropic-ai",
        "ClaudeBot",
        "Bytespider",
        "Applebot-Extended",
        "Meta-ExternalAgent",
        "cohere-ai",
    )
)
# Content-Usage labels whose `n` reserves training: train-ai (current vocabulary) and train-genai (earlier
# revisions of the draft, a narrower category; a code dataset trains generative models).
TRAINING_LABELS = ("train-ai", "train-genai")


@dataclass(frozen=True)
class Reservation:
    kind: str
    file: str
    line: int
    text: str
    paths: tuple[str, ...] = ()
    # Patterns of the same file that take a path back (robots Allow, TDMRep 0, Content-Usage without `n`,
    # a later gitattributes line setting ai-training otherwise). A reservation with exceptions is never whole.
    exceptions: tuple[str, ...] = ()

    def covers(self, path: str) -> bool:
        """Does this reservation cover the repository path ("src/a.py")? A whole-repository one covers all."""
        if not self.paths:
            return True
        path = path.lstrip("/")
        if self.kind == GITATTRIBUTES:
            return any(gitattributes_matches(p, path) for p in self.paths) and not any(
                gitattributes_matches(p, path) for p in self.exceptions
            )
        reserved = _longest(self.paths, path)
        if reserved is None:
            return False
        taken_back = _longest(self.exceptions, path)
        if taken_back is None:
            return True
        # RFC 9309: on a tie the Allow rule wins; TDMRep and AI preferences keep the most restrictive one.
        return reserved > taken_back if self.kind == AI_TXT else reserved >= taken_back

    @property
    def reason(self) -> str:
        return f"reservation:{self.kind}"


@dataclass(frozen=True)
class Malformed:
    kind: str
    file: str
    error: str


def reservations_parse(files: dict[str, bytes]) -> tuple[list[Reservation], list[Malformed]]:
    """files: root path -> content (only those present). Never raises on any bytes."""
    reservations: list[Reservation] = []
    malformed: list[Malformed] = []
    for name, kind in RESERVATION_FILES.items():
        if name not in files:
            continue
        content = files[name]
        if len(content) > MAX_FILE_BYTES:
            malformed.append(Malformed(kind, name, f"too large: {len(content)} bytes, at most {MAX_FILE_BYTES}"))
            continue
        if b"\x00" in content:
            malformed.append(Malformed(kind, name, "binary file (contains NUL bytes), not text"))
            continue
        found, errors = PARSERS[kind](name, content)
        reservations.extend(found)
        if errors:
            more = f" ({len(errors) - 1} more line(s) ignored)" if len(errors) > 1 else ""
            malformed.append(Malformed(kind, name, errors[0] + more))
    return reservations, malformed


def _longest(patterns: tuple[str, ...], path: str) -> int | None:
    lengths = [robots_priority(p) for p in patterns if robots_matches(p, path)]
    return max(lengths) if lengths else None


def _evidence(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _lines(content: bytes) -> tuple[list[tuple[int, str]], list[str]]:
    """Numbered lines without BOM, CR or comments ("#" to the end); a line that is not UTF-8 is an error."""
    lines, errors = [], []
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    for number, raw in enumerate(content.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"), start=1):
        try:
            lines.append((number, raw.decode("utf-8")))
        except UnicodeDecodeError:
            errors.append(f"line {number}: not UTF-8 text; ignored")
    return lines, errors


def _whole_or_paths(stored: str) -> tuple[str, ...]:
    return () if stored in ("", "*") else (stored,)


def _reservation(kind, name, number, text, stored: str, exceptions: tuple[str, ...]) -> Reservation:
    paths = _whole_or_paths(stored)
    if exceptions:
        paths = paths or (stored,)
    return Reservation(kind, name, number, _evidence(text), paths, exceptions if paths else ())


# --- W3C TDMRep: /.well-known/tdmrep.json ---------------------------------------------------------------


def tdmrep_parse(name: str, content: bytes) -> tuple[list[Reservation], list[str]]:
    """A JSON array of rules; any bad rule makes the file unreadable (one error, no reservation)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], ["not UTF-8 text"]
    try:
        entries = _json_array_entries(text)
    except RecursionError:
        return [], ["not valid JSON: nested too deeply"]
    except ValueError as error:
        return [], [str(error)]
    rules = []
    for offset, end, entry in entries:
        number = text.count("\n", 0, offset) + 1
        if not isinstance(entry, dict):
            return [], [f"line {number}: a rule is not a JSON object"]
        location, reserved = entry.get("location"), entry.get("tdm-reservation")
        if not isinstance(location, str) or not location.strip():
            return [], [f'line {number}: a rule has no "location"']
        if isinstance(reserved, bool) or reserved not in (0, 1):
            return [], [f'line {number}: "tdm-reservation" is {json.dumps(reserved)[:40]}, not 0 or 1']
        rules.append((number, text[offset:end], robots_normal(location), reserved == 1))
    taken_back = tuple(stored for _, _, stored, reserved in rules if not reserved)
    return [
        _reservation(TDMREP, name, number, source, stored, taken_back)
        for number, source, stored, reserved in rules
        if reserved
    ], []


def _json_array_entries(text: str) -> list[tuple[int, int, object]]:
    """(start offset, end offset, value) of each element of the top-level array, so a rule has a line."""
    decoder = json.JSONDecoder()
    position = _json_space(text, 0)
    if position >= len(text):
        raise ValueError("empty file, not a JSON array")
    if text[position] != "[":
        try:
            decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise ValueError(f"not valid JSON: {error.msg} at line {error.lineno}") from None
        raise ValueError("not a JSON array of rules")
    entries = []
    position = _json_space(text, position + 1)
    if text.startswith("]", position):
        position += 1
    else:
        while True:
            try:
                value, end = decoder.raw_decode(text, position)
            except json.JSONDecodeError as error:
                raise ValueError(f"not valid JSON: {error.msg} at line {error.lineno}") from None
            entries.append((position, end, value))
            position = _json_space(text, end)
            if text.startswith(",", position):
                position = _json_space(text, position + 1)
                continue
            if text.startswith("]", position):
                position += 1
                break
            raise ValueError(f"not valid JSON: expected ',' or ']' at line {text.count(chr(10), 0, position) + 1}")
    if _json_space(text, position) != len(text):
        raise ValueError(f"not valid JSON: extra data at line {text.count(chr(10), 0, position) + 1}")
    return entries


def _json_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


# --- ai.txt (robots.txt syntax, RFC 9309) -----------------------------------------------------------------


def ai_txt_parse(name: str, content: bytes) -> tuple[list[Reservation], list[str]]:
    """Groups of User-Agent lines and rules; a group naming `*` or a training agent reserves what it disallows."""
    lines, errors = _lines(content)
    groups: list[tuple[set[str], list]] = []
    in_rules = True
    for number, line in lines:
        field, colon, value = line.split("#", 1)[0].partition(":")
        if not colon:
            continue  # RFC 9309 parsers skip lines they cannot parse; ai.txt files carry prose headers
        field, value = field.strip().lower(), value.strip()
        if field in ("user-agent", "useragent"):
            if in_rules:
                groups.append((set(), []))
                in_rules = False
            groups[-1][0].add(value.split("/", 1)[0].strip().lower())
        elif field in ("allow", "disallow"):
            in_rules = True
            if groups and value:
                groups[-1][1].append((number, line.strip(), field, robots_normal(value)))
    reservations = []
    for agents, rules in groups:
        if not agents & TRAINING_AGENTS:
            continue
        allowed = tuple(stored for _, _, field, stored in rules if field == "allow")
        reservations.extend(
            _reservation(AI_TXT, name, number, text, stored, allowed)
            for number, text, field, stored in rules
            if field == "disallow"
        )
    return reservations, errors


# --- .gitattributes (gitattributes(5)) --------------------------------------------------------------------

WHOLE_GIT_PATTERNS = ("*", "**", "/**", "**/*", "/**/*")


def gitattributes_parse(name: str, content: bytes) -> tuple[list[Reservation], list[str]]:
    """`pattern attr...` lines; `ai-training=false` or `-ai-training` reserves, a later line may take it back."""
    lines, errors = _lines(content)
    settings: list[tuple[int, str, str, bool]] = []  # (line, text, pattern, reserves)
    for number, line in lines:
        stripped = line.strip(" \t")
        if not stripped or stripped.startswith("#") or stripped.startswith("[attr]"):
            continue
        pattern, attributes = _git_split(stripped)
        if pattern is None:
            errors.append(f"line {number}: the quoted pattern is not closed; ignored")
            continue
        states = [_git_state(attribute) for attribute in attributes]
        states = [state for state in states if state is not None]
        if not states:
            continue
        if pattern.startswith("!"):
            errors.append(f"line {number}: negative patterns are forbidden in gitattributes; ignored")
            continue
        if pattern.endswith("/"):
            errors.append(
                f"line {number}: {pattern!r} names a directory, which gitattributes never applies to the files "
                f"inside; write {pattern + '**'!r}; ignored"
            )
            continue
        settings.append((number, stripped, pattern, states[-1]))
    reservations = []
    for index, (number, text, pattern, reserves) in enumerate(settings):
        if not reserves:
            continue
        later = tuple(p for _, _, p, again in settings[index + 1 :] if not again)
        whole = pattern in WHOLE_GIT_PATTERNS and not later
        paths = () if whole else (pattern,)
        reservations.append(Reservation(GITATTRIBUTES, name, number, _evidence(text), paths, later))
    return reservations, errors


def _git_state(attribute: str) -> bool | None:
    """True: reserves; False: sets ai-training otherwise (a later line takes the path back); None: other."""
    if attribute in ("ai-training=false", "-ai-training"):
        return True
    if attribute in ("ai-training", "!ai-training") or attribute.startswith("ai-training="):
        return False
    return None


def _git_split(line: str) -> tuple[str | None, list[str]]:
    if not line.startswith('"'):
        words = line.split()
        return (words[0], words[1:]) if words else ("", [])
    characters, index = [], 1
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    while index < len(line):
        character = line[index]
        if character == "\\" and index + 1 < len(line):
            characters.append(escapes.get(line[index + 1], line[index + 1]))
            index += 2
        elif character == '"':
            return "".join(characters), line[index + 1 :].split()
        else:
            characters.append(character)
            index += 1
    return None, []


# --- IETF AI Preferences: Content-Usage lines (draft-ietf-aipref-vocab, draft-ietf-aipref-attach) -------


def aipref_parse(name: str, content: bytes) -> tuple[list[Reservation], list[str]]:
    """`Content-Usage: [/path] <dictionary>` lines; `train-ai=n` reserves, the longest path prefix wins."""
    lines, errors = _lines(content)
    rules: list[tuple[int, str, str, bool]] = []  # (line, text, stored path, reserves)
    for number, line in lines:
        value_text = line.split("#", 1)[0]
        if not value_text.strip():
            continue
        field, colon, value = value_text.partition(":")
        if not colon or not field.strip() or " " in field.strip():
            errors.append(f"line {number}: not a 'Content-Usage: ...' line; ignored")
            continue
        if field.strip().lower() != "content-usage":
            continue
        value = value.strip(" \t")
        path = "/"
        if value.startswith("/"):
            path, _, value = value.replace("\t", " ").partition(" ")
        try:
            preferences = dictionary_parse(value)
        except FieldSyntaxError as error:
            errors.append(f"line {number}: not a preference dictionary ({error}); ignored")
            continue
        rules.append((number, line.strip(), robots_normal(path), _aipref_reserves(preferences)))
    taken_back = tuple(stored for _, _, stored, reserves in rules if not reserves)
    reservations = [
        _reservation(AIPREF, name, number, text, stored, taken_back)
        for number, text, stored, reserves in rules
        if reserves
    ]
    return reservations, errors


def _aipref_reserves(preferences: dict[str, tuple[str, object]]) -> bool:
    def preference(label: str) -> str | None:
        kind, value = preferences.get(label, (None, None))
        return value if kind == "token" and value in ("y", "n") else None

    general, generative = (preference(label) for label in TRAINING_LABELS)
    return generative == "n" or (general == "n" and generative != "y")


PARSERS = {TDMREP: tdmrep_parse, AI_TXT: ai_txt_parse, GITATTRIBUTES: gitattributes_parse, AIPREF: aipref_parse}
