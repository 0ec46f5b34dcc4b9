"""How much of the worker pool proof checks may use: per host, per request and round, and after failures.

A proof check costs a worker slot for as long as git waits on the host: a host that accepts and never answers
costs the whole time limit (OPTOUT_GIT_TIMEOUT_SECONDS) per repository. These rules keep one visitor's list of
such repositories from holding the workers that every other owner's check needs:

- at most OPTOUT_CHECKS_PER_HOST checks of one host run at a time, counted across every worker process; a check
  whose host is at its cap goes back to the queue for a few seconds instead of waiting inside a worker;
- at most OPTOUT_CHECKS_PER_REQUEST checks of one request are in flight; each finished check queues the next;
- a request spends at most OPTOUT_CHECK_ROUND_SECONDS of git time per round; the rest waits for the next round,
  which a sweep starts at most every OPTOUT_CHECK_ROUND_EVERY_SECONDS (the sweep runs every OPTOUT_SWEEP_SECONDS
  to pick up lost work, which must not renew the budget) and a "Verify now" starts at once;
- a repository git could not read backs off quickly, within hours (1, 5, 15, 60, 180, 360 minutes): one
  schedule whatever the cause, because a longer one for silent hosts would show on the status page which ports
  accept and never answer — and the caps above already bound what a silent host costs;
- "Verify now" sends the owner's first checks to a queue and worker of their own, with a shorter time limit
  (OPTOUT_VERIFY_NOW_TIMEOUT_SECONDS) and a cap of their own per host (OPTOUT_VERIFY_NOW_CHECKS_PER_HOST), and never
  the checks of hosts that timed out last time: a list of slow repositories holds at most that many of its slots;
- a request keeps retrying at most OPTOUT_UNREACHABLE_RETRIED_PER_REQUEST unreachable repositories; the others are
  parked until one of its repositories answers again or the owner presses "Verify now".

With tasks run inline (embedded mode) there is no pool to protect: the per-host and per-request caps are off.
"""

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q, Sum

from governance import slots
from governance.celery import app
from optout.models import Verification

# Any "could not be read" (missing, private, refused, silent): one schedule, so the visitor's page and its next
# try cannot tell a closed port from one that accepts and never answers.
UNREACHABLE_BACKOFF = [timedelta(minutes=minutes) for minutes in (1, 5, 15, 60, 180, 360)]
# A read that used this share of its time limit counts as a timeout, whatever git printed.
TIMEOUT_SHARE = 0.8
# An interactive check whose host is at its cap waits this long before it asks again.
INTERACTIVE_BUSY_RETRY_SECONDS = 1


def inline() -> bool:
    """Tasks run in the process that queues them: nothing to share, and a re-queue would recurse."""
    return bool(app.conf.task_always_eager)


def host_key(clone_url: str) -> str:
    """What the per-host cap counts: host and port (every local path counts as one host)."""
    parts = urlsplit(clone_url)
    scheme = parts.scheme.lower()
    if scheme == "file" or not parts.netloc:
        return "file:"
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"https": 443, "http": 80, "ssh": 22, "git": 9418}.get(scheme, 0)
    return f"host:{(parts.hostname or '').lower()}:{port or default}"


def host_slot_acquire(clone_url: str, *, interactive: bool = False) -> slots.Slot | None:
    """A slot for one check of this URL's host, or None when the host is at its cap (interactive checks: their own)."""
    if inline():
        return slots.Slot(key="", token="")
    # The lease outlives the longest read; a killed worker's slot comes back after it.
    lease = check_timeout(interactive=interactive) + 30
    if interactive:
        name, limit = f"now:{host_key(clone_url)}", settings.OPTOUT_VERIFY_NOW_CHECKS_PER_HOST
    else:
        name, limit = host_key(clone_url), settings.OPTOUT_CHECKS_PER_HOST
    return slots.slot_acquire(name, limit=limit, lease_seconds=lease)


def host_slot_release(slot: slots.Slot | None) -> None:
    slots.slot_release(slot)


def check_run_acquire(verification_id: int) -> slots.Slot | None:
    """The right to run one verification's check now, or None while another process runs it (a copy of its message)."""
    if inline():
        return slots.Slot(key="", token="")
    # As long as the check's own lease (OPTOUT_CHECK_LEASE_SECONDS, longer than a lookup and a read): when a killed
    # worker's check is sent again at the end of that lease, its hold has ended too.
    return slots.slot_acquire(f"check:{verification_id}", limit=1, lease_seconds=settings.OPTOUT_CHECK_LEASE_SECONDS)


def check_run_release(slot: slots.Slot | None) -> None:
    slots.slot_release(slot)


def busy_retry_seconds(*, interactive: bool) -> int:
    return INTERACTIVE_BUSY_RETRY_SECONDS if interactive else settings.OPTOUT_HOST_BUSY_RETRY_SECONDS


def check_timeout(*, interactive: bool) -> int:
    """The time limit of one proof read: shorter for "Verify now", whose owner just pushed to a host that answers."""
    if interactive:
        return min(settings.OPTOUT_GIT_TIMEOUT_SECONDS, settings.OPTOUT_VERIFY_NOW_TIMEOUT_SECONDS)
    return settings.OPTOUT_GIT_TIMEOUT_SECONDS


def _timeout_seconds() -> float:
    # Against the shorter of the two limits, so an interactive read cut off at its limit counts too.
    return TIMEOUT_SHARE * check_timeout(interactive=True)


def timed_out(seconds: float | None) -> bool:
    """The read ran (nearly) to its time limit: the host accepts and does not answer, or answers too slowly."""
    return seconds is not None and seconds >= _timeout_seconds()


def timed_out_filter() -> Q:
    """timed_out() as a filter on Verification: its last check ran (nearly) to the time limit."""
    return Q(last_check_seconds__gte=_timeout_seconds())


def unreachable_backoff(attempts: int) -> timedelta:
    """When to try again a repository git could not read `attempts` times before, whatever the cause."""
    return UNREACHABLE_BACKOFF[min(attempts, len(UNREACHABLE_BACKOFF) - 1)]


def round_spent(request) -> float:
    """Seconds of git time the request's checks used since its round started."""
    if request.check_round_started_at is None:
        return 0.0
    spent = Verification.objects.filter(
        request_id=request.pk, last_checked_at__gte=request.check_round_started_at
    ).aggregate(seconds=Sum("last_check_seconds"))["seconds"]
    return spent or 0.0


def round_due(request, now) -> bool:
    """A sweep starts a new round at most every OPTOUT_CHECK_ROUND_EVERY_SECONDS (the sweep itself runs more often)."""
    started = request.check_round_started_at
    return started is None or started <= now - timedelta(seconds=settings.OPTOUT_CHECK_ROUND_EVERY_SECONDS)


def round_left(request) -> bool:
    return round_spent(request) < settings.OPTOUT_CHECK_ROUND_SECONDS
