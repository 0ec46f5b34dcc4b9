"""The only module that imports scancode-toolkit.

For now it serves the license texts of scancode's own license database, which the
demo and the tests commit into real git repositories; detection arrives with the
license audits.
"""

from functools import cache
from pathlib import Path

from governance.exceptions import GovernanceError


@cache
def _licenses_dir() -> Path:
    from licensedcode.models import licenses_data_dir

    return Path(licenses_data_dir)


def license_text(key: str) -> str:
    """The full text scancode keeps for a license key (`mit`, `apache-2.0`, `bsd-new`, `gpl-3.0` …)."""
    path = _licenses_dir() / f"{key}.LICENSE"
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GovernanceError(f"scancode has no license with key {key!r}") from None
    # The file starts with a YAML block between two '---' lines; the text follows it.
    if content.startswith("---"):
        _, _, content = content[3:].partition("\n---\n")
    return content.strip() + "\n"
