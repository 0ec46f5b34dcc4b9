"""A webhook receiver on loopback that records what it is sent and answers as a test scripts it."""

import contextlib
import datetime
import http.server
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


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
def receiver_running(path: str = "/hooks/release", *, tls: ssl.SSLContext | None = None):
    """A receiver at http://127.0.0.1:<port><path> (https://localhost:<port><path> with `tls`); yields its Receiver."""
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
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    recorded.url = (
        f"https://localhost:{server.server_port}{path}" if tls else f"http://127.0.0.1:{server.server_port}{path}"
    )
    try:
        yield recorded
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def localhost_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for `localhost` and its key, as PEM files: (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = folder / "localhost.pem", folder / "localhost.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_path, key_path
