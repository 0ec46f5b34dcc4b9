"""A real git smart-HTTP server on loopback, for tests that fetch over http://.

`git http-backend` runs as a CGI program behind a small threaded WSGI server, so the client side
talks to the same protocol (v2, filters, shallow fetches, 404s) as it would to a forge.
"""

import contextlib
import os
import socketserver
import subprocess
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import is_hop_by_hop

CHUNK_BYTES = 64 * 1024


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietRequestHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def _request_body(environ) -> bytes:
    """The request body as sent; git sends large bodies chunked, which wsgiref leaves undecoded."""
    stream = environ["wsgi.input"]
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        body = bytearray()
        while size := int(stream.readline().split(b";")[0].strip() or b"0", 16):
            body += stream.read(size)
            stream.readline()
        while stream.readline().strip():  # trailers
            pass
        return bytes(body)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return stream.read(length) if length else b""


def _cgi_environment(root: Path, environ, body: bytes) -> dict[str, str]:
    cgi_environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_PARAMETERS": "'uploadpack.allowFilter=true'",
        "PATH_INFO": environ.get("PATH_INFO", ""),
        "QUERY_STRING": environ.get("QUERY_STRING", ""),
        "REQUEST_METHOD": environ["REQUEST_METHOD"],
        "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": environ.get("REMOTE_ADDR", "127.0.0.1"),
    }
    # http-backend inflates gzip request bodies itself, and speaks protocol v2 only when told to.
    if "HTTP_CONTENT_ENCODING" in environ:
        cgi_environment["HTTP_CONTENT_ENCODING"] = environ["HTTP_CONTENT_ENCODING"]
    if "HTTP_GIT_PROTOCOL" in environ:
        cgi_environment["GIT_PROTOCOL"] = environ["HTTP_GIT_PROTOCOL"]
    return cgi_environment


def _git_http_backend(root: Path, seen: list[str] | None = None):
    def application(environ, start_response) -> Iterable[bytes]:
        if seen is not None:
            seen.append(environ.get("PATH_INFO", ""))
        body = _request_body(environ)
        backend = subprocess.Popen(
            ["git", "http-backend"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_cgi_environment(root, environ, body),
        )

        def write_body():
            # A separate writer, so a large request and a large answer cannot wait on each other.
            with contextlib.suppress(BrokenPipeError):
                backend.stdin.write(body)
            backend.stdin.close()

        writer = threading.Thread(target=write_body, daemon=True)
        writer.start()
        status = "200 OK"
        headers = []
        while line := backend.stdout.readline().rstrip(b"\r\n"):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "status":
                status = value.strip()
            elif not is_hop_by_hop(name):
                headers.append((name, value.strip()))
        start_response(status, headers)

        def response_body() -> Iterator[bytes]:
            try:
                while chunk := backend.stdout.read1(CHUNK_BYTES):
                    yield chunk
            finally:
                backend.stdout.close()
                writer.join()
                backend.wait()

        return response_body()

    return application


@contextlib.contextmanager
def serve_git_over_http(root: Path, *, seen: list[str] | None = None) -> Iterator[str]:
    """Serve every repository under `root` at http://127.0.0.1:PORT/<path below root>; yield that base URL.

    `seen`, when given, collects the path of every request the server answered.
    """
    server = make_server(
        "127.0.0.1",
        0,
        _git_http_backend(Path(root), seen),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietRequestHandler,
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
