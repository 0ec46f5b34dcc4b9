"""STAND-IN for the reservation parsers, replaced at merge by the real module with the same interface.

Only enough to build and test the reservation check: `.gitattributes` lines `<pattern> ai-training=false`
(fnmatch), `ai.txt` `User-Agent: *` + `Disallow: /`, and a `tdmrep.json` that is not a list of objects
with a 0/1 `tdm-reservation` is malformed. The real rules of every format live in the real module.
"""

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase

RESERVATION_FILES: dict[str, str] = {
    "tdmrep.json": "tdmrep",
    ".well-known/tdmrep.json": "tdmrep",
    "ai.txt": "ai-txt",
    ".gitattributes": "gitattributes",
    ".aipref": "aipref",
    "ai-preferences.txt": "aipref",
}
MAX_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Reservation:
    kind: str
    file: str
    line: int
    text: str
    paths: tuple[str, ...] = ()  # () = the whole repository

    def covers(self, path: str) -> bool:
        return not self.paths or any(fnmatchcase(path, pattern) for pattern in self.paths)

    @property
    def reason(self) -> str:
        return f"reservation:{self.kind}"


@dataclass(frozen=True)
class Malformed:
    kind: str
    file: str
    error: str


def reservations_parse(files: dict[str, bytes]) -> tuple[list[Reservation], list[Malformed]]:
    reservations: list[Reservation] = []
    malformed: list[Malformed] = []
    for file, content in files.items():
        kind = RESERVATION_FILES.get(file)
        text = content.decode("utf-8", "replace")
        if kind == "gitattributes":
            for number, line in enumerate(text.splitlines(), start=1):
                pattern, *attributes = line.split() or [""]
                if "ai-training=false" in attributes:
                    paths = () if pattern == "*" else (pattern,)
                    reservations.append(Reservation(kind, file, number, line.strip(), paths))
        elif kind == "ai-txt":
            lines = [line.strip() for line in text.splitlines()]
            if "User-Agent: *" in lines and "Disallow: /" in lines:
                number = lines.index("Disallow: /") + 1
                reservations.append(Reservation(kind, file, number, "Disallow: /"))
        elif kind == "tdmrep":
            try:
                entries = json.loads(text)
                if not isinstance(entries, list) or any(each.get("tdm-reservation") not in (0, 1) for each in entries):
                    raise ValueError("tdm-reservation must be 0 or 1")
            except (ValueError, AttributeError) as error:
                malformed.append(Malformed(kind, file, str(error)))
    return reservations, malformed
