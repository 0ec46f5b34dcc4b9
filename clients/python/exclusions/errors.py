"""The one exception the client raises: its message names the file (or input) and says what went wrong."""


class ClientError(Exception):
    """A refused download, a release that does not verify, an unreadable shard; `str(error)` is one line."""
