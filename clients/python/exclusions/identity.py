"""Repository identity: one canonical name for every spelling of a repository.

Opt-out requests, inventories, scans and pipeline queries name repositories in whatever
form their author had at hand: an https URL, an scp-style remote, The Stack's
`repo_name`, a link to a file on GitHub. An exclusion only works if every spelling of a
repository reduces to the same string, so this module is the only place that parses them.
"""

import ipaddress
import re
from dataclasses import dataclass
from typing import NamedTuple, NoReturn

MAX_INPUT_LENGTH = 1000
MAX_SEGMENT_LENGTH = 255
_MESSAGE_INPUT_LENGTH = 80

_GIT_SCHEMES = {"https", "http", "ssh", "git", "git+ssh", "ssh+git", "git+https", "file"}
_SSH_SCHEMES = {"ssh", "git+ssh", "ssh+git"}
_WEB_DEFAULT_PORTS = {"https": 443, "http": 80}
# No nested groups here: whatever follows owner/name is a page inside the repository.
_TWO_LEVEL_HOSTS = {"github.com", "bitbucket.org", "codeberg.org", "gitea.com", "git.sr.ht"}
# These forges redirect any casing of a path to the one repository; sourcehut does not.
_CASE_INSENSITIVE_HOSTS = _TWO_LEVEL_HOSTS - {"git.sr.ht"} | {"gitlab.com"}
_WELL_KNOWN_HOSTS = _CASE_INSENSITIVE_HOSTS | _TWO_LEVEL_HOSTS
_HOST_ALIASES = {"raw.githubusercontent.com": "github.com"}
# Public forges whose URLs name repositories by their path: a list of web links (an opt-out export) names a
# repository only on one of these, or in a git remote spelling (ssh://, git@host:, …/name.git).
FORGE_HOSTS = frozenset(_WELL_KNOWN_HOSTS)
# First path segments github.com keeps for its own pages; no owner can be named so.
_GITHUB_PAGES = {
    *("orgs", "organizations", "users", "settings", "topics", "search", "features"),
    *("marketplace", "explore", "sponsors", "login", "about", "pricing", "collections"),
    *("trending", "notifications", "new", "apps"),
}
# `owner/name` that names no GitHub repository whatever its name: a GitHub page, or a local host.
GITHUB_NOT_OWNERS = frozenset(_GITHUB_PAGES | {"localhost"})

_URL_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# "mailto:", "javascript:"; without a dot, so that "github.com:owner/name" stays scp.
_BARE_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+-]*):")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACE_RE = re.compile(r"\s")
_QUERY_RE = re.compile(r"[?#]")
_SEGMENT_RE = re.compile(r"[A-Za-z0-9._~-]+")
_GITHUB_SEGMENT_RE = re.compile(r"[A-Za-z0-9._-]+")
_HOST_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME_RE = re.compile(rf"(?:{_HOST_LABEL}\.)+{_HOST_LABEL}")
_PORT_RE = re.compile(r"[0-9]{1,5}")
_USERINFO_RE = re.compile(r"((?:[A-Za-z][A-Za-z0-9+.-]*://)?)([^/?#]*)@")
# Userinfo anywhere in a text: after "scheme://" (up to the host's "@"), or heading a word (scp's "user:pw@host").
_URL_USERINFO_RE = re.compile(r"(://)([^/?#]*)@")
_WORD_USERINFO_RE = re.compile(r"(^|\s)([^\s/?#]*)@")

# The spellings a batch mostly holds: `github.com/owner/name`, The Stack's `owner/name`, the https URL. One
# match reads them (10,000 names: ~20 ms instead of ~170 ms); any other spelling, and every refusal, goes
# through the full parser. The owner has no dot, so that "host.tld/name" still reaches the host rules.
_GITHUB_PLAIN_RE = re.compile(r"(?:(?:https://)?github\.com/)?([A-Za-z0-9_-]{1,255})/([A-Za-z0-9._-]{1,255})")

# How the canonical name of every repository on this disk starts (and of no other).
LOCAL_CANONICAL_PREFIX = "file:///"

_EXAMPLE = "such as https://github.com/owner/name"
_GIT_URL_FORMS = "https://, ssh:// or git@host:owner/name"


class RepositoryParseError(ValueError):
    """Text that names no repository (or namespace); the message says what to paste."""

    code = "not_a_repository"


@dataclass(frozen=True, slots=True)
class RepositoryRef:
    """One repository, whichever spelling it was parsed from."""

    host: str  # lower-case, without port or "www."; "file" for a local repository
    path: str  # "owner/name", "group/sub/project"; local: absolute path without "/"
    clone_url: str  # what git fetches: the spelling's own scheme and port on a self-hosted host
    # A self-hosted web server on another port than its scheme's (https://h:8443/…) is another server: its
    # port is part of the identity ("h:8443/a/b"). Forges ignore ports; ssh:// and git:// ports only reach
    # the same repositories another way, so they stay in the clone URL only.
    port: str = ""

    @property
    def canonical(self) -> str:
        if self.host == "file":
            return f"{LOCAL_CANONICAL_PREFIX}{self.path}"
        return f"{self.authority}/{self.path}"

    @property
    def namespace(self) -> str:
        owner = self.path.rpartition("/")[0]
        return f"file:///{owner}" if self.host == "file" else f"{self.authority}/{owner}"

    @property
    def authority(self) -> str:
        """The host as the canonical name starts: `host`, or `host:port` for a server on its own port."""
        return f"{self.host}:{self.port}" if self.port else self.host

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]


class _Location(NamedTuple):
    scheme: str  # lower-case as typed; "" for scp-style and bare host/path
    host: str  # checked and lower-case; "file" for local paths
    port: str
    segments: list[str]
    user: str = ""  # an ssh:// URL's user name (git@), kept for its clone URL

    @property
    def identity_port(self) -> str:
        """The port that makes another server of the same host: a web port other than the scheme's default."""
        if not self.port or self.host in _WELL_KNOWN_HOSTS or self.host == "file":
            return ""
        scheme = self.scheme.removeprefix("git+") or "https"  # a bare host:port/path is read over https
        if scheme not in _WEB_DEFAULT_PORTS or int(self.port) == _WEB_DEFAULT_PORTS[scheme]:
            return ""
        return str(int(self.port))


def parse_repository(text: str) -> RepositoryRef:
    """Parse any spelling of a repository into its one identity."""
    plain = _github_plain(text)
    if plain is None:
        return _repository_parsed(text)
    path = "/".join(plain)
    return RepositoryRef(host="github.com", path=path, clone_url=f"https://github.com/{path}.git")


def canonical_and_namespace(text: object) -> tuple[str, str]:
    """(canonical name, namespace) of any spelling: what a batch lookup needs, without building a RepositoryRef."""
    plain = _github_plain(text)
    if plain is None:
        ref = _repository_parsed(text)
        return ref.canonical, ref.namespace
    namespace = "github.com/" + plain[0]
    return f"{namespace}/{plain[1]}", namespace


def without_credentials(text: str) -> str:
    """`text` with every userinfo part (`user:secret@`) removed, to show back what someone typed.

    Only git's own ssh user `git@` stays: it is the spelling forges print (`git@github.com:owner/name.git`).
    """

    def dropped(match: re.Match) -> str:
        return match.group(0) if match.group(2) == "git" else match.group(1)

    return _WORD_USERINFO_RE.sub(dropped, _URL_USERINFO_RE.sub(dropped, text))


def namespace_chain(namespace: str) -> list[str]:
    """`gitlab.com/a/b` → [`gitlab.com/a/b`, `gitlab.com/a`]: a namespace exclusion covers its subgroups."""
    if namespace.count("/") == 1:
        return [namespace]
    host, _, path = namespace.partition("/")
    parts = path.split("/") if path else []
    return [f"{host}/{'/'.join(parts[:end])}" for end in range(len(parts), 0, -1)]


def _github_plain(text: object) -> tuple[str, str] | None:
    """(owner, name), lower-cased, of the common GitHub spellings; None for what the full parser must decide."""
    plain = _GITHUB_PLAIN_RE.fullmatch(text) if isinstance(text, str) else None
    if plain is None:
        return None
    owner, name = plain.groups()
    owner = owner.lower()
    if owner in GITHUB_NOT_OWNERS or name in (".", "..") or _ends_in_git(name):
        return None
    return owner, name.lower()


def _repository_parsed(text: object) -> RepositoryRef:
    text = _checked_text(text)
    location = _locate(text)
    host, segments = location.host, location.segments
    if host == "file":
        if not segments:
            _refuse(text, "names no repository: use file:///absolute/path/to/repository")
        for segment in segments:
            _check_segment(text, host, segment)
        path = "/".join(segments)
        return RepositoryRef(host=host, path=path, clone_url=f"file:///{path}")
    if host in _TWO_LEVEL_HOSTS:
        _check_owner(text, host, segments)
        segments = segments[:2]
    else:
        segments = _project_segments(segments)
    if not segments:
        _refuse(text, "names a host, not a repository: add /owner/name")
    if len(segments) == 1:
        _refuse(text, "names an owner, not a repository: add the repository name, or opt out the whole namespace")
    name = segments[-1]
    # Repeated, so that a canonical never ends in ".git" and parses back to itself.
    while _ends_in_git(name):
        name = name[:-4]
    if name in ("", ".", ".."):
        _refuse(text, "has no repository name after its owner: add the name")
    segments = [*segments[:-1], name]
    for segment in segments:
        _check_segment(text, host, segment)
    path = "/".join(segments)
    if host in _CASE_INSENSITIVE_HOSTS:
        path = path.lower()
    return RepositoryRef(host=host, path=path, clone_url=_clone_url(location, path), port=location.identity_port)


def _ends_in_git(name: str) -> bool:
    return name[-4:].lower() == ".git"


def canonical_repo(text: str) -> str:
    """The canonical name (`github.com/psf/requests`) of any spelling of a repository."""
    return parse_repository(text).canonical


def parse_namespace(text: str) -> str:
    """Parse an owner or group (`psf`, `https://github.com/psf/`) into its namespace."""
    text = _checked_text(text)
    location = _locate(text)
    host, segments = location.host, location.segments
    if host in _TWO_LEVEL_HOSTS:
        # GitHub itself links to an organisation as github.com/orgs/psf/repositories.
        if host == "github.com" and segments[0:1] in (["orgs"], ["users"]):
            segments = segments[1:2] or segments
        _check_owner(text, host, segments)
        if len(segments) > 1:
            owner = f"{host}/{segments[0]}"
            _refuse(text, f"names a repository, not an owner: paste just {owner}")
    elif host != "file":
        segments = _project_segments(segments)
    if not segments:
        _refuse(text, "names a host, not an owner: add the owner, as in github.com/owner")
    for segment in segments:
        _check_segment(text, host, segment)
    path = "/".join(segments)
    if host == "file":
        return f"file:///{path}"
    if host in _CASE_INSENSITIVE_HOSTS:
        path = path.lower()
    port = location.identity_port
    return f"{host}:{port}/{path}" if port else f"{host}/{path}"


def _checked_text(text: object) -> str:
    if not isinstance(text, str):
        raise RepositoryParseError(f"{_quote(repr(text))} is not text: paste a URL")
    text = text.strip()
    if not text:
        _refuse(text, f"is empty: paste a repository URL {_EXAMPLE}")
    if len(text) > MAX_INPUT_LENGTH:
        _refuse(text, f"is longer than {MAX_INPUT_LENGTH} characters: paste just the URL")
    if _CONTROL_RE.search(text):
        _refuse(text, "contains a control character such as a line break: paste one line")
    if _SPACE_RE.search(text):
        _refuse(text, "contains a space: paste the URL without spaces")
    return text


def _locate(text: str) -> _Location:
    match = _URL_SCHEME_RE.match(text)
    if match:
        scheme = match.group(1).lower()
        if scheme not in _GIT_SCHEMES:
            _refuse_scheme(text, scheme)
        rest = text[match.end() :]
    elif text.startswith("//"):
        scheme, rest = "https", text[2:]
    elif text.startswith("/"):
        _refuse(text, f"is a local path, not a URL: use file://{_without_query(text)}")
    else:
        return _locate_schemeless(text)
    authority, _, path = _without_query(rest).partition("/")
    if scheme == "file":
        if authority.lower() not in ("", "localhost"):
            hint = f"file:///{authority}/{path}"
            _refuse(text, f"names another machine or a relative path: use {hint}")
        return _Location(scheme, "file", "", _segments(text, path))
    if scheme.startswith("git+"):
        path = path.partition("@")[0]  # pip's git+https://host/owner/name.git@tag
    userinfo, at, hostport = authority.rpartition("@")
    if at and (scheme not in _SSH_SCHEMES or ":" in userinfo):
        _refuse_credentials(text)
    host, port = _split_port(text, hostport)
    user = userinfo if at and scheme in _SSH_SCHEMES else ""
    return _Location(scheme, _checked_host(text, host), port, _segments(text, path), user)


def _locate_schemeless(text: str) -> _Location:
    rest = _without_query(text)
    head, slash, tail = rest.partition("/")
    userinfo, at, hostpart = head.rpartition("@")
    if at and ":" in userinfo and slash:
        _refuse_credentials(text)
    match = _BARE_SCHEME_RE.match(head)
    if match and match.group(1).lower() != "localhost":
        _refuse_scheme(text, match.group(1).lower())
    start = hostpart.find("]") + 1 if hostpart.startswith("[") else 0
    colon = hostpart.find(":", start)
    if colon >= 0:
        host, path, port = hostpart[:colon], hostpart[colon + 1 :], ""
        # git reads "localhost:8080/o/r" as scp-style; people who type it mean a port.
        if not at and slash and _PORT_RE.fullmatch(path):
            port, path = path, tail
        else:
            path = f"{path}/{tail}"
        return _Location("", _checked_host(text, host), port, _segments(text, path))
    if at:
        _refuse_credentials(text)
    segments = _segments(text, rest)
    if not segments:
        _refuse(text, f"names no repository: paste a URL {_EXAMPLE}")
    first = segments[0]
    if "." in first or first.lower() == "localhost" or first.startswith("["):
        return _Location("", _checked_host(text, first), "", segments[1:])
    if len(segments) > 2:
        _refuse(text, "has no host: paste the full URL, as in https://gitlab.com/a/b/c")
    # The Stack's repo_name: owner/name on github.com.
    return _Location("", "github.com", "", segments)


def _without_query(text: str) -> str:
    match = _QUERY_RE.search(text)
    return text[: match.start()] if match else text


def _split_port(text: str, hostport: str) -> tuple[str, str]:
    if hostport.startswith("["):
        end = hostport.find("]") + 1
        host, port = hostport[:end], hostport[end:]
        if not end or port[:1] not in ("", ":"):
            _refuse_host(text, hostport)
        port = port[1:]
    else:
        host, _, port = hostport.partition(":")
    if port and not (_PORT_RE.fullmatch(port) and int(port) <= 65535):
        _refuse(text, f"has an invalid port {port!r}: paste a URL {_EXAMPLE}")
    return host, port


def _checked_host(text: str, host: str) -> str:
    host = host.lower().removesuffix(".")
    if host in _WELL_KNOWN_HOSTS:
        return host
    if host.startswith("[") and host.endswith("]") and "%" not in host:
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            pass
    elif host.replace(".", "").isdigit():
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            pass
    elif len(host) <= 253 and (_HOSTNAME_RE.fullmatch(host) or host == "localhost"):
        # Repeated, so that a canonical host parses back to itself.
        while host.startswith("www.") and host.count(".") > 1:
            host = host[4:]
        return _HOST_ALIASES.get(host, host)
    _refuse_host(text, host)


def _segments(text: str, path: str) -> list[str]:
    segments = [segment for segment in path.split("/") if segment]
    if "." in segments or ".." in segments:
        _refuse(text, "contains a '.' or '..' segment: paste the repository's own URL")
    return segments


def _project_segments(segments: list[str]) -> list[str]:
    # GitLab starts every page inside a project with "/-/": groups nest to any depth.
    return segments[: segments.index("-")] if "-" in segments else segments


def _check_owner(text: str, host: str, segments: list[str]) -> None:
    owner = segments[0] if segments else ""
    if host == "github.com" and owner.lower() in _GITHUB_PAGES:
        _refuse(text, f"is a GitHub page, not a repository: paste a URL {_EXAMPLE}")
    if host == "git.sr.ht" and owner and (len(owner) < 2 or owner[0] != "~"):
        _refuse(text, "has a sourcehut owner without '~': paste git.sr.ht/~owner/name")


def _check_segment(text: str, host: str, segment: str) -> None:
    if len(segment) > MAX_SEGMENT_LENGTH:
        _refuse(text, f"has a path segment over {MAX_SEGMENT_LENGTH} characters: paste the repository's own URL")
    if host == "github.com":
        pattern, allowed = _GITHUB_SEGMENT_RE, "letters, digits, '.', '_' and '-'"
    else:
        pattern, allowed = _SEGMENT_RE, "letters, digits, '.', '_', '-' and '~'"
    if not pattern.fullmatch(segment):
        _refuse(text, f"has the name {_quote(segment)}: use only {allowed} in names")


def _clone_url(location: _Location, path: str) -> str:
    scheme = location.scheme.removeprefix("git+")
    # sourcehut answers 404 to clone URLs ending in ".git"; other forges accept them.
    suffix = "" if location.host == "git.sr.ht" else ".git"
    # Forges serve https on the default port; a self-hosted server is reached as typed, port included.
    if location.host in _WELL_KNOWN_HOSTS:
        return f"https://{location.host}/{path}{suffix}"
    port = f":{location.port}" if location.port else ""
    if scheme in ("http", "https", "git"):
        return f"{scheme}://{location.host}{port}/{path}{suffix}"
    if scheme in _SSH_SCHEMES:
        user = f"{location.user}@" if location.user else ""
        return f"ssh://{user}{location.host}{port}/{path}{suffix}"
    # scp-style (git@host:owner/name) and a bare host[:port]/path: https, which needs no key.
    return f"https://{location.host}{port}/{path}{suffix}"


def _quote(text: str) -> str:
    if len(text) > _MESSAGE_INPUT_LENGTH:
        text = text[: _MESSAGE_INPUT_LENGTH - 1] + "…"
    return repr(text)


def _refuse(text: str, problem: str) -> NoReturn:
    # Messages end up in logs and API answers: never repeat a password or token.
    match = _USERINFO_RE.match(text)
    if match and match.group(2) != "git":
        text = f"{match.group(1)}***{text[match.end() - 1 :]}"
    raise RepositoryParseError(f"{_quote(text)} {problem}")


def _refuse_scheme(text: str, scheme: str) -> NoReturn:
    if scheme == "file":
        _refuse(text, "is not a complete file URL: use file:///absolute/path")
    if scheme in _GIT_SCHEMES:
        _refuse(text, f"is not a complete URL: write {scheme}://host/owner/name")
    _refuse(text, f"is not a git URL ({scheme}:): use {_GIT_URL_FORMS}")


def _refuse_credentials(text: str) -> NoReturn:
    _refuse(text, "contains credentials: paste the URL without them")


def _refuse_host(text: str, host: str) -> NoReturn:
    _refuse(text, f"does not name a host ({_quote(host)}): paste a URL {_EXAMPLE}")
