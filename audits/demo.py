"""Demo license audits: repositories with the cases a maintainer meets, and a scan of every demo repository."""

import contextlib
from pathlib import Path

from audits.scancode import license_text
from audits.services import ScanError, scan_repository
from governance.git import local_repository_commit

_GPL_NOTICE = (
    "/*\n * This program is free software: you can redistribute it and/or modify it under the terms of the\n"
    " * GNU General Public License as published by the Free Software Foundation, either version 3 of the\n"
    " * License, or (at your option) any later version.\n */\n"
)


def _audit_cases() -> dict[str, dict[str, str]]:
    return {
        # Declared MIT, but a vendored file says GPL: the repository stays in, that file is excluded alone.
        "acme/vendored-getopt": {
            "LICENSE": license_text("mit"),
            "README.md": "# vendored-getopt\n\nA command-line tool that vendors a copy of getopt.\n",
            "src/main.c": "int main(void) { return 0; }\n",
            "vendor/getopt/getopt.c": _GPL_NOTICE + "int getopt(void) { return -1; }\n",
        },
        # Two license files and a manifest that says which applies: either, at the user's option.
        "rusty-crab/dual-licensed": {
            "LICENSE-MIT": license_text("mit"),
            "LICENSE-APACHE": license_text("apache-2.0"),
            "Cargo.toml": '[package]\nname = "dual-licensed"\nversion = "0.1.0"\nlicense = "MIT OR Apache-2.0"\n',
            "src/lib.rs": "pub fn add(a: i32, b: i32) -> i32 { a + b }\n",
        },
        # Free to read, not to train on for profit: proprietary for a dataset's policy.
        "nc-studio/sketches": {
            "LICENSE": license_text("cc-by-nc-4.0"),
            "README.md": "# sketches\n\nDrawings and the scripts that make them.\n",
            "draw.py": "print('sketch')\n",
        },
        # A license id nobody knows, in the manifest: a maintainer has to look.
        "odd-corp/widgets": {
            "package.json": '{\n  "name": "widgets",\n  "version": "2.0.0",\n  "license": "OddCorp-Source-1.0"\n}\n',
            "index.js": "module.exports = {};\n",
        },
        # A license only in the package manifest.
        "npm-person/left-trim": {
            "package.json": '{\n  "name": "left-trim",\n  "version": "1.0.0",\n  "license": "ISC"\n}\n',
            "index.js": "module.exports = (s) => s.replace(/^\\s+/, '');\n",
        },
    }


def demo_audit_repositories(root: Path) -> list[Path]:
    """Local repositories for the audit cases (made once)."""
    paths = []
    for name, files in _audit_cases().items():
        path = root / name
        if not (path / ".git").is_dir():
            local_repository_commit(path, files, message="Initial commit")
        paths.append(path)
    return paths


def demo_scans(paths: list[Path], *, progress=None) -> int:
    """Scan every demo repository now (an unchanged one keeps its verdict); returns how many were scanned."""
    scanned = 0
    for path in paths:
        if progress:
            progress(f"scanning {path.name} for licenses")
        outcome = scan_repository(source=path.as_uri(), requested_by="demo")
        scanned += not outcome.reused_verdict
    return scanned


def demo_failed_scan(root: Path) -> None:
    """A scan that fails (a folder that is not a git repository), so the maintainers' overview has one to show."""
    path = root / "demo-owners" / "half-copied"
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(ScanError):  # recorded on the scan row as failed, which is the point
        scan_repository(source=path.as_uri(), requested_by="demo")
