"""What every flow of a request shares: its append-only history, and the words counts are told in."""

from optout.models import OptOutRequest, RequestEvent
from optout.ratelimits import ip_hash


def request_event_record(
    request: OptOutRequest, kind: str, message: str, *, actor=None, ip: str | None = None
) -> RequestEvent:
    """Add one line to the request's history (its status page); the address is kept only as a hash."""
    return RequestEvent.objects.create(request=request, kind=kind, message=message, actor=actor, ip_hash=ip_hash(ip))


def counted(number: int, noun: str) -> str:
    """`3 repositories`, `1 repository`."""
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{number:,} {noun if number == 1 else plural}"
