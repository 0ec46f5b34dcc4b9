"""The exclusions client for build pipelines: pull, verify and apply signed exclusion-list releases.

Imports neither Django nor the portal's database: only the standard library, pyarrow, cryptography and
the portal's pure modules (`exclusions.identity`, `exclusions.release_files`). The command line is
`exclusions` (`exclusions.cli`); the Python API is below, loaded on first use so that importing
`exclusions.manifest` (the portal's signer does) costs nothing more.

    from exclusions import load_release
    release = load_release("exclusions/")            # the verified release `exclusions pull` installed
    release.is_excluded("Psf/Requests")               # → bool; also blob_id="…"
    kept = release.filter_table(table)                # a pyarrow.Table without the excluded rows
"""

_API = {
    "ClientError": "exclusions.errors",
    "Release": "exclusions.release",
    "load_release": "exclusions.release",
    "is_excluded": "exclusions.release",
    "filter_table": "exclusions.filtering",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_API[name]), name)
