"""Secrets never reach a log line: private status and confirmation links, pipeline tokens, Authorization headers,
and the query strings of the home page's lookup and of the API (they carry what people paste, credentials too).

`SecretsMasked` is a logging filter on the project's handlers (settings.LOGGING) and on gunicorn's access and
error logs (gunicorn.conf.py, through `GunicornLogger`). It rewrites the finished message, so a secret is masked
whichever logger wrote it and however it was formatted (a URL in an access line, a Referer, a traceback).
"""

import logging
import re

from gunicorn import glogging

MASK = "…"
_PATTERNS = [
    # /opt-out/r/<token>/ and /opt-out/confirm/<token>/, also percent-encoded or as a full URL.
    (re.compile(r"(/opt-out/(?:r|confirm)/)[^/\s\"'?#]+"), rf"\g<1>{MASK}"),
    # Authorization: Bearer|API|Token <token>, as a header line or a header dict's repr.
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|api|token)\s+)[^\s'\",]+"), rf"\g<1>{MASK}"),
    (re.compile(r"(?i)(\b(?:bearer|api|token)\s+)gdp_[A-Za-z0-9_\-]+"), rf"\g<1>{MASK}"),
    # A pipeline token anywhere else (governance.tokens.TOKEN_PREFIX); its first 12 characters identify it.
    (re.compile(r"\b(gdp_[A-Za-z0-9_\-]{8})[A-Za-z0-9_\-]+"), rf"\g<1>{MASK}"),
    # The query string of / (the lookup's `?q=`) and of /api/…, in a request line or a full URL (a Referer).
    (
        re.compile(
            r"""((?:^|[\s"'(])(?:[A-Za-z][A-Za-z0-9+.-]*://[^/\s"'?#]+)?/(?:api(?:/[^\s"'?#]*)?)?)\?[^\s"'#]*"""
        ),
        r"\1",
    ),
]


def secrets_masked(text: str) -> str:
    """`text` with every status or confirmation token and pipeline token replaced by a mark."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SecretsMasked(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = secrets_masked(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = secrets_masked(record.exc_text)
        return True


class GunicornLogger(glogging.Logger):
    """gunicorn's logger with the mask on its access and error logs (gunicorn.conf.py names it)."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, SecretsMasked) for existing in log.filters):
                log.addFilter(SecretsMasked())
