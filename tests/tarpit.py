"""A TCP server on loopback that accepts every connection and never answers: the slowest host there is."""

import contextlib
import socket
import threading
from collections.abc import Iterator


class Tarpit:
    """Counts what it was asked for: connections in all, and the most held open at one time."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=512)
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.open = 0
        self.most_open = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                self.open += 1
                self.most_open = max(self.most_open, self.open)
            thread = threading.Thread(target=self._hold, args=(connection,), daemon=True)
            thread.start()

    def _hold(self, connection: socket.socket) -> None:
        # Read (and drop) whatever the client sends, never write: the client waits until it gives up.
        connection.settimeout(0.2)
        with connection:
            while not self._stopped.is_set():
                try:
                    if not connection.recv(65536):
                        break
                except TimeoutError:
                    continue
                except OSError:
                    break
        with self._lock:
            self.open -= 1

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def stop(self) -> None:
        self._stopped.set()
        self.listener.close()


@contextlib.contextmanager
def tarpit() -> Iterator[Tarpit]:
    server = Tarpit()
    server._threads[0].start()
    try:
        yield server
    finally:
        server.stop()
