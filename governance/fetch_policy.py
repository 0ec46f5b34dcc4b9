"""Which repository URLs git may fetch, and how a fetch is pinned to the address that was checked.

Visitors name the repositories the workers read (opt-out proofs, inventories, scans), so without a policy
anyone could make a worker connect to the portal's own network: loopback services, private hosts, cloud
metadata endpoints. By default only `https`, `ssh` and `git` URLs are read, and only from host names whose
every address is public. The operator widens that with two settings:

- REPOSITORY_FETCH_ALLOW: `local` (file:// repositories), `private` (loopback and private addresses, IP
  literals), `http` (plain http, which nothing protects from being altered on the way).
- REPOSITORY_FETCH_HOSTS: host names that may resolve to private addresses (a self-hosted forge inside).

REPOSITORY_FETCH_OFFLINE narrows it to the repositories on this disk: every other URL is refused before any
lookup, and the periodic sweeps leave such repositories out (`offline_readable`), so a portal without network
(the demo under `make run`) records no failure for them.

A name is resolved once, here, and git is then made to connect to exactly the addresses that were checked
(`http.curloptResolve` for http(s), the address itself for git:// and ssh://), so a DNS answer that changes
between the check and the connection cannot send the fetch elsewhere. Redirects are not followed: curl would
resolve the new host itself, and git has no setting that keeps redirects on one host.
"""

import concurrent.futures
import contextvars
import ipaddress
import shlex
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from urllib.parse import SplitResult, urlsplit

from governance.git_errors import FetchRefused, GitUnreachable
from governance.identity import LOCAL_CANONICAL_PREFIX

ALLOW_LOCAL = "local"
ALLOW_PRIVATE = "private"
ALLOW_HTTP = "http"
ALLOW_CHOICES = (ALLOW_LOCAL, ALLOW_PRIVATE, ALLOW_HTTP)

DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22, "git": 9418}
# The big forges are public by construction: a submission naming them needs no lookup (a fetch still does one).
PUBLIC_FORGES = frozenset({"github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "gitea.com", "git.sr.ht"})
_FORGE_PREFIXES = tuple(f"https://{host}/" for host in PUBLIC_FORGES)
# How long a submission may spend looking names up in all; names not answered by then are accepted and
# checked at fetch time, so a slow resolver cannot hold a web request.
SUBMISSION_LOOKUP_SECONDS = 5.0
# The longest a fetch waits for its one lookup (getaddrinfo has no time limit of its own).
FETCH_LOOKUP_SECONDS = 10.0
_lookups = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch-policy-lookup")

Address = IPv4Address | IPv6Address

# Cloud metadata and platform endpoints: never a git server, whatever the operator allows. The ones in
# 169.254.0.0/16 and fe80::/10 are refused with all link-local addresses.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean instance metadata
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.170.23",  # AWS EKS pod identity
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
        "100.100.100.200",  # Alibaba Cloud metadata
        "168.63.129.16",  # Azure platform endpoint (a public-looking address)
    )
)
_CGNAT = IPv4Network("100.64.0.0/10")
_UNIQUE_LOCAL = IPv6Network("fc00::/7")
_SITE_LOCAL = IPv6Network("fec0::/10")
_NAT64 = IPv6Network("64:ff9b::/96")
_LOCAL_NAT64 = IPv6Network("64:ff9b:1::/48")  # RFC 8215: a network's own translator, whatever it embeds
_IPV4_COMPATIBLE = IPv6Network("::/96")
_IPV4_TRANSLATED = IPv6Network("::ffff:0:0:0/96")
_BROADCAST = IPv4Address("255.255.255.255")


def address_problem(address: Address) -> tuple[str, bool] | None:
    """Why `address` may not be fetched from, and whether `private` (or a listed host) lifts that; None if public."""
    if address.version == 6:
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            # ::ffff:127.0.0.1, 64:ff9b::a00:1, 2002:c0a8:101::: the IPv4 address inside is where it goes.
            return address_problem(embedded)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address", False
    if address.is_unspecified:
        return "an unspecified address", False
    if address.is_multicast:
        return "a multicast address", False
    if address.is_link_local:
        return "a link-local address", False
    if address == _BROADCAST or address.version == 4 and address.is_reserved:
        return "a reserved address", False
    if address.is_loopback:
        return "a loopback address", True
    if address in _CGNAT:
        return "a shared (CGNAT) address", True
    if address in _UNIQUE_LOCAL:
        return "a unique-local address", True
    if address.version == 6 and address in _SITE_LOCAL:
        return "a site-local address", True
    if address.version == 6 and address in _LOCAL_NAT64:
        return "a local NAT64 address", True
    if address.is_private or not address.is_global:
        return "a private or special-purpose address", True
    return None


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _IPV4_TRANSLATED:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # ::a.b.c.d, but not :: or ::1
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def addresses_resolved(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to: the one place a host name is looked up (socket.gaierror when none)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[Address] = []
    for _family, _type, _protocol, _name, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


@dataclass(frozen=True)
class FetchPlan:
    """How git fetches one checked URL."""

    url: str  # what git is given: the URL itself, or (git://, ssh://) the URL with the checked address as host
    options: tuple[str, ...]  # `-c` settings: the one protocol allowed, the pinned addresses, no redirects
    scheme: str


def fetch_plan(url: str) -> FetchPlan:
    """Check `url` against the policy, resolve its host once and pin git to what was checked; FetchRefused if not."""
    remote = _split(url)
    target = _Target.of(remote)
    if target.offline_refused and offline():
        raise FetchRefused(offline_refusal(target.shown))
    refusal = target.static_refusal()
    if refusal:
        raise FetchRefused(refusal)
    if target.scheme == "file":
        return FetchPlan(url=url, options=_protocol_options("file"), scheme="file")
    addresses = _target_addresses(target, seconds=FETCH_LOOKUP_SECONDS)
    if addresses is None:
        # The same words as git's own failure: an unreachable host, retried later.
        raise GitUnreachable(
            f"the host of {target.shown} could not be reached (its name could not be resolved); "
            "it will be retried later"
        )
    refusal = target.address_refusal(addresses)
    if refusal:
        raise FetchRefused(refusal)
    return target.plan(url, remote, addresses)


class FetchScreen:
    """The policy at submission time, for a form, an API call or an import: each host is looked up once,
    within one time budget; a host whose lookup fails or runs out of time is accepted here and decided by
    the fetch itself."""

    def __init__(self, *, budget_seconds: float = SUBMISSION_LOOKUP_SECONDS):
        self._deadline = time.monotonic() + budget_seconds
        self._verdicts: dict[tuple, str | None] = {}
        self._offline = offline() and not _offline_screening_lifted.get()

    def refusal(self, url: str) -> str | None:
        """Why `url` will not be fetched (a message for the person who submitted it), or None."""
        if self._offline:
            try:
                target = _Target.of(_split(url))
            except FetchRefused as refused:
                return str(refused)
            if target.offline_refused:
                return offline_refusal(target.shown)
        if url.startswith(_FORGE_PREFIXES):  # nearly every row of an inventory: no parsing
            return None
        try:
            remote = _split(url)
        except FetchRefused as refused:
            return str(refused)
        target = _Target.of(remote)
        key = (target.scheme, target.host, target.port)
        if key not in self._verdicts:
            self._verdicts[key] = self._judged(target)
        verdict = self._verdicts[key]
        return verdict.replace(target.shown_placeholder, target.shown) if verdict else None

    def refusals(self, urls: Iterable[str]) -> dict[str, str]:
        return {url: refusal for url in urls if (refusal := self.refusal(url))}

    def _judged(self, target: "_Target") -> str | None:
        refusal = target.static_refusal(placeholder=True)
        if refusal or target.scheme == "file" or target.host in PUBLIC_FORGES:
            return refusal
        remaining = self._deadline - time.monotonic()
        if target.literal is None and remaining <= 0:
            return None
        addresses = _target_addresses(target, seconds=remaining)
        return None if addresses is None else target.address_refusal(addresses, placeholder=True)


def _target_addresses(target: "_Target", *, seconds: float) -> list[Address] | None:
    """The addresses a target names: its IP literal, or its name looked up within `seconds`; None if that failed."""
    if target.literal is not None:
        return [target.literal]
    try:
        return _lookups.submit(addresses_resolved, target.host, target.port).result(seconds)
    except (OSError, UnicodeError):  # TimeoutError included
        return None


def fetch_refusal(url: str) -> str | None:
    """Why `url` will not be fetched, for one submitted URL (see FetchScreen), or None."""
    return FetchScreen().refusal(url)


def offline() -> bool:
    """Whether only repositories on this disk may be read (REPOSITORY_FETCH_OFFLINE)."""
    from django.conf import settings

    return bool(getattr(settings, "REPOSITORY_FETCH_OFFLINE", False))


def offline_refusal(shown: str) -> str:
    return (
        f"{shown} is not on this server's disk, and the portal is in offline mode (REPOSITORY_FETCH_OFFLINE): "
        "it reads only local (file://) repositories. Set REPOSITORY_FETCH_OFFLINE=0 to read others "
        "(make run REPOSITORY_FETCH_OFFLINE=0)"
    )


def offline_readable(queryset, *, canonical: str = "canonical"):
    """`queryset` narrowed, in offline mode, to rows whose repository is on this disk (`canonical` is the lookup
    path of its canonical name): a sweep then never picks what it may not fetch, and records no failure for it."""
    if not offline():
        return queryset
    return queryset.filter(**{f"{canonical}__startswith": LOCAL_CANONICAL_PREFIX})


def offline_unreadable(queryset, *, canonical: str = "canonical"):
    """The rows of `queryset` whose repository is not on this disk, in offline mode; none otherwise."""
    if not offline():
        return queryset.none()
    return queryset.exclude(**{f"{canonical}__startswith": LOCAL_CANONICAL_PREFIX})


_offline_screening_lifted = contextvars.ContextVar("offline_screening_lifted", default=False)


@contextmanager
def offline_screening_lifted() -> Iterator[None]:
    """Submissions naming remote repositories are accepted (fetches stay refused): for the demo, which records
    requests and inventories from a past in which the portal was online."""
    token = _offline_screening_lifted.set(True)
    try:
        yield
    finally:
        _offline_screening_lifted.reset(token)


def local_allowed() -> bool:
    return ALLOW_LOCAL in allowed_words()


def allowed_words() -> frozenset[str]:
    from django.conf import settings

    return frozenset(getattr(settings, "REPOSITORY_FETCH_ALLOW", ()))


def listed_hosts() -> frozenset[str]:
    from django.conf import settings

    return frozenset(host.lower().strip("[]").rstrip(".") for host in getattr(settings, "REPOSITORY_FETCH_HOSTS", ()))


def _split(url: str) -> SplitResult:
    if not isinstance(url, str) or any(character < " " or character == "\x7f" for character in url):
        raise FetchRefused("the repository URL contains control characters")
    try:
        remote = urlsplit(url)
        remote.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise FetchRefused("the repository URL is not a valid URL") from None
    return remote


_PLACEHOLDER = "\x00url\x00"


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # lower-case, without brackets
    port: int
    literal: Address | None  # the host, when it is an IP address
    shown: str  # the URL as messages name it: no credentials, query or fragment
    user: str

    shown_placeholder = _PLACEHOLDER

    @classmethod
    def of(cls, remote: SplitResult) -> "_Target":
        scheme = remote.scheme.lower()
        host = (remote.hostname or "").rstrip(".")
        try:
            literal = ipaddress.ip_address(host.partition("%")[0])
        except ValueError:
            literal = None
        return cls(
            scheme=scheme,
            host=host,
            port=remote.port or DEFAULT_PORTS.get(scheme, 0),
            literal=literal,
            shown=f"{scheme}://{remote.netloc.rpartition('@')[2]}{remote.path}",
            user=remote.username or "",
        )

    @property
    def offline_refused(self) -> bool:
        # A URL without a scheme is refused anyway, with the static refusal's own reason.
        return self.scheme not in ("file", "")

    def static_refusal(self, *, placeholder: bool = False) -> str | None:
        """What the URL alone says: its scheme, and a host that names this machine or an IP address."""
        shown = _PLACEHOLDER if placeholder else self.shown
        allowed = allowed_words()
        if self.scheme == "file":
            if ALLOW_LOCAL not in allowed:
                return f"{shown} is a repository on this server's disk: only repositories on public hosts can be read"
            return None
        if self.scheme not in DEFAULT_PORTS:
            return f"{shown} cannot be read: only https://, ssh:// and git:// repository URLs can"
        if self.scheme == "http" and ALLOW_HTTP not in allowed:
            return f"{shown} uses plain http, which this portal does not read: use the repository's https:// URL"
        if not self.host:
            return f"{shown} names no host"
        if self.host in listed_hosts() or ALLOW_PRIVATE in allowed:
            return None
        if self.literal is not None:
            return f"{shown} names an IP address: use the host's name (only public host names can be read)"
        if self.host == "localhost" or self.host.endswith(".localhost"):
            return f"{shown} names this server: only repositories on public hosts can be read"
        return None

    def address_refusal(self, addresses: list[Address], *, placeholder: bool = False) -> str | None:
        """Every address must be public, or (allowed by the operator) private; the others are never fetched."""
        shown = _PLACEHOLDER if placeholder else self.shown
        liftable = ALLOW_PRIVATE in allowed_words() or self.host in listed_hosts()
        for address in addresses:
            problem = address_problem(address)
            if problem is None or problem[1] and liftable:
                continue
            # The kind of address is not named for a host name: that would describe the portal's own network.
            if self.literal is not None:
                return f"{shown} names {problem[0]}: only repositories on public hosts can be read"
            return f"{shown} is not on a public address: only repositories on public hosts can be read"
        if not addresses:
            return f"{shown} has no address"
        return None

    def plan(self, url: str, remote: SplitResult, addresses: list[Address]) -> FetchPlan:
        options = list(_protocol_options(self.scheme))
        if self.scheme in ("http", "https"):
            # The name stays in the URL (TLS checks the certificate against it); curl just skips its own lookup.
            if self.literal is None:
                pinned = ",".join(f"[{address}]" if address.version == 6 else str(address) for address in addresses)
                options += ["-c", f"http.curloptResolve={self.host}:{self.port}:{pinned}"]
            options += ["-c", "http.followRedirects=false"]
            return FetchPlan(url=url, options=tuple(options), scheme=self.scheme)
        address = addresses[0]
        netloc = f"[{address}]" if address.version == 6 else str(address)
        if remote.port:
            netloc += f":{remote.port}"
        if self.scheme == "ssh":
            if self.user:
                netloc = f"{self.user}@{netloc}"
            # The host key is still looked up and recorded under the host's name, not under the address.
            alias = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
            command = "ssh -oBatchMode=yes -oStrictHostKeyChecking=accept-new -oCheckHostIP=no"
            options += ["-c", f"core.sshCommand={command} -oHostKeyAlias={shlex.quote(alias)}"]
        return FetchPlan(url=remote._replace(netloc=netloc).geturl(), options=tuple(options), scheme=self.scheme)


def _protocol_options(scheme: str) -> tuple[str, ...]:
    # Only the protocol of this URL: a repository cannot move the fetch onto another one (file://, ext::).
    return ("-c", "protocol.allow=never", "-c", f"protocol.{scheme}.allow=always")


@dataclass(frozen=True)
class HttpTarget:
    """An outbound http(s) URL that passed the policy, with the addresses it may be connected to."""

    scheme: str
    host: str
    port: int
    target: str  # the request target: path and query
    addresses: tuple[Address, ...]  # empty when the name was not looked up (or not answered) at submission


def http_target_check(url: str, *, resolve: bool = True, lookup_seconds: float = FETCH_LOOKUP_SECONDS) -> HttpTarget:
    """Check an outbound http(s) URL a caller chose (a webhook) against the policy; FetchRefused with why if not.

    Only https (plain http with `http`), no credentials in the URL, every address public (or `private` / a listed
    host). With `resolve` a name that cannot be looked up is refused (GitUnreachable); without, a lookup that fails
    is left for the call itself to decide, as a submission is.
    """
    remote = _split(url)
    target = _Target.of(remote)
    allowed = allowed_words()
    if target.scheme not in ("https", "http"):
        raise FetchRefused(f"{target.shown} cannot be called: only https:// URLs can")
    if target.scheme == "http" and ALLOW_HTTP not in allowed:
        raise FetchRefused(f"{target.shown} uses plain http, which this portal does not call: use an https:// URL")
    if remote.username or remote.password:
        raise FetchRefused(f"{target.shown} holds credentials: leave them out of the URL")
    if not target.host:
        raise FetchRefused(f"{target.shown} names no host")
    liftable = ALLOW_PRIVATE in allowed or target.host in listed_hosts()
    if not liftable and (target.host == "localhost" or target.host.endswith(".localhost")):
        raise FetchRefused(f"{target.shown} names this server: only public hosts can be called")
    addresses = _target_addresses(target, seconds=lookup_seconds)
    if addresses is None:
        if resolve:
            raise GitUnreachable(f"the host of {target.shown} could not be resolved")
        addresses = []
    for address in addresses:
        problem = address_problem(address)
        if problem is not None and not (problem[1] and liftable):
            # As for fetches, the kind of address is named only for an IP literal, not for a host name.
            if target.literal is not None:
                raise FetchRefused(f"{target.shown} names {problem[0]}: only public hosts can be called")
            raise FetchRefused(f"{target.shown} is not on a public address: only public hosts can be called")
    request_target = (remote.path or "/") + (f"?{remote.query}" if remote.query else "")
    return HttpTarget(target.scheme, target.host, target.port, request_target, tuple(addresses))
