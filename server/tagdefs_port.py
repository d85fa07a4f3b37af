"""The tag-definitions role port: what each tag of an app means and who may set it.

A definition is one record per ``(app, name)``: a ``description`` for people, the ``kind``
(``manual``: set by people; ``rule``: computed from events or segments; ``bot``: set by the bot
or a model), the ``sources`` allowed to set it (the tag ``source`` values: ``manual``, ``agent``,
``rule``, ``model``, ``bot``, ``import``...; empty: any) and a default ``expiry_s`` (seconds a tag
set without its own ttl lives; 0: never expires). The service (:mod:`parley.server.services.tagdefs`)
validates definitions and decides when they are enforced; the store keeps them.

Adapters: ``store/sqlite_tagdefs.py`` and ``store/mongo_tagdefs.py``;
``tests/server/store/test_tagdefs_contract.py`` runs against both.

Guarantees:

* Everything is keyed by app; a name is unique per app.
* ``create_tag_definition`` never replaces: of concurrent creates of one name exactly one
  returns True (SQLite: the primary key; MongoDB: a unique index).
* ``update_tag_definition`` never creates and keeps ``created``; ``delete_tag_definition`` is
  True only for the call that removed the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["TagDefinition", "TagDefinitionStore"]


@dataclass(frozen=True, slots=True)
class TagDefinition:
    """One tag's definition (see the module docstring)."""

    app: str
    name: str
    description: str = ""
    kind: str = "manual"
    sources: tuple[str, ...] = ()
    expiry_s: int = 0
    created: int = 0
    updated: int = 0


class TagDefinitionStore(Protocol):
    """Durable tag definitions (see the module's guarantees)."""

    async def create_tag_definition(self, definition: TagDefinition) -> bool:
        """Store a new definition; False if ``(app, name)`` exists (nothing changed)."""

    async def update_tag_definition(self, definition: TagDefinition) -> bool:
        """Replace the description, kind, sources, expiry and ``updated`` of an existing definition
        (``created`` kept); False if there is none."""

    async def get_tag_definition(self, app: str, name: str) -> TagDefinition | None:
        """The definition; None if absent."""

    async def list_tag_definitions(self, app: str) -> list[TagDefinition]:
        """The app's definitions, by name."""

    async def delete_tag_definition(self, app: str, name: str) -> bool:
        """Remove it; True only for the call that removed it."""
