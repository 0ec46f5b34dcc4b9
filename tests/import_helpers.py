"""Registry exports written by the import tests, and the command run on them."""

import json
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from optout.models import Exclusion, ExclusionSource, ImportedRecord, OptOutRequest, RequestEvent, Verification

AUTHOR = "Private Author Name"

# Every kind of record, one a line (the line numbers matter: failures are reported by line).
VERSION_1 = [
    {"issue": 1, "author": "alice", "optout_owners": ["alice"]},  # line 1: an owner
    {"issue": 2, "author": AUTHOR, "optout_repos": ["bob/tool", "https://github.com/Bob/Lib.git"]},  # 2: repositories
    {"issue": 3, "author": "carol", "optout_owners": ["dave"]},  # 3: an owner other than the author
    {"issue": 2, "author": "mallory", "optout_repos": ["mallory/other"]},  # 4: a duplicate issue number
    {"issue": 5, "author": "erin", "optout_repos": ["not a name"]},  # 5: an unreadable name
    {"issue": 6, "author": "frank", "optout_repos": ["frank/gone"]},  # 6: removed in the next version
    {"author": "grace", "optout_repos": ["grace/x"]},  # 7: no issue number
]
# Issue 2 drops bob/lib and names bob/new; issue 6 is gone; issue 8 is new.
VERSION_2 = [
    VERSION_1[0],
    {"issue": 2, "author": AUTHOR, "optout_repos": ["bob/tool", "bob/new"]},
    VERSION_1[2],
    {"issue": 8, "author": "heidi", "optout_repos": ["heidi/app"]},
]


def export_written(folder: Path, records: list, name: str = "issues.jsonl", *, extra_lines=()) -> Path:
    path = folder / name
    lines = [json.dumps(record) for record in records] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def imported(path: Path, *options: str, source: str = "issues", file_format: str = "jsonl-issues") -> dict:
    """Run the command with --json and return its summary."""
    out = StringIO()
    call_command("import_optouts", source, str(path), "--format", file_format, "--json", *options, stdout=out)
    return json.loads(out.getvalue())


def row_counts() -> dict[str, int]:
    models = (OptOutRequest, ImportedRecord, Verification, Exclusion, ExclusionSource, RequestEvent)
    return {model.__name__: model.objects.count() for model in models}


def in_force(target: str) -> bool:
    return Exclusion.objects.filter(target=target, revoked_at__isnull=True).exists()
