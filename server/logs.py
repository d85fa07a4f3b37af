"""Structured JSON logs: one object per line, with the node id and any ``extra`` ids.

Never pass message content or personal data to the logger; connection ids and
app ids are enough to follow a request.
"""

from __future__ import annotations

import json
import logging
import time

__all__ = ["JsonFormatter", "configure_logging"]

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats each record as one JSON object on one line, tagged with the node id."""

    def __init__(self, node: str) -> None:
        super().__init__()
        self._node = node

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON: time (UTC, ms), level, logger, node, message, every ``extra`` key and
        the formatted exception if any; values JSON cannot hold are written as ``str()``.
        """
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "node": self._node,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str, fmt: str, node: str) -> None:
    """Set up the root logger (called by the CLI only)."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter(node))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The websockets library's debug lines dump the first and last bytes of every frame: message
    # text, phones and emails in hex. Personal data never goes to the logs, so it stays at INFO
    # even when the server logs at debug (tests/server/test_pii_logs.py).
    frames = logging.getLogger("websockets")
    frames.setLevel(max(logging.INFO, root.level))
