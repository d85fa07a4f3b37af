"""Bodies of the admin API's compliance routes (:mod:`compliance_routes`) and their OpenAPI paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from parley.server.admin.audience_schemas import IdentifyIn

__all__ = ["MODELS", "ErasureOut", "ErasurePage", "ExportLine", "ReleaseOut", "compliance_paths"]


class ErasureOut(msgspec.Struct):
    """The record of one erase, without personal data: ``state`` ``erasing`` until every step ran,
    then ``done``; ``counts`` of identifiers, messages, directory users anonymised, events and
    profiles that went."""

    id: str
    pid: str
    actor: str
    state: str
    started: int
    finished: int
    counts: dict[str, int]


class ErasurePage(msgspec.Struct):
    """A page of erase records by id (``?after=<id>&limit=``), and whether more follow."""

    erasures: list[ErasureOut]
    more: bool


class ReleaseOut(msgspec.Struct):
    """How many tombstones were lifted."""

    lifted: int


class ExportLine(msgspec.Struct):
    """One line of a person's NDJSON export: ``type`` is ``profile``, ``identifier``, ``merge``,
    ``tag_change``, ``consent``, ``event``, ``delivery``, ``user``, ``conversation``, ``message`` or ``ticket``
    (docs/AUDIENCE.md ``## Compliance``)."""

    type: str
    data: dict[str, Any]


MODELS = (ErasureOut, ErasurePage, ReleaseOut, ExportLine)


def compliance_paths(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """OpenAPI paths of the compliance routes, built with :mod:`openapi`'s ``_op``."""
    pid = ("pid",)
    return {
        "/v1/audience/profiles/{pid}/export": {
            "get": op("Everything stored about the person, as NDJSON lines (streamed); audited", 200, ExportLine,
                      params=pid, media="application/x-ndjson"),
        },
        "/v1/audience/profiles/{pid}/erase": {
            "post": op("Erase the person (idempotent; profile_not_found if never known)", 200, ErasureOut, params=pid),
        },
        "/v1/audience/erasures": {"get": op("The app's erase records (?after=<id>, ?limit=)", 200, ErasurePage)},
        "/v1/audience/erasures/release": {
            "post": op("Lift erased identifiers' tombstones (the person came back)", 200, ReleaseOut, IdentifyIn),
        },
    }  # fmt: skip
