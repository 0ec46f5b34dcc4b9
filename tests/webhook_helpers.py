"""A webhook receiver on loopback that records what it is sent and answers as a test scripts it."""

import contextlib
import http.server
import threading
from dataclasses import dataclass, field


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    # One answer per request in order, (status, extra headers); the last one repeats.
    answers: list[tuple[int, dict]] = field(default_factory=lambda: [(200, {})])
    requests: list[Received] = field(default_factory=list)


@contextlib.contextmanager
def receiver_running(path: str = "/hooks/release"):
    """A receiver at http://127.0.0.1:<port><path>; yields its Receiver."""
    recorded = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            recorded.requests.append(Received(self.path, dict(self.headers.items()), body))
            index = min(len(recorded.requests), len(recorded.answers)) - 1
            status, headers = recorded.answers[index]
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    recorded.url = f"http://127.0.0.1:{server.server_port}{path}"
    try:
        yield recorded
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
