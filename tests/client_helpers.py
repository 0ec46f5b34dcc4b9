"""A small HTTP proxy in front of the live portal, owned by the client tests.

It forwards every request and can, per release file name: serve byte ranges itself (as a server that ignores
them, when off), pass them on to the portal (`forward_ranges`), cut a response short once (an interrupted
download), or rewrite the body (tampering in transit).
Every request is logged with its Range header, so tests can tell what the client fetched.
"""

import contextlib
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from exclusions import cli

_RANGE_RE = re.compile(r"bytes=(\d+)-$")


class PortalProxy:
    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.ranges = False
        self.forward_ranges = False
        self.upstream_statuses: list[tuple[str, int]] = []
        self.cut_once: dict[str, int] = {}  # file name → bytes sent before the connection drops (once)
        self.rewrite: dict[str, Callable[[bytes], bytes]] = {}  # file name → new body
        self.requests: list[tuple[str, str | None]] = []  # (path with query, Range header)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def do_GET(self):
                proxy._handle(self, None)

            def do_POST(self):
                proxy._handle(self, self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def paths(self, fragment: str = "") -> list[str]:
        return [path for path, _ in self.requests if fragment in path]

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes | None) -> None:
        range_header = handler.headers.get("Range")
        self.requests.append((handler.path, range_header))
        passed = ("authorization", "content-type") + (("range", "if-range") if self.forward_ranges else ())
        forwarded = {name: value for name, value in handler.headers.items() if name.lower() in passed}
        request = urllib.request.Request(self.upstream + handler.path, data=body, headers=forwarded)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, headers, content = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, headers, content = error.code, dict(error.headers), error.read()
        self.upstream_statuses.append((handler.path, status))
        name = handler.path.rsplit("/", 1)[-1]
        if status == 200 and name in self.rewrite:
            content = self.rewrite[name](content)
        start = 0
        match = _RANGE_RE.match(range_header or "")
        if status == 200 and self.ranges and match and int(match.group(1)) < len(content):
            start = int(match.group(1))
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(content) - 1}/{len(content)}"
        sent = content[start:]
        handler.send_response(status)
        for header, value in headers.items():
            if header.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                handler.send_header(header, value)
        handler.send_header("Content-Length", str(len(sent)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        if status in (200, 206) and name in self.cut_once:
            handler.wfile.write(sent[: self.cut_once.pop(name)])
            handler.wfile.flush()
            handler.close_connection = True
            return
        handler.wfile.write(sent)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        with contextlib.suppress(Exception):
            self.server.shutdown()
        self.server.server_close()


OWN_BLOB, SHARED_BLOB, OTHER_BLOB = "a" * 40, "b" * 40, "c" * 40


def exclude(*targets, namespace=False):
    arguments = ["exclude", "the-stack", *targets, "--reason", "legal"] + (["--namespace"] if namespace else [])
    call_command(*arguments, stdout=StringIO())


def run(*arguments, capsys=None) -> tuple[int, str]:
    """The CLI in this process (so the live server's thread answers it): exit status and stderr."""
    status = cli.main([str(argument) for argument in arguments])
    return status, capsys.readouterr().err if capsys else ""


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and ".staging" not in path.parts and path.name != ".lock"
    }
