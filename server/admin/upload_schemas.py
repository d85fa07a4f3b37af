"""Bodies and answers of the knowledge-upload routes (:mod:`.knowledge_uploads`) and their OpenAPI paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

__all__ = ["MODELS", "UploadIn", "UploadList", "UploadOut", "UploadSettle", "uploads_paths"]


class UploadIn(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /console/api/knowledge/uploads``: the file's name (the source) and either its bytes in
    base64 (``content_base64``, what the console sends: the server checks they are UTF-8) or its text."""

    source: str
    content: str = ""
    content_base64: str = ""


class UploadSettle(msgspec.Struct, forbid_unknown_fields=True):
    """A bot's outcome: the knowledge ``version`` its ingest produced, or the ``error`` that stopped it."""

    version: int = 0
    error: str = ""


class UploadOut(msgspec.Struct, omit_defaults=True):
    """One upload: ``state`` pending, ingested (``version``) or failed (``error``); ``content`` only in
    the pending list a bot takes."""

    id: str
    source: str
    by: str
    created: int
    state: str
    version: int = 0
    error: str = ""
    updated: int = 0
    content: str | None = None


class UploadList(msgspec.Struct):
    """Uploads: the oldest pending ones (``?state=pending``) or the newest of any state."""

    uploads: list[UploadOut]


MODELS = [UploadSettle, UploadOut, UploadList]


def uploads_paths(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """OpenAPI paths of the ``/v1`` routes, built with :mod:`openapi`'s ``_op``."""
    return {
        "/v1/knowledge/uploads": {
            "get": op("Knowledge files uploaded for the bot to ingest", 200, UploadList)
        },
        "/v1/knowledge/uploads/{id}": {
            "post": op("Settle an upload (ingested or failed)", 204, None, UploadSettle, params=("id",))
        },
    }
