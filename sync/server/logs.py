"""Structured logs: one JSON object per line on stderr, for the center's log collector.

    >>> setup_logging("INFO")
    >>> log.info("pushed", extra={"fields": {"device": "k1", "stored": 12}})
    {"ts": "2026-…", "level": "info", "logger": "weiguang", "msg": "pushed", "device": "k1", "stored": 12}
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

log = logging.getLogger("weiguang")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,    # which worker, when several serve one port
            "msg": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO") -> None:
    """JSON on stderr for our logger and uvicorn's (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("weiguang", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # Our middleware logs each request with its fields; uvicorn's access line would repeat it.
    logging.getLogger("uvicorn.access").disabled = True
