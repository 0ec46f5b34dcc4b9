"""The network address a request comes from, as far as the operator's proxies can vouch for it.

One function for every limit that counts by address (the opt-out form, the status page's actions, the API's
anonymous rate), so they all agree on who a caller is. `TRUSTED_PROXY_COUNT` says how many proxies in front of
the portal append to `X-Forwarded-For`: 0 ignores the header entirely (anyone can write it), N takes the address
the N-th proxy from the portal saw. A value that is not an address falls back to the connection's own address.
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """The caller's network address: REMOTE_ADDR, or the entry of X-Forwarded-For the trusted proxies appended."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    # The last N entries were written by our N proxies; the left-most of those is the address the first one saw.
    # Fewer entries than proxies: the left-most there is (DRF's NUM_PROXIES reads it the same way).
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
