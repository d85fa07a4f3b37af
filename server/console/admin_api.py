"""``/console/api/...`` for admins: API keys, the audit log (filterable), word lists, the review
queue and the knowledge sources. The same services as the admin API's ``/v1`` routes, with
the console's session, CSRF and ``admin`` role check; every change is audited as
``console:<user>`` (the services write the record, as they do for an API key's actions).
"""

from __future__ import annotations

from typing import Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.server.admin.routes import json_response
from parley.server.console.api import body_of
from parley.server.console.session import Caller, console_endpoint
from parley.server.console_port import ConsoleRole
from parley.server.errors import ServiceError
from parley.server.services import Services
from parley.server.services.moderation import KEY_ID_LENGTH, key_id

__all__ = ["console_admin_routes"]

ADMIN = (ConsoleRole.ADMIN.value,)
#: Audit records scanned for one filtered page at most (the rest: ask again from ``next``).
AUDIT_SCAN = 5000


class WordListIn(msgspec.Struct, forbid_unknown_fields=True):
    """``PUT /console/api/words/{name}``."""

    action: Literal["refuse", "mask", "flag"]
    words: list[str]


class Resolve(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /console/api/reviews/{id}/resolve``."""

    outcome: Literal["dismiss", "recall", "actioned"]


async def audit(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/audit?after=&action=&actor=&target=``: up to 100 records (oldest first)
    whose action starts with ``action`` and whose actor and target contain the given text;
    ``next`` is the cursor to continue from ("" at the end)."""
    q = request.query_params
    after, action, actor, target = (q.get(k, "")[:100] for k in ("after", "action", "actor", "target"))
    found: list[dict[str, object]] = []
    scanned = 0
    more = True
    while more and len(found) < 100 and scanned < AUDIT_SCAN:
        records, more = await s.moderation.audit_page(caller.user.app, after=after, limit=500)
        for r in records:
            scanned += 1
            after = r.id
            if r.action.startswith(action) and actor in r.actor and target in r.target:
                found.append({"id": r.id, "ts": r.ts, "actor": r.actor, "action": r.action,
                              "target": r.target, "detail": r.detail})  # fmt: skip
                if len(found) == 100:
                    more = True
                    break
    return json_response({"records": found, "next": after if more else ""})


async def keys(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/keys``: the app's API keys by id (never the keys)."""
    records = await s.moderation.api_keys(caller.user.app)
    return json_response([{"id": k.key_hash[:KEY_ID_LENGTH], "created": k.created} for k in records])


async def create_key(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/keys``: a new API key, shown once; 201; audited."""
    key = await s.moderation.create_api_key(caller.user.app, caller.actor)
    return json_response({"id": key_id(key), "api_key": key}, 201)


async def revoke_key(request: Request, s: Services, caller: Caller) -> Response:
    """``DELETE /console/api/keys/{key}``: revoke at once on every node; 204; audited."""
    await s.moderation.revoke_api_key(caller.user.app, caller.actor, request.path_params["key"])
    return Response(status_code=204)


async def words(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/words``: the sensitive-word lists."""
    lists = await s.words.lists(caller.user.app)
    return json_response([{"name": w.name, "action": w.action, "words": list(w.words)} for w in lists])


def _list_name(request: Request) -> str:
    name: str = request.path_params["name"]
    if not 1 <= len(name) <= 64:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "a list name is 1 to 64 characters")
    return name


async def put_words(request: Request, s: Services, caller: Caller) -> Response:
    """``PUT /console/api/words/{name}``: create or replace a list; audited."""
    body = await body_of(request, WordListIn)
    name = _list_name(request)
    record = await s.words.put_list(caller.user.app, name, body.action, body.words)
    await s.moderation.audit(
        caller.user.app, caller.actor, "words.put", name, list_action=body.action, words=len(record.words)
    )
    return json_response({"name": record.name, "action": record.action, "words": list(record.words)})


async def delete_words(request: Request, s: Services, caller: Caller) -> Response:
    """``DELETE /console/api/words/{name}``: drop a list; 204; audited."""
    name = _list_name(request)
    await s.words.delete_list(caller.user.app, name)
    await s.moderation.audit(caller.user.app, caller.actor, "words.delete", name)
    return Response(status_code=204)


async def reviews(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/reviews``: the open items of the review queue (the first 200)."""
    items, _ = await s.words.reviews(caller.user.app, state="open", after="", limit=200)
    return json_response(
        [{"id": r.id, "conv": r.conv, "seq": r.seq, "author": r.author, "source": r.source,
          "reporter": r.reporter, "reason": r.reason, "excerpt": r.excerpt, "ts": r.ts} for r in items]
    )  # fmt: skip


async def resolve(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/reviews/{id}/resolve``: dismiss, recall (the message is tombstoned
    first) or mark actioned; a compare-and-set, as on ``/v1/reviews``; audited."""
    body = await body_of(request, Resolve)
    app, review_id = caller.user.app, request.path_params["id"]
    item = await s.words.review(app, review_id)
    if item is None:
        raise ServiceError(ErrorCode.NOT_FOUND, f"no review item {review_id}")
    if body.outcome == "recall":
        if not item.seq:
            raise ServiceError(ErrorCode.INVALID_REQUEST, "only a message can be recalled")
        await s.messages.recall(app, "system", item.conv, item.seq, may_moderate=True)
    await s.words.resolve(app, review_id, outcome=body.outcome, by=caller.actor)
    await s.moderation.audit(
        app, caller.actor, "review.resolve", review_id, outcome=body.outcome, conv=item.conv, seq=item.seq
    )
    return Response(status_code=204)


async def knowledge(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/knowledge``: the knowledge version and each source's chunk count (the bot
    service uploads sources: it computes their vectors)."""
    version, entries = await s.knowledge.dump(caller.user.app)
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.source] = counts.get(e.source, 0) + 1
    return json_response(
        {"version": version, "sources": [{"source": k, "chunks": n} for k, n in counts.items()]}
    )


async def knowledge_versions(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/knowledge/{source}/versions``: the source's revisions, newest first (the first
    is what the bot answers from; a revision with no chunks is a delete)."""
    found = await s.knowledge.history(caller.user.app, request.path_params["source"])
    return json_response([{"version": r.version, "chunks": r.chunks, "ts": r.ts} for r in found])


async def delete_knowledge(request: Request, s: Services, caller: Caller) -> Response:
    """``DELETE /console/api/knowledge/{source}``: drop a source (the bot reloads); audited."""
    source = request.path_params["source"]
    version = await s.knowledge.delete(caller.user.app, source)
    await s.moderation.audit(caller.user.app, caller.actor, "knowledge.delete", source, version=version)
    return json_response({"version": version})


def console_admin_routes() -> list[BaseRoute]:
    """The admins' routes, each behind the session, CSRF and ``admin`` role check."""
    r = [
        ("/console/api/audit", audit, "GET"),
        ("/console/api/keys", keys, "GET"),
        ("/console/api/keys", create_key, "POST"),
        ("/console/api/keys/{key}", revoke_key, "DELETE"),
        ("/console/api/words", words, "GET"),
        ("/console/api/words/{name}", put_words, "PUT"),
        ("/console/api/words/{name}", delete_words, "DELETE"),
        ("/console/api/reviews", reviews, "GET"),
        ("/console/api/reviews/{id}/resolve", resolve, "POST"),
        ("/console/api/knowledge", knowledge, "GET"),
        ("/console/api/knowledge/{source}", delete_knowledge, "DELETE"),
        ("/console/api/knowledge/{source}/versions", knowledge_versions, "GET"),
    ]
    return [Route(path, console_endpoint(handler, ADMIN), methods=[method]) for path, handler, method in r]
