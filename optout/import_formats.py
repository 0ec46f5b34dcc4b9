"""Reading an existing opt-out registry's export, record by record: what each record excludes, or why it cannot.

Two formats. `jsonl-issues`: one JSON object a line, an issue of a registry kept as issues
(`{"issue": 3, "author": "…", "optout_repos": ["owner/a"], "optout_owners": ["owner"]}`; owners are GitHub
namespaces, repositories any spelling). `urls`: one URL a line, as opt-out services export them; the record id is
the repository's canonical name, not the line number, so a record keeps its id when lines are added or removed
above it in a later export, and two spellings of one repository are one record.
"""

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from governance.exceptions import GovernanceError
from governance.identity import FORGE_HOSTS, RepositoryParseError, RepositoryRef, parse_namespace, parse_repository

FORMATS = ("jsonl-issues", "urls")
MAX_AUTHOR_LENGTH = 200
MAX_TARGETS = 1000
# A git remote names a repository on any host; a web link only on a known forge (else it is a page, an image…).
_GIT_REMOTE_RE = re.compile(r"(?:(?:ssh|git|git\+[a-z]+|ssh\+git)://|[^/:@\s]+@[^/:\s]+:)", re.IGNORECASE)


class ImportFileError(GovernanceError):
    """The file cannot be read at all (missing, a folder, unknown format): nothing is imported."""


@dataclass(frozen=True)
class SourceRecord:
    """One readable record: what it excludes, and where it was read."""

    record_id: str
    line: int
    author: str
    repositories: tuple[RepositoryRef, ...]  # unique by canonical name, sorted
    namespaces: tuple[str, ...]  # unique, sorted

    @property
    def canonicals(self) -> list[str]:
        return [ref.canonical for ref in self.repositories]

    @property
    def targets(self) -> list[str]:
        return [*self.canonicals, *self.namespaces]


@dataclass(frozen=True)
class RecordProblem:
    """A line that gives no record: `skipped` when it is simply not about a repository (a web page in a URL
    list), a failure otherwise. `record_id` is set when the line still said which record it is."""

    line: int
    reason: str
    record_id: str = ""
    skipped: bool = False

    def as_dict(self) -> dict:
        return {"line": self.line, "reason": self.reason}


class RegistryFile:
    """An export on disk: its sha256 (read once, before any record) and its records, streamed line by line."""

    def __init__(self, path: str | Path, file_format: str):
        if file_format not in FORMATS:
            raise ImportFileError(f"Unknown format {file_format!r}: use one of {', '.join(FORMATS)}")
        self.path, self.format = Path(path), file_format
        digest = hashlib.sha256()
        try:
            with self.path.open("rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(block)
        except FileNotFoundError:
            raise ImportFileError(f"{self.path}: no such file") from None
        except IsADirectoryError:
            raise ImportFileError(f"{self.path} is a folder: give the export file") from None
        except OSError as error:
            raise ImportFileError(f"{self.path} cannot be read: {error.strerror or error}") from None
        self.sha256 = digest.hexdigest()

    def __iter__(self) -> Iterator[SourceRecord | RecordProblem]:
        read = _issue_record if self.format == "jsonl-issues" else _url_record
        first_lines: dict[str, int] = {}
        try:
            with self.path.open("rb") as stream:
                for number, raw in enumerate(stream, start=1):
                    try:
                        text = raw.decode("utf-8").strip().lstrip("\ufeff")
                    except UnicodeDecodeError:
                        yield RecordProblem(number, "not UTF-8 text")
                        continue
                    if not text:
                        continue
                    item = read(number, text)
                    if isinstance(item, SourceRecord):
                        first = first_lines.setdefault(item.record_id, number)
                        if first != number:
                            item = _duplicate(self.format, item, first)
                    yield item
        except OSError as error:
            raise ImportFileError(f"{self.path} could not be read to the end: {error.strerror or error}") from None


def _duplicate(file_format: str, record: SourceRecord, first: int) -> RecordProblem:
    if file_format == "urls":
        return RecordProblem(record.line, f"same repository as line {first}", record.record_id, skipped=True)
    return RecordProblem(
        record.line, f"issue {record.record_id} again (first at line {first}): this line is ignored", record.record_id
    )


def _issue_record(number: int, text: str) -> SourceRecord | RecordProblem:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return RecordProblem(number, f"not JSON ({error.msg} at column {error.colno})")
    except RecursionError:
        return RecordProblem(number, "not JSON (nested too deep)")
    if not isinstance(value, dict):
        return RecordProblem(number, "not a JSON object")
    issue = value.get("issue")
    if isinstance(issue, str) and issue.strip().isdecimal():
        issue = int(issue)
    if isinstance(issue, bool) or not isinstance(issue, int) or issue <= 0:
        return RecordProblem(number, 'no issue number: give "issue" as a positive whole number')
    record_id = str(issue)
    author = value.get("author")
    author = author.strip()[:MAX_AUTHOR_LENGTH] if isinstance(author, str) else ""
    names = {}
    for field in ("optout_repos", "optout_owners"):
        listed = value.get(field) or []
        if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
            return RecordProblem(number, f'"{field}" is not a list of names', record_id)
        names[field] = listed
    if not names["optout_repos"] and not names["optout_owners"]:
        return RecordProblem(number, "names no repository and no owner", record_id)
    if len(names["optout_repos"]) + len(names["optout_owners"]) > MAX_TARGETS:
        return RecordProblem(number, f"names more than {MAX_TARGETS:,} repositories and owners", record_id)
    try:
        repositories = [parse_repository(name) for name in names["optout_repos"]]
        namespaces = [parse_namespace(_github_owner(name)) for name in names["optout_owners"]]
    except RepositoryParseError as error:
        return RecordProblem(number, str(error), record_id)
    return _record(record_id, number, author, repositories, namespaces)


def _github_owner(name: str) -> str:
    """The registry's owners are GitHub logins; a URL or `github.com/owner` is read as written."""
    name = name.strip()
    return name if "/" in name or ":" in name else f"github.com/{name}"


def _url_record(number: int, text: str) -> SourceRecord | RecordProblem:
    try:
        ref = parse_repository(text)
    except RepositoryParseError as error:
        return RecordProblem(number, str(error), skipped=True)
    if ref.host == "file":
        return RecordProblem(number, "is a local path, not a published repository", skipped=True)
    if ref.host not in FORGE_HOSTS and not _GIT_REMOTE_RE.match(text) and not _path_ends_in_git(text):
        return RecordProblem(
            number, f"is not a repository URL: {ref.host} is not a known forge and it is no git remote", skipped=True
        )
    return _record(ref.canonical, number, "", [ref], [])


def _path_ends_in_git(text: str) -> bool:
    return re.split(r"[?#]", text, maxsplit=1)[0].rstrip("/").lower().endswith(".git")


def _record(
    record_id: str, number: int, author: str, repositories: list[RepositoryRef], namespaces: list[str]
) -> SourceRecord:
    unique = {ref.canonical: ref for ref in repositories}
    return SourceRecord(
        record_id=record_id,
        line=number,
        author=author,
        repositories=tuple(unique[canonical] for canonical in sorted(unique)),
        namespaces=tuple(sorted(set(namespaces))),
    )
