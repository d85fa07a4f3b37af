"""Structured logs are JSON lines with ids and without message content."""

from __future__ import annotations

import json
import logging

from parley.server.logs import JsonFormatter


def test_json_lines_carry_ids_and_exceptions() -> None:
    formatter = JsonFormatter("n-1")
    record = logging.makeLogRecord(
        {"name": "parley.gateway", "levelname": "INFO", "msg": "authenticated %s", "args": ("ok",)}
    )
    record.conn = "k123"
    entry = json.loads(formatter.format(record))
    assert entry["msg"] == "authenticated ok" and entry["conn"] == "k123" and entry["node"] == "n-1"
    assert entry["level"] == "info" and entry["ts"].endswith("Z")
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        failed = logging.makeLogRecord({"msg": "failed", "exc_info": sys.exc_info()})
    assert "ValueError: boom" in json.loads(formatter.format(failed))["exc"]
