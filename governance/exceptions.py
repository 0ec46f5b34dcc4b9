"""The one exception type domain functions raise, with a message a user can act on."""


class GovernanceError(Exception):
    """A caller's mistake or a refused action; `str(error)` says what to do next."""

    code = "invalid"
