"""Structured logs: one JSON object per line, one line per event.

Personal data (names, email addresses) never goes into a log line: log ids. As a second line of defence
the formatter masks anything shaped like an email address (an SMTP server's answer often quotes the
recipient); names cannot be recognised, so code must not log them.
"""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone

_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
# local@domain.tld; "guest@127.0.0.1" in a broker URL has no top-level domain and stays.
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
EMAIL_MASK = "<E-Mail>"


def mask_emails(text: str) -> str:
    # Most lines hold no "@" at all: the regex scan cost more than formatting the line (py-spy, notify worker).
    return _EMAIL.sub(EMAIL_MASK, text) if "@" in text else text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return mask_emails(json.dumps(line, default=str, ensure_ascii=False))


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(level)
    # Libraries log connection chatter at INFO; keep the stream to our events.
    for noisy in ("amqp", "kombu", "werkzeug", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields) -> None:
    logger.log(level, event, extra=fields)
