"""Tag definitions: what each tag of an app means, and the one rule they enforce.

A definition (:class:`~parley.server.tagdefs_port.TagDefinition`) describes a tag for people —
description, kind (``manual``, ``rule``, ``bot``), the sources allowed to set it, a default
expiry. **The rule** (kept deliberately narrow, so bots, rules, models, imports, campaigns and
segments that set tags keep working unchanged):

* Tags set by a *person* — source ``manual`` (the audience API's default) or ``agent`` (the chat
  profile's tags from an agent) — must be defined once the app has at least one definition, and
  the definition's ``sources`` (when not empty) must include that source; otherwise the write is
  refused with ``tag_undefined`` (422) and nothing is stored. An app with no definitions accepts
  every tag, as before definitions existed.
* Tags set by any other source are never refused: an unknown tag is still allowed, a defined one
  is described by its definition.
* A definition's ``expiry_s`` is the ttl of a tag set *by a person* without a ttl of its own.

Every change is audited by the caller (the admin API and the console record ``tagdef.*``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError
from parley.server.ids import now_ms
from parley.server.tagdefs_port import TagDefinition, TagDefinitionStore

__all__ = ["KINDS", "MANUAL_SOURCES", "TagDefinitionError", "TagDefinitionIn", "TagDefinitionService"]

#: What a definition may say about who computes the tag.
KINDS = ("manual", "rule", "bot")
#: The tag sources that mean "a person set it": the only ones definitions are enforced for.
MANUAL_SOURCES = frozenset({"manual", "agent"})
#: At most this many definitions per app, and this long a description.
MAX_DEFINITIONS, MAX_DESCRIPTION, MAX_EXPIRY_S = 1000, 500, 10 * 365 * 86400
_NAME = re.compile(r"^[^\s\x00-\x1f]{1,100}$")
_SOURCE = re.compile(r"^[a-z_]{1,20}$")


class TagDefinitionError(ServiceError):
    """A refused definition or tag write; ``field`` names the input it is about (or "")."""

    def __init__(self, code: ErrorCode, message: str, field: str = "") -> None:
        super().__init__(code, message)
        self.field = field


@dataclass(frozen=True, slots=True)
class TagDefinitionIn:
    """What a caller gives to create or update a definition."""

    name: str
    description: str = ""
    kind: str = "manual"
    sources: tuple[str, ...] = ()
    expiry_s: int = 0


def _check(body: TagDefinitionIn) -> None:
    invalid = ErrorCode.TAG_DEFINITION_INVALID
    if not _NAME.match(body.name):
        raise TagDefinitionError(invalid, "a tag name is 1 to 100 characters without spaces", "name")
    if len(body.description) > MAX_DESCRIPTION:
        raise TagDefinitionError(
            invalid, f"a description is at most {MAX_DESCRIPTION} characters", "description"
        )
    if body.kind not in KINDS:
        raise TagDefinitionError(invalid, f"kind is one of {', '.join(KINDS)}", "kind")
    if len(body.sources) > 10 or not all(_SOURCE.match(s) for s in body.sources):
        raise TagDefinitionError(
            invalid, "sources are up to 10 names of a-z and _ (e.g. manual, agent, bot)", "sources"
        )
    if not 0 <= body.expiry_s <= MAX_EXPIRY_S:
        raise TagDefinitionError(invalid, f"expiry_s is 0 (never) to {MAX_EXPIRY_S}", "expiry_s")


class TagDefinitionService:
    """Create, update, list and delete definitions; check a person's tag writes (the module's rule)."""

    def __init__(self, store: TagDefinitionStore) -> None:
        self._store = store

    async def list(self, app: str) -> list[TagDefinition]:
        """The app's definitions, by name."""
        return await self._store.list_tag_definitions(app)

    async def get(self, app: str, name: str) -> TagDefinition:
        """The definition; ``tag_definition_not_found`` if absent."""
        found = await self._store.get_tag_definition(app, name)
        if found is None:
            raise TagDefinitionError(ErrorCode.TAG_DEFINITION_NOT_FOUND, f"no tag definition {name!r}")
        return found

    async def create(self, app: str, body: TagDefinitionIn) -> TagDefinition:
        """Validate and store a new definition; ``tag_definition_exists`` (409) for a taken name."""
        _check(body)
        if len(await self._store.list_tag_definitions(app)) >= MAX_DEFINITIONS:
            raise TagDefinitionError(
                ErrorCode.LIMIT_EXCEEDED, f"an app has at most {MAX_DEFINITIONS} tag definitions"
            )
        now = now_ms()
        made = TagDefinition(
            app, body.name, body.description, body.kind, tuple(body.sources), body.expiry_s, now, now
        )
        if not await self._store.create_tag_definition(made):
            raise TagDefinitionError(
                ErrorCode.TAG_DEFINITION_EXISTS, f"tag {body.name!r} is already defined", "name"
            )
        return made

    async def update(self, app: str, body: TagDefinitionIn) -> TagDefinition:
        """Validate and replace an existing definition (``created`` kept); ``tag_definition_not_found``."""
        _check(body)
        changed = TagDefinition(app, body.name, body.description, body.kind, tuple(body.sources), body.expiry_s,
                                0, now_ms())  # fmt: skip
        if not await self._store.update_tag_definition(changed):
            raise TagDefinitionError(ErrorCode.TAG_DEFINITION_NOT_FOUND, f"no tag definition {body.name!r}")
        return await self.get(app, body.name)

    async def delete(self, app: str, name: str) -> None:
        """Remove the definition (tags already set stay); ``tag_definition_not_found`` if absent."""
        if not await self._store.delete_tag_definition(app, name):
            raise TagDefinitionError(ErrorCode.TAG_DEFINITION_NOT_FOUND, f"no tag definition {name!r}")

    async def check_manual(self, app: str, source: str, names: Sequence[str]) -> dict[str, int]:
        """Refuse (``tag_undefined``) a person's write of tags that the rule does not allow; the
        default ttl (s) of each defined tag being set (empty for other sources: nothing to check)."""
        if source not in MANUAL_SOURCES or not names:
            return {}
        defined = {d.name: d for d in await self._store.list_tag_definitions(app)}
        if not defined:
            return {}
        for name in names:
            d = defined.get(name)
            if d is None:
                raise TagDefinitionError(
                    ErrorCode.TAG_UNDEFINED, f"tag {name!r} is not defined (admin page, tag definitions)"
                )
            if d.sources and source not in d.sources:
                raise TagDefinitionError(
                    ErrorCode.TAG_UNDEFINED, f"tag {name!r} may not be set by source {source!r}"
                )
        return {n: defined[n].expiry_s for n in names if defined[n].expiry_s}
