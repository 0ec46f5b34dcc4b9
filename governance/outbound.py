"""POSTs to URLs that callers chose (webhooks): the one place the portal opens an HTTP connection of its own.

Such a URL is a way into the portal's network, so every call goes through the fetch policy
(`fetch_policy.http_target_check`): the host is resolved once, checked, and the connection is made to the checked
address itself (TLS still checks the certificate against the name). Redirects are never followed (http.client
does not), time is bounded (connect, each read, and the whole call), and at most a few KB of the answer are read.
"""

import contextlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass

from governance.fetch_policy import HttpTarget, http_target_check

CONNECT_SECONDS = 5.0
CALL_SECONDS = 15.0  # the whole call, however slowly a receiver drips its answer
BODY_READ_BYTES = 4096


@dataclass(frozen=True)
class PostAnswer:
    status: int
    body: bytes  # at most BODY_READ_BYTES of it
    location: str  # the Location header of a redirect, which is not followed


def http_post(url: str, *, body: bytes, headers: dict[str, str]) -> PostAnswer:
    """POST `body` to `url` under the fetch policy; FetchRefused, GitUnreachable or OSError when it cannot be sent."""
    target = http_target_check(url)
    failures = []
    for address in target.addresses:
        connection = _PinnedConnection(target, str(address))
        timer = threading.Timer(CALL_SECONDS, connection.cut)
        timer.start()
        try:
            connection.request("POST", target.target, body=body, headers=headers)
            response = connection.getresponse()
            return PostAnswer(response.status, response.read(BODY_READ_BYTES), response.getheader("Location") or "")
        except (OSError, http.client.HTTPException) as failure:
            if connection.was_cut:
                raise TimeoutError(f"no complete answer within {CALL_SECONDS:g} s") from None
            if connection.was_connected or isinstance(failure, http.client.HTTPException):
                raise OSError(_described(failure)) from None  # connected: the receiver failed, not the address
            failures.append(failure)
        finally:
            timer.cancel()
            connection.close()
    raise OSError(_described(failures[-1]) if failures else "no address to connect to")


def _described(failure: BaseException) -> str:
    text = str(failure) or type(failure).__name__
    return f"{type(failure).__name__}: {text}" if not isinstance(failure, OSError) else text


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to one checked address; the Host header and TLS name stay the URL's host."""

    def __init__(self, target: HttpTarget, address: str):
        super().__init__(target.host, target.port, timeout=CONNECT_SECONDS)
        self._address = address
        self._tls = target.scheme == "https"
        self.was_cut = False
        self.was_connected = False

    def connect(self):
        sock = socket.create_connection((self._address, self.port), timeout=CONNECT_SECONDS)
        self.was_connected = True
        sock.settimeout(CALL_SECONDS)
        if self._tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self.sock = sock

    def cut(self) -> None:
        """Stop a call that ran out of time: the blocked read fails at once."""
        self.was_cut = True
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)
