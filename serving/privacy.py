"""Keep profile values out of log lines.

BentoML logs every exception raised while handling a request, with its message: for a
pydantic validation error that message repeats the request's values. This filter keeps
the traceback's frames and the exception's type, and drops its message and arguments,
so that a log line never carries a profile value.
"""

from __future__ import annotations

import logging
import traceback

REDACTED_LOGGERS = ("bentoml._internal.server.http_app", "bentoml", "_bentoml_impl", "jalon")


class RedactExceptionValues(logging.Filter):
    """Replace a record's exception (message and values) by its type and frames."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc_type, exc, tb = record.exc_info
            count = getattr(exc, "error_count", None)
            detail = f" ({count()} error(s), values redacted)" if callable(count) else " (message redacted)"
            frames = "".join(traceback.format_tb(tb))
            record.msg = f"{record.getMessage()}: {exc_type.__name__}{detail}\n{frames}".rstrip()
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def install() -> None:
    """Attach the filter to the loggers that may log request exceptions (idempotent)."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactExceptionValues) for f in logger.filters):
            logger.addFilter(RedactExceptionValues())
