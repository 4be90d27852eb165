"""Keep profile values out of log lines, and client mistakes out of the error log.

BentoML logs every exception raised while handling a request, with its message and
traceback at ERROR: for a pydantic validation error that message repeats the request's
values. This filter

* logs a client's mistake (a pydantic validation error, a BentoML error below 500) as one
  INFO line, ``client error 400 on POST /suggest: ValidationError (3 error(s), values
  redacted)``, without traceback;
* keeps the traceback's frames and the exception's type of any other exception, and drops its
  message and arguments,

so that a log line never carries a profile value.
"""

from __future__ import annotations

import logging
import traceback

REDACTED_LOGGERS = ("bentoml._internal.server.http_app", "bentoml", "_bentoml_impl", "jalon")


def _client_status(exc: BaseException) -> int | None:
    """The 4xx status of a client's mistake, or None for anything else."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return 400
    code = getattr(getattr(exc, "error_code", None), "value", None)
    if isinstance(code, int) and 400 <= code < 500:
        return code
    return None


class RedactExceptionValues(logging.Filter):
    """Replace a record's exception (message and values) by its type (and frames, for a server error)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc_type, exc, tb = record.exc_info
            count = getattr(exc, "error_count", None)
            detail = f" ({count()} error(s), values redacted)" if callable(count) else " (message redacted)"
            status = _client_status(exc)
            message = record.getMessage().replace("Exception on ", "", 1)
            if status is not None:
                record.msg = f"client error {status} on {message}: {exc_type.__name__}{detail}"
                record.levelno, record.levelname = logging.INFO, "INFO"
            else:
                frames = "".join(traceback.format_tb(tb))
                record.msg = f"Exception on {message}: {exc_type.__name__}{detail}\n{frames}".rstrip()
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
