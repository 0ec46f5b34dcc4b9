"""The only module that imports scancode-toolkit.

scancode's license index takes seconds to load and about a gigabyte of memory, so it is
loaded once per process (`index_load`), in a Celery worker's parent before it forks, so
that its children share the pages. Detection runs one file at a time with a time limit of
its own; parallelism comes from Celery's worker processes, never from a pool inside a task.
"""

import gc
import hashlib
import importlib.metadata
import json
import signal
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings

from governance.exceptions import GovernanceError

# scancode keys that say "a license is referred to here, but which one is not known".
UNKNOWN_KEYS = frozenset(
    {"unknown", "unknown-license-reference", "free-unknown", "unknown-spdx", "other-permissive", "other-copyleft"}
)

# What we keep of a finding; a new number makes every blob be scanned again (and every verdict stale, so the
# re-scan sweep scans each repository again). 3: notice blocks, manifests read exactly, file labels.
FINDINGS_FORMAT = 3
# Matches scored below this are not trusted to decide on their own.
LOW_SCORE = 80.0


@cache
def _licenses_dir() -> Path:
    # Lazy: keeps scancode (+0.3 s, +50 MB a process) out of the web process.
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


@cache
def scanner_version() -> str:
    """`scancode-toolkit 32.5.0 index:<first 12 hex of the index fingerprint>`: what a finding is keyed by."""
    # Lazy: keeps scancode (+0.3 s, +50 MB a process) out of the web process.
    import scancode_config

    return f"scancode-toolkit {scancode_config.__version__} index:{index_fingerprint()[:12]} findings:{FINDINGS_FORMAT}"


@cache
def index_fingerprint() -> str:
    """sha256 of scancode's license index file, remembered next to our data by the file's size and time."""
    # Lazy: keeps scancode (+0.3 s, +50 MB a process) out of the web process.
    from licensedcode.cache import LICENSE_INDEX_DIR, LICENSE_INDEX_FILENAME, licensedcode_cache_dir

    index_file = Path(licensedcode_cache_dir) / LICENSE_INDEX_DIR / LICENSE_INDEX_FILENAME
    try:
        stat = index_file.stat()
    except FileNotFoundError:
        # scancode builds it on first use; fingerprint the license data it is built from instead.
        return hashlib.sha256(str(sorted(p.name for p in _licenses_dir().iterdir())).encode()).hexdigest()
    remembered = Path(settings.DATA_DIR) / "scancode-index.json"
    key = f"{index_file}:{stat.st_size}:{stat.st_mtime_ns}"
    try:
        known = json.loads(remembered.read_text())
        if known.get("key") == key:
            return known["sha256"]
    except (OSError, ValueError):
        pass
    digest = hashlib.sha256()
    with index_file.open("rb") as index:
        while chunk := index.read(1 << 20):
            digest.update(chunk)
    remembered.parent.mkdir(parents=True, exist_ok=True)
    remembered.write_text(json.dumps({"key": key, "sha256": digest.hexdigest()}))
    return digest.hexdigest()


def index_load() -> None:
    """Load the license index (and the license database) now, then keep the garbage collector off them.

    Called in a worker's parent process before it forks: gc.freeze() moves everything loaded so far
    out of the collector's reach, so collections in the children do not write to (and so copy) the
    shared pages.
    """
    # Lazy: keeps scancode (+0.3 s, +50 MB a process) out of the web process.
    from licensedcode.cache import get_index, get_licenses_db

    get_index()
    get_licenses_db()
    scanner_version()
    gc.freeze()


# scancode's license categories, grouped the way a dataset policy thinks of them.
_CATEGORY_CLASSES = {
    "Permissive": "permissive",
    "Public Domain": "permissive",
    "Copyleft": "copyleft",
    "Copyleft Limited": "copyleft",
    "Proprietary Free": "proprietary",
    "Commercial": "proprietary",
    "Source-available": "proprietary",
    "Free Restricted": "proprietary",
}


def license_class(key: str) -> str:
    """permissive, copyleft, proprietary or unknown, for one scancode license key."""
    if key in UNKNOWN_KEYS:
        return "unknown"
    # Lazy: keeps scancode (+0.3 s, +50 MB a process) out of the web process.
    from licensedcode.cache import get_licenses_db

    license_ = get_licenses_db().get(key)
    if license_ is None:
        return "unknown"
    return _CATEGORY_CLASSES.get(license_.category, "unknown")


# SPDX id → scancode category, written from scancode's license database (`license_categories_from_database`; a test
# keeps it equal): a policy decides in the web process without loading that database (4–5 s, +200 MB).
CATEGORY_TABLE = Path(__file__).with_name("license_categories.json")


def license_categories_from_database() -> dict[str, str]:
    """Every name of every license scancode knows (its SPDX id, other SPDX spellings, `LicenseRef-scancode-<key>`),
    lower-cased, with the license's category."""
    # Lazy: keeps scancode (+0.3 s, +50 MB a process) out of the web process.
    from licensedcode.cache import get_licenses_db

    categories = {}
    for key, license_ in sorted(get_licenses_db().items()):
        if not license_.category:
            continue
        names = [license_.spdx_license_key, *(license_.other_spdx_license_keys or ()), f"licenseref-scancode-{key}"]
        for name in names:
            if name:
                categories.setdefault(name.lower(), license_.category)
    return categories


def scancode_release() -> str:
    """The installed scancode-toolkit's version, read from its metadata (scancode itself is not imported)."""
    return importlib.metadata.version("scancode-toolkit")


@cache
def _spdx_categories() -> dict[str, str]:
    table = json.loads(CATEGORY_TABLE.read_text()) if CATEGORY_TABLE.exists() else {}
    if table.get("scancode_toolkit") == scancode_release():
        return table["categories"]
    return license_categories_from_database()  # another scancode: its own database, however slow


@cache
def _spdx_exceptions() -> frozenset[str]:
    from license_expression import get_spdx_licensing

    return frozenset(key.lower() for key, symbol in get_spdx_licensing().known_symbols.items() if symbol.is_exception)


def is_spdx_exception(spdx_key: str) -> bool:
    """Whether an SPDX id names an exception (`PCRE2-exception`, `Autoconf-exception-generic`), not a license."""
    return spdx_key.lower() in _spdx_exceptions()


def spdx_category(spdx_key: str) -> str | None:
    """scancode's category of one SPDX license id ("Permissive", "Copyleft", …), or None when it knows no such id."""
    categories = _spdx_categories()
    key = spdx_key.lower()
    # `MPL-1.1+` (this version or any later one) is in the category of its version.
    return categories.get(key) or (categories.get(key[:-1]) if key.endswith("+") else None)


@dataclass
class FileFinding:
    """What scancode found in one file."""

    license_expression: str = ""  # scancode keys
    spdx_expression: str = ""
    detections: list[dict] = field(default_factory=list)
    clues: list[dict] = field(default_factory=list)
    license_text_percent: float = 0.0
    timed_out: bool = False
    error: str = ""
    seconds: float = 0.0


class _FileTimeout(Exception):
    pass


def file_scan(location: str | Path, *, timeout: float = 30.0) -> FileFinding:
    """Detect licenses in one file, stopping after `timeout` seconds with whatever was found by then.

    scancode's own deadline is checked between matching stages; a stage can overrun it on a
    pathological file, so in the main thread (a Celery prefork child, a management command) an
    alarm interrupts it for good one second after the deadline.
    """
    # Lazy: keeps scancode (+0.3 s, +50 MB a process) out of the web process.
    from licensedcode.cache import get_index
    from scancode.api import get_licenses

    # Never under the alarm: interrupted while loading its index, scancode takes the cache for
    # corrupt and rebuilds it in place (minutes, and a new index fingerprint).
    get_index()
    started = time.monotonic()
    use_alarm = threading.current_thread() is threading.main_thread()
    previous_handler = None
    if use_alarm:

        def interrupt(signum, frame):
            raise _FileTimeout

        previous_handler = signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, timeout + 1.0)
    try:
        result = get_licenses(str(location), deadline=time.time() + timeout, unknown_licenses=True)
    except _FileTimeout:
        return FileFinding(timed_out=True, seconds=time.monotonic() - started)
    except Exception as failure:  # noqa: BLE001 — scancode raising on one odd file must not end the scan
        return FileFinding(error=f"{type(failure).__name__}: {failure}"[:500], seconds=time.monotonic() - started)
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler or signal.SIG_DFL)
    seconds = time.monotonic() - started
    return FileFinding(
        license_expression=result["detected_license_expression"] or "",
        spdx_expression=result["detected_license_expression_spdx"] or "",
        detections=[_detection(detection) for detection in result["license_detections"]],
        clues=[_match(match) for match in result["license_clues"]],
        license_text_percent=float(result["percentage_of_license_text"] or 0.0),
        timed_out=seconds >= timeout,
        seconds=seconds,
    )


def _detection(detection: dict) -> dict:
    matches = [_match(match) for match in detection["matches"]]
    return {
        "license_expression": detection["license_expression"],
        "spdx_expression": detection.get("license_expression_spdx") or "",
        "score": min((match["score"] for match in matches), default=0.0),
        "start_line": min((match["start_line"] for match in matches), default=0),
        "end_line": max((match["end_line"] for match in matches), default=0),
        "matches": matches,
    }


def _match(match: dict) -> dict:
    return {
        "license_expression": match["license_expression"],
        "spdx_expression": match.get("license_expression_spdx") or "",
        "rule": match["rule_identifier"],
        "matcher": match["matcher"],
        "score": float(match["score"]),
        "coverage": float(match["match_coverage"]),
        "start_line": match["start_line"],
        "end_line": match["end_line"],
        "matched_length": int(match.get("matched_length") or 0),
        # Rules named <key>.LICENSE are the whole license text, not a notice or a mention.
        "is_license_text": match["rule_identifier"].endswith(".LICENSE"),
    }


def scancode_expression(spdx: str) -> str:
    """The scancode-key form of an SPDX expression read without scancode (a manifest field, an SPDX line).

    Ids scancode does not know (`LicenseRef-BSD`, a project's own name) become `unknown-license-reference`: a
    license is referred to, which one is not known.
    """
    # Lazy: keeps scancode (+0.3 s, +50 MB a process) out of the web process.
    from license_expression import LicenseSymbol, LicenseWithExceptionSymbol, Licensing
    from licensedcode.cache import get_spdx_symbols

    symbols = get_spdx_symbols()
    licensing = Licensing()
    parsed = licensing.parse(spdx, validate=False)
    if parsed is None:
        return ""

    def key(symbol) -> str:
        name = symbol.key.lower()
        # `MPL-1.1+`: scancode has no key for every "or later" form; the version's own key has its category.
        known = symbols.get(name) or (symbols.get(name[:-1]) if name.endswith("+") else None)
        if known is None and name.startswith("licenseref-scancode-"):
            return name[len("licenseref-scancode-") :]
        return known.key if known is not None else "unknown-license-reference"

    def convert(node):
        if isinstance(node, LicenseWithExceptionSymbol):
            return f"{key(node.license_symbol)} WITH {key(node.exception_symbol)}"
        if isinstance(node, LicenseSymbol):
            return key(node)
        joined = f" {node.operator.strip()} ".join(convert(arg) for arg in node.args)
        return f"({joined})"

    converted = convert(parsed)
    return str(licensing.parse(converted, validate=False)) if converted else ""


def finding_from_spdx(spdx: str, *, start_line: int, end_line: int, rule: str) -> FileFinding:
    """A finding in scancode's shape for an SPDX expression read exactly (a manifest's field, SPDX lines):
    one detection scored 100, matched by `1-spdx-id` as scancode itself reports SPDX lines."""
    keys = scancode_expression(spdx)
    if not keys:
        return FileFinding()
    match = {
        "license_expression": keys,
        "spdx_expression": spdx,
        "rule": rule,
        "matcher": "1-spdx-id",
        "score": 100.0,
        "coverage": 100.0,
        "start_line": start_line,
        "end_line": end_line,
        "matched_length": max(1, len(spdx.split())),
        "is_license_text": False,
    }
    detection = {
        "license_expression": keys,
        "spdx_expression": spdx,
        "score": 100.0,
        "start_line": start_line,
        "end_line": end_line,
        "matches": [match],
    }
    return FileFinding(license_expression=keys, spdx_expression=spdx, detections=[detection])


def spdx_expression(expression: str) -> str:
    """The SPDX form of an expression of scancode license keys."""
    if not expression:
        return ""
    # Lazy: keeps scancode (+0.3 s, +50 MB a process) out of the web process.
    from licensedcode.cache import build_spdx_license_expression, get_cache

    return str(build_spdx_license_expression(expression, licensing=get_cache().licensing))
