"""Bodies and answers of the tag-definition admin API (``/v1/tags/definitions``) and its OpenAPI
paths; the routes are in :mod:`.tagdefs_routes`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from parley.server.services.tagdefs import TagDefinitionIn
from parley.server.tagdefs_port import TagDefinition

__all__ = [
    "MODELS", "TagDefinitionCreate", "TagDefinitionList", "TagDefinitionOut", "TagDefinitionUpdate",
    "definition_out", "tagdefs_paths",
]  # fmt: skip


class TagDefinitionUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """A definition's editable fields: ``kind`` is ``manual``, ``rule`` or ``bot``; ``sources`` the
    tag sources allowed to set it (empty: any); ``expiry_s`` the default ttl of a tag a person sets
    without one (0: never expires)."""

    description: str = ""
    kind: str = "manual"
    sources: list[str] = []
    expiry_s: int = 0

    def definition(self, name: str) -> TagDefinitionIn:
        """The service's input for tag ``name``."""
        return TagDefinitionIn(name, self.description, self.kind, tuple(self.sources), self.expiry_s)


class TagDefinitionCreate(TagDefinitionUpdate, forbid_unknown_fields=True):
    """A new definition: the tag's ``name`` and the editable fields."""

    name: str = ""


class TagDefinitionOut(msgspec.Struct):
    """A stored definition (times in ms)."""

    name: str
    description: str
    kind: str
    sources: list[str]
    expiry_s: int
    created: int
    updated: int


class TagDefinitionList(msgspec.Struct):
    """The app's definitions, by name."""

    definitions: list[TagDefinitionOut]


MODELS = [TagDefinitionCreate, TagDefinitionUpdate, TagDefinitionOut, TagDefinitionList]


def definition_out(d: TagDefinition) -> TagDefinitionOut:
    """The wire form of a stored definition."""
    return TagDefinitionOut(d.name, d.description, d.kind, list(d.sources), d.expiry_s, d.created, d.updated)


def tagdefs_paths(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """OpenAPI paths of the routes, built with :mod:`openapi`'s ``_op``."""
    return {
        "/v1/tags/definitions": {
            "get": op("The app's tag definitions", 200, TagDefinitionList),
            "post": op("Define a tag", 201, TagDefinitionOut, TagDefinitionCreate),
        },
        "/v1/tags/definitions/{name}": {
            "get": op("One tag definition", 200, TagDefinitionOut, params=("name",)),
            "put": op(
                "Change a tag definition", 200, TagDefinitionOut, TagDefinitionUpdate, params=("name",)
            ),
            "delete": op("Remove a tag definition", 204, None, params=("name",)),
        },
    }
