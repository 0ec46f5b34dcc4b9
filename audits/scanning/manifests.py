"""The license a package manifest declares (Cargo.toml, package.json, pyproject.toml, pom.xml …), read exactly.

Pure: no models, no scancode, no network. Every expression goes through `spdx_parse`, so what a manifest says
becomes one normalised SPDX expression; an id the SPDX list does not know stays `LicenseRef-<id>` and is listed in
`unknown`, for a person to look at. Free-text names ("Apache License, Version 2.0", "GPLv3") go through the explicit
tables of audits/scanning/license_names.py; a name that is in none is never guessed at ("BSD" stays `LicenseRef-BSD`).

A manifest that only names a file (`license-files`, `{file = "LICENSE"}`, `SEE LICENSE IN x`, Cargo's
`license-file`) gives no expression but `pointers`: that file's own license finding decides.

How several licenses in a list combine is each format's own rule, written where the list is read: npm, bower,
composer, Maven and RubyGems lists are a choice (OR); CPAN lists are licenses of parts of the distribution (AND).
"""

import configparser
import json
import re
import tomllib
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from posixpath import basename, normpath

from audits.scanning.license_names import (
    CABAL_LICENSES,
    CPAN_LICENSES,
    R_LICENSES,
    R_TEMPLATES,
    Reading,
    license_from_name,
    license_from_name_and_url,
    licenses_combined,
)


@dataclass(frozen=True)
class ManifestLicense:
    """What a manifest says about its license: an SPDX expression, files to read, or why it could not be read."""

    expression: str  # SPDX expression (normalised by spdx_parse); "" when the manifest only points at files
    field: str  # where it was read, e.g. "Cargo.toml: package.license"
    # Paths relative to the manifest's folder, of files whose own license finding decides. PEP 639 `license-files`
    # and setuptools' `license_files` may hold glob patterns (`LICEN[CS]E*`): they are kept as written.
    pointers: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()  # names not on the SPDX list (now LicenseRef-…): a person must look
    error: str = ""  # the manifest could not be read (bad TOML/JSON/XML): what, briefly


class _Unreadable(Exception):
    """The manifest is not valid in its own format; the message says how."""


def _pointer(path: object) -> str | None:
    if not isinstance(path, str) or not path.strip():
        return None
    cleaned = normpath(path.strip().strip("<>").replace("\\", "/"))
    return None if cleaned.startswith("/") or cleaned == "." else cleaned


def _pointers(paths) -> tuple[str, ...]:
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list):
        return ()
    return tuple(dict.fromkeys(pointer for path in paths if (pointer := _pointer(path))))


def _found(field: str, reading: Reading = ("", ()), pointers=()) -> ManifestLicense | None:
    expression, unknown = reading
    if not expression and not pointers:
        return None
    return ManifestLicense(expression=expression, field=field, pointers=tuple(pointers), unknown=tuple(unknown))


def _table(document: dict, *keys: str) -> dict:
    """document[key1][key2]… when every level is a table, else {}: a manifest of the wrong shape states nothing."""
    for key in keys:
        document = document.get(key) if isinstance(document, dict) else None
    return document if isinstance(document, dict) else {}


def _text(content: bytes, *, lenient: bool = False) -> str:
    """The manifest as text. Line formats (DESCRIPTION, gemspec, META.yml, cabal) may be Latin-1: they are read
    leniently, since the license field is ASCII; structured formats must be valid."""
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return content.decode("utf-16", errors="replace")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        if lenient:
            return content.decode("utf-8-sig", errors="replace")
        raise _Unreadable("not UTF-8 text") from None


def _toml(content: bytes) -> dict:
    try:
        return tomllib.loads(_text(content))
    except tomllib.TOMLDecodeError as failure:
        raise _Unreadable(f"not valid TOML: {failure}") from None
    except RecursionError:
        raise _Unreadable("TOML nested too deeply") from None


def _json(content: bytes) -> dict:
    try:
        document = json.loads(_text(content))
    except json.JSONDecodeError as failure:
        raise _Unreadable(f"not valid JSON: {failure}") from None
    except RecursionError:
        raise _Unreadable("JSON nested too deeply") from None
    if not isinstance(document, dict):
        raise _Unreadable("not a JSON object")
    return document


_XML_DECLARATIONS = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _xml(content: bytes) -> ElementTree.Element:
    text = _text(content)
    # Entities are how XML bombs and external-file reads work; no manifest needs them (defusedxml's rule).
    if _XML_DECLARATIONS.search(text):
        raise _Unreadable("XML with a DOCTYPE or ENTITY declaration is refused")
    try:
        return ElementTree.fromstring(text)
    except ElementTree.ParseError as failure:
        raise _Unreadable(f"not valid XML: {failure}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if _local(child.tag) == name]


def _child_text(element: ElementTree.Element, name: str) -> str:
    found = _children(element, name)
    return (found[0].text or "").strip() if found else ""


# --- Cargo.toml ---------------------------------------------------------------------------------------------------


def _cargo(name: str, content: bytes) -> ManifestLicense | None:
    document = _toml(content)
    package, workspace = _table(document, "package"), _table(document, "workspace", "package")
    for key in ("license", "license-file"):
        value, where = package.get(key), f"package.{key}"
        # `license.workspace = true`: the value is the workspace's, found here only when this is the root manifest.
        if value is None or (isinstance(value, dict) and value.get("workspace") is True):
            value, where = workspace.get(key), f"workspace.package.{key}"
        if value is None:
            continue
        if not isinstance(value, str):
            raise _Unreadable(f"{where} is not a string")
        if key == "license-file":
            return _found(f"{name}: {where}", pointers=_pointers(value))
        # Before Cargo took SPDX expressions, `/` separated licenses to choose from: `MIT/Apache-2.0`.
        parts = re.split(r"\s*/\s*", value) if "/" in value else [value]
        return _found(f"{name}: {where}", licenses_combined([license_from_name(part) for part in parts], "OR"))
    return None


# --- package.json, bower.json, composer.json, deno.json, vcpkg.json, elm.json --------------------------------------

_SEE_LICENSE = re.compile(r"^\s*see\s+licen[cs]e\s+in\s+(\S.*?)\s*$", re.IGNORECASE)


def _json_value(value) -> tuple[Reading, tuple[str, ...]]:
    """(reading, pointers) of a JSON manifest's license value: a string, a legacy {type, url} object, or a list."""
    if isinstance(value, str):
        see = _SEE_LICENSE.match(value)
        if see and "://" not in see.group(1):
            return ("", ()), _pointers(see.group(1))
        return license_from_name(value), ()
    if isinstance(value, dict):
        kind, url = value.get("type"), value.get("url")
        return license_from_name_and_url(kind if isinstance(kind, str) else "", url if isinstance(url, str) else ""), ()
    if isinstance(value, list):
        # npm's legacy `licenses` list, composer's and bower's arrays are licenses to choose from: npm's docs
        # replace the list by an OR expression, composer's call an array a disjunctive license.
        parts = [_json_value(item) for item in value]
        pointers = tuple(dict.fromkeys(pointer for _, item_pointers in parts for pointer in item_pointers))
        return licenses_combined([reading for reading, _ in parts], "OR"), pointers
    raise _Unreadable(f"license is a JSON {type(value).__name__}, not a string, object or list")


def _package_json(name: str, content: bytes) -> ManifestLicense | None:
    document = _json(content)
    for key in ("license", "licenses"):
        if document.get(key) not in (None, "", [], {}):
            reading, pointers = _json_value(document[key])
            return _found(f"{name}: {key}", reading, pointers)
    return None


# --- pyproject.toml, setup.cfg -------------------------------------------------------------------------------------


def _pyproject(name: str, content: bytes) -> ManifestLicense | None:
    document = _toml(content)
    project = _table(document, "project")
    field, reading, pointers = "", ("", ()), []
    license = project.get("license")
    if isinstance(license, str):  # PEP 639: an SPDX expression
        field, reading = "project.license", license_from_name(license)
    elif isinstance(license, dict):  # PEP 621's table: a text, or a file that holds the license
        if isinstance(license.get("text"), str):
            field, reading = "project.license.text", license_from_name(license["text"])
        if file_pointers := _pointers(license.get("file")):
            field = field or "project.license.file"
            pointers += file_pointers
    # PEP 639 lists license files as globs; its drafts and setuptools took a {paths|globs = […]} table and
    # [tool.setuptools] license-files.
    for where, files in (
        ("project.license-files", project.get("license-files")),
        ("tool.setuptools.license-files", _table(document, "tool", "setuptools").get("license-files")),
    ):
        if isinstance(files, dict):
            files = [*_pointers(files.get("paths")), *_pointers(files.get("globs"))]
        if found := _pointers(files):
            field = field or where
            pointers += found
    if not field:
        for where, value in (
            ("tool.poetry.license", _table(document, "tool", "poetry").get("license")),
            ("tool.flit.metadata.license", _table(document, "tool", "flit", "metadata").get("license")),
        ):
            if isinstance(value, str):
                field, reading = where, license_from_name(value)
                break
    return _found(f"{name}: {field}", reading, tuple(dict.fromkeys(pointers)))


def _setup_cfg(name: str, content: bytes) -> ManifestLicense | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(_text(content))
    except configparser.Error as failure:
        raise _Unreadable(f"not a valid setup.cfg: {failure.message.splitlines()[0]}") from None
    if not parser.has_section("metadata"):
        return None
    metadata = parser["metadata"]
    field, reading, pointers = "", ("", ()), []
    license = metadata.get("license", "").strip()
    if license.lower().startswith("file:"):  # setuptools' `file:` directive: the text is in those files
        field, pointers = "metadata.license", [*_pointers(re.split(r"[,\s]+", license[5:]))]
    elif license:
        field, reading = "metadata.license", license_from_name(license)
    # setuptools took license_file (one) before license_files (a comma or line separated list of globs).
    for key in ("license_files", "license-files", "license_file", "license-file"):
        if found := _pointers(re.split(r"[,\n]", metadata.get(key, ""))):
            field = field or f"metadata.{key}"
            pointers += found
    return _found(f"{name}: {field}", reading, tuple(dict.fromkeys(pointers)))


# --- *.gemspec -----------------------------------------------------------------------------------------------------

_GEM_ASSIGNMENT = re.compile(r"^\s*\w+\.(licen[cs]es?)\s*=\s*", re.MULTILINE)
_RUBY_STRING = re.compile(r"""(["'])((?:\\.|(?!\1).)*)\1""")
_RUBY_WORDS = re.compile(r"%[wW]\s*([\[({<])")
_CLOSING = {"[": "]", "(": ")", "{": "}", "<": ">"}


def _gemspec(name: str, content: bytes) -> ManifestLicense | None:
    text = _text(content, lenient=True)
    found = _GEM_ASSIGNMENT.search(text)
    if found is None:
        return None
    field = f"{name}: {found.group(1)}"
    rest = text[found.end() :]
    if words := _RUBY_WORDS.match(rest):
        names = rest[words.end() : rest.find(_CLOSING[words.group(1)], words.end())].split()
    elif rest.startswith("["):
        names = [match.group(2) for match in _RUBY_STRING.finditer(rest[: rest.find("]")])]
    elif string := _RUBY_STRING.match(rest):
        names = [string.group(2)]
    else:
        names = []
    if not names:
        return ManifestLicense("", field, error="the license is set by Ruby code, not a string literal")
    # RubyGems validates each entry as one SPDX id and calls a list a "dual- or multi-licensed gem", but its guide
    # adds that "the array itself does not state how the licenses combine". Read as a choice (OR), as
    # rubygems.org, Bundler's license tools and the gems with ["Ruby", "BSD-2-Clause"] (Ruby's own dual license)
    # mean it; a gem whose list means AND is one a person must read, and its LICENSE file is scanned anyway.
    return _found(field, licenses_combined([license_from_name(license) for license in names], "OR"))


# --- *.nuspec, *.csproj, pom.xml -----------------------------------------------------------------------------------


def _nuspec(name: str, content: bytes) -> ManifestLicense | None:
    for element in _xml(content).iter():
        if _local(element.tag) != "license":
            continue
        kind, value = element.get("type", "expression"), (element.text or "").strip()
        if kind == "file":
            return _found(f"{name}: license[@type=file]", pointers=_pointers(value))
        return _found(f"{name}: license[@type={kind}]", license_from_name(value))
    # <licenseUrl> is deprecated and points at a web page, not a license: it states nothing exactly.
    return None


def _csproj(name: str, content: bytes) -> ManifestLicense | None:
    root = _xml(content)
    for element in root.iter():
        if _local(element.tag) == "PackageLicenseExpression" and (element.text or "").strip():
            return _found(f"{name}: PackageLicenseExpression", license_from_name(element.text))
    for element in root.iter():
        if _local(element.tag) == "PackageLicenseFile" and (element.text or "").strip():
            return _found(f"{name}: PackageLicenseFile", pointers=_pointers(element.text))
    return None


def _pom(name: str, content: bytes) -> ManifestLicense | None:
    root = _xml(content)
    if _local(root.tag) != "project":
        return None
    licenses = [license for group in _children(root, "licenses") for license in _children(group, "license")]
    readings = [
        license_from_name_and_url(_child_text(license, "name"), _child_text(license, "url")) for license in licenses
    ]
    # Maven's model: "If multiple licenses are listed, it is assumed that the user can select any of them, not
    # that they must accept all." A pom without <licenses> inherits its parent's: nothing is stated here.
    return _found(f"{name}: licenses/license", licenses_combined(readings, "OR"))


# --- DESCRIPTION (R), META.json / META.yml (CPAN), *.cabal ----------------------------------------------------------

_DCF_FIELD = re.compile(r"^([A-Za-z][\w.@-]*):[ \t]*(.*(?:\n[ \t]+.*)*)", re.MULTILINE)


def _description(name: str, content: bytes) -> ManifestLicense | None:
    fields = {key.lower(): " ".join(value.split()) for key, value in _DCF_FIELD.findall(_text(content, lenient=True))}
    if "package" not in fields or not fields.get("license"):
        return None  # a DESCRIPTION that is not an R package's
    readings, pointers = [], []
    for alternative in fields["license"].split("|"):  # R: `|` separates licenses to choose from
        parts = [part.strip() for part in alternative.split("+") if part.strip()]
        files = [part[5:].strip() for part in parts if part.lower().startswith("file ")]
        terms = [part for part in parts if not part.lower().startswith("file ")]
        reading = ("", ())
        if terms:
            spdx_id = R_LICENSES.get(re.sub(r"\s+", "", terms[0].lower()))
            reading = (spdx_id, ()) if spdx_id else license_from_name(terms[0])
            readings.append(reading)
        if reading[0] not in R_TEMPLATES:  # other terms plus a file: the file's added terms decide too
            pointers += _pointers(files)
    return _found(f"{name}: License", licenses_combined(readings, "OR"), tuple(dict.fromkeys(pointers)))


def _cpan_readings(names: list[str]) -> list[Reading]:
    return [
        (CPAN_LICENSES[name.lower()], ()) if name.lower() in CPAN_LICENSES else license_from_name(name)
        for name in names
        if name.lower() != "unknown"  # CPAN's "unknown" is no statement at all
    ]


def _meta_json(name: str, content: bytes) -> ManifestLicense | None:
    license = _json(content).get("license")
    names = [license] if isinstance(license, str) else license if isinstance(license, list) else []
    # CPAN::Meta::Spec: "One or more licenses that apply to some or all of the files in the distribution": parts
    # under different licenses, so all of them apply (AND).
    return _found(
        f"{name}: license", licenses_combined(_cpan_readings([item for item in names if isinstance(item, str)]), "AND")
    )


_YAML_LICENSE = re.compile(r"^license:[ \t]*(.*)$((?:\n[ \t]*-[ \t]*.*)*)", re.MULTILINE)


def _meta_yml(name: str, content: bytes) -> ManifestLicense | None:
    # No YAML parser in the standard library: META.yml's `license` is a scalar or a flat list, both one-line items.
    found = _YAML_LICENSE.search(_text(content, lenient=True))
    if found is None:
        return None
    items = [found.group(1)] if found.group(1).strip() else re.findall(r"-[ \t]*(.*)", found.group(2))
    names = [item.strip().strip("'\"") for item in items if item.strip()]
    return _found(f"{name}: license", licenses_combined(_cpan_readings(names), "AND"))


_CABAL_FIELD = re.compile(r"^(license|license-files?):[ \t]*(.*(?:\n[ \t]+[^\n:]*$)*)", re.MULTILINE | re.IGNORECASE)


def _cabal(name: str, content: bytes) -> ManifestLicense | None:
    fields = {key.lower(): value.strip() for key, value in _CABAL_FIELD.findall(_text(content, lenient=True))}
    pointers = _pointers(
        re.split(r"[,\s]+", " ".join(fields.get(key, "") for key in ("license-file", "license-files")))
    )
    license = fields.get("license", "")
    reading = ("", ())
    # OtherLicense: the terms are in the license file.
    if license and license.lower() not in ("otherlicense", "unspecified"):
        spdx_id = CABAL_LICENSES.get(license.lower())
        reading = (spdx_id, ()) if spdx_id else license_from_name(license)
    return _found(f"{name}: {'license' if reading[0] else 'license-file'}", reading, pointers)


_READERS = {
    "cargo.toml": _cargo,
    "package.json": _package_json,
    "bower.json": _package_json,
    "composer.json": _package_json,
    "deno.json": _package_json,
    "vcpkg.json": _package_json,
    "elm.json": _package_json,
    "pyproject.toml": _pyproject,
    "setup.cfg": _setup_cfg,
    "pom.xml": _pom,
    "description": _description,
    "meta.json": _meta_json,
    "meta.yml": _meta_yml,
}
_SUFFIX_READERS = {".gemspec": _gemspec, ".nuspec": _nuspec, ".csproj": _csproj, ".cabal": _cabal}


def _reader(path: str):
    name = basename(path).lower()
    if name in _READERS:
        return _READERS[name]
    return next((reader for suffix, reader in _SUFFIX_READERS.items() if name.endswith(suffix)), None)


def is_manifest(path: str) -> bool:
    """True for the manifests this module reads a license from (by file name alone)."""
    return _reader(path) is not None


def manifest_license(path: str, content: bytes) -> ManifestLicense | None:
    """The license a manifest declares; None when it states none or is not a manifest read here."""
    reader = _reader(path)
    if reader is None:
        return None
    name = basename(path)
    try:
        return reader(name, content)
    except _Unreadable as failure:
        return ManifestLicense("", name, error=str(failure))
