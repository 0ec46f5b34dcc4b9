"""A one-line progress bar on stderr, for downloads, when someone watches (a terminal, or --progress)."""

import sys
import time
from typing import TextIO

_BAR_WIDTH = 24
_REFRESH_SECONDS = 0.1


class Progress:
    """Counts bytes of one file at a time; draws nothing unless enabled."""

    def __init__(self, *, enabled: bool | None = None, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._name, self._total, self._done, self._started, self._drawn = "", 0, 0, 0.0, 0.0
        self._resumed_from = 0

    def start(self, name: str, total: int, done: int = 0) -> None:
        self._name, self._total, self._done, self._resumed_from = name, total, done, done
        self._started = time.monotonic()
        self._drawn = 0.0
        self._draw(force=True)

    def advance(self, count: int) -> None:
        self._done += count
        self._draw()

    def finish(self) -> None:
        self._draw(force=True)
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._drawn < _REFRESH_SECONDS):
            return
        self._drawn = now
        share = self._done / self._total if self._total else 1.0
        filled = int(share * _BAR_WIDTH)
        elapsed = max(now - self._started, 1e-6)
        rate = (self._done - self._resumed_from) / elapsed
        self.stream.write(
            f"\r{self._name[:28]:<28} [{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {share:4.0%} "
            f"{_size(self._done)}/{_size(self._total)} {_size(rate)}/s   "
        )
        self.stream.flush()


def _size(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"
