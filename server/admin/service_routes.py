"""Admin API for customer service and the knowledge base.

* ``/v1/knowledge``: the bot service ingests files (chunks + vectors it computed)
  and reloads them when the version changes; the server stores them opaquely.
* ``/v1/support``: tickets, assignment, hand-off and resolve for back-ends.
* ``/v1/users/{user}/profile`` and ``/tags``: profiles and explainable tags.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.proto.vocabulary import SupportState, UserRole
from parley.server.admin import schemas
from parley.server.admin.routes import json_response, parse_body, path_user, with_app
from parley.server.auth.identity import SYSTEM_USER
from parley.server.errors import ServiceError
from parley.server.models import App, KnowledgeEntry, KnowledgeVector, Ticket
from parley.server.services import Services
from parley.server.services.wire import wire_message

__all__ = ["service_routes"]

SERVICE_ACTOR = SYSTEM_USER


# ------------------------------------------------------------------ knowledge
async def put_knowledge(request: Request, s: Services, app: App) -> Response:
    """``PUT /v1/knowledge/sources/{source}``: replace the whole source with the uploaded chunks and
    vectors; returns the chunk count and the new version. 422 (nothing stored) for a chunk
    without a string ``id``, duplicate ids, or vectors of unknown chunks.
    """
    source = request.path_params["source"]
    body = await parse_body(request, schemas.KnowledgeUpload)
    vectors: dict[str, list[KnowledgeVector]] = {}
    for v in body.vectors:
        vectors.setdefault(v.chunk_id, []).append(KnowledgeVector(v.model, v.view, v.vector))
    entries = []
    for chunk in body.chunks:
        chunk_id = chunk.get("id")
        if not isinstance(chunk_id, str) or not chunk_id:
            raise ServiceError(ErrorCode.INVALID_REQUEST, "every chunk needs a string 'id'")
        entries.append(KnowledgeEntry(app.app, source, chunk_id, chunk, tuple(vectors.pop(chunk_id, ()))))
    if len({e.chunk_id for e in entries}) != len(entries):
        raise ServiceError(ErrorCode.INVALID_REQUEST, "chunk ids must be unique within a source")
    if vectors:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"vectors for unknown chunks: {sorted(vectors)[:5]}")
    version = await s.knowledge.replace(app.app, source, entries)
    return json_response(schemas.KnowledgeStored(source=source, chunks=len(entries), version=version))


async def delete_knowledge(request: Request, s: Services, app: App) -> Response:
    """``DELETE /v1/knowledge/sources/{source}``: drop the source; returns the new knowledge version."""
    version = await s.knowledge.delete(app.app, request.path_params["source"])
    return json_response(schemas.KnowledgeVersion(version=version))


async def get_knowledge(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/knowledge``: the app's version and every chunk and vector, by source then chunk id."""
    version, entries = await s.knowledge.dump(app.app)
    return json_response(
        schemas.KnowledgeDump(
            version=version,
            chunks=[schemas.KnowledgeChunkOut(source=e.source, chunk=e.chunk) for e in entries],
            vectors=[
                schemas.KnowledgeVectorIO(chunk_id=e.chunk_id, model=v.model, view=v.view, vector=v.vector)
                for e in entries
                for v in e.vectors
            ],
        )
    )


async def knowledge_history(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/knowledge/sources/{source}/versions``: the source's revisions, newest first (empty for
    a source never stored)."""
    source = request.path_params["source"]
    found = await s.knowledge.history(app.app, source)
    revisions = [schemas.KnowledgeRevisionOut(version=r.version, chunks=r.chunks, ts=r.ts) for r in found]
    return json_response(schemas.KnowledgeHistory(source=source, revisions=revisions))


async def knowledge_version(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/knowledge/version``: the app's knowledge version (0 before the first ingest); bots poll
    it."""
    return json_response(schemas.KnowledgeVersion(version=await s.knowledge.version(app.app)))


# -------------------------------------------------------------------- support
def _ticket_out(t: Ticket) -> schemas.TicketOut:
    return schemas.TicketOut(
        conv=t.conv, customer=t.customer, state=t.state, agent=t.agent, reason=t.reason,
        summary=t.summary, score=t.score, created=t.created, updated=t.updated, origin=t.origin,
    )  # fmt: skip


async def list_tickets(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/support/tickets``: tickets filtered by ``?state=`` and/or ``?agent=``, least recently
    updated first."""
    state = request.query_params.get("state")
    agent = request.query_params.get("agent")
    tickets = await s.support.tickets(app.app, state=state, agent=agent)
    return json_response(schemas.TicketList(tickets=[_ticket_out(t) for t in tickets]))


async def get_ticket(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/support/tickets/{conv}``: the ticket; 404 if ``conv`` is not a support conversation."""
    return json_response(_ticket_out(await s.support.ticket(app.app, request.path_params["conv"])))


async def handoff(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/support/tickets/{conv}/handoff``: ask for a human on the customer's behalf (only from
    state ``bot``, else 422); returns the ticket, already assigned if an agent was free.
    """
    body = await parse_body(request, schemas.Handoff)
    conv = request.path_params["conv"]
    ticket = await s.support.ticket(app.app, conv)
    # The back-end acts for the customer (who is always a member of their conversation).
    await s.support.handoff(app.app, ticket.customer, UserRole.USER, conv, body.reason, body.summary)
    return json_response(_ticket_out(await s.support.ticket(app.app, conv)))


async def assign(request: Request, s: Services, app: App) -> Response:
    """Give the conversation to an agent: a claim if nobody owns it, else a transfer."""
    body = await parse_body(request, schemas.AssignAgent)
    conv = request.path_params["conv"]
    if not await s.support.is_agent(app.app, body.agent):
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"{body.agent} is not an agent")
    ticket = await s.support.ticket(app.app, conv)
    if ticket.state == SupportState.AGENT and ticket.agent != body.agent:
        await s.support.transfer(app.app, ticket.agent, conv, body.agent)
    elif ticket.state != SupportState.AGENT:
        await s.support.claim(app.app, body.agent, conv)
    return json_response(_ticket_out(await s.support.ticket(app.app, conv)))


async def release(request: Request, s: Services, app: App) -> Response:
    """Hand the conversation back to the bot (on behalf of the owning agent)."""
    conv = request.path_params["conv"]
    ticket = await s.support.ticket(app.app, conv)
    if ticket.state != SupportState.AGENT:
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, f"not possible while the conversation is {ticket.state!r}"
        )
    await s.support.release(app.app, ticket.agent, conv)
    return json_response(_ticket_out(await s.support.ticket(app.app, conv)))


async def add_note(request: Request, s: Services, app: App) -> Response:
    """An internal note by ``agent`` (agents-only; the customer never receives it)."""
    body = await parse_body(request, schemas.NoteIn)
    conv = request.path_params["conv"]
    if not await s.support.is_agent(app.app, body.agent):
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"{body.agent} is not an agent")
    ack = await s.support.note(app.app, body.agent, conv, body.text)
    stored = await s.history.messages(app.app, ack.conv, ack.seq, ack.seq)
    return json_response(wire_message(stored[0]), 201)


async def list_notes(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/support/tickets/{conv}/notes``: the first 500 agents-only notes, ascending, with ``more``."""
    ticket = await s.support.ticket(app.app, request.path_params["conv"])
    if not ticket.notes_conv:
        return json_response(schemas.MessagePage(messages=[], more=False))
    messages, more = await s.history.page(app.app, ticket.notes_conv, before=None, after=0, limit=500)
    return json_response(schemas.MessagePage(messages=[wire_message(m) for m in messages], more=more))


async def resolve(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/support/tickets/{conv}/resolve``: resolve as the owning agent (or as the bot while
    it handles the ticket) and ask the customer for a score; returns the ticket.
    """
    conv = request.path_params["conv"]
    ticket = await s.support.ticket(app.app, conv)
    role = UserRole.AGENT if ticket.state == SupportState.AGENT else UserRole.BOT
    actor = ticket.agent if role == UserRole.AGENT else SERVICE_ACTOR
    await s.support.resolve(app.app, actor, role, conv)
    return json_response(_ticket_out(await s.support.ticket(app.app, conv)))


# ------------------------------------------------------------------- profiles
async def get_profile(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/users/{user}/profile``: the user's tags (expired ones left out), attributes and counters."""
    return json_response(await s.profiles.get(app.app, path_user(request)))


async def change_tags(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/users/{user}/tags``: add/replace and remove tags and merge attributes, atomically;
    returns the profile after the change.
    """
    body = await parse_body(request, schemas.TagChange)
    profile = await s.profiles.tag(
        app.app, path_user(request), body.source, body.add, body.remove, body.attributes
    )
    return json_response(profile)


def service_routes() -> list[BaseRoute]:
    """The knowledge, support and profile routes, each behind the app's API key (:func:`with_app`)."""
    return [
        Route("/v1/knowledge", with_app(get_knowledge)),
        Route("/v1/knowledge/version", with_app(knowledge_version)),
        Route("/v1/knowledge/sources/{source}", with_app(put_knowledge), methods=["PUT"]),
        Route("/v1/knowledge/sources/{source}", with_app(delete_knowledge), methods=["DELETE"]),
        Route("/v1/knowledge/sources/{source}/versions", with_app(knowledge_history)),
        Route("/v1/support/tickets", with_app(list_tickets)),
        Route("/v1/support/tickets/{conv}", with_app(get_ticket)),
        Route("/v1/support/tickets/{conv}/handoff", with_app(handoff), methods=["POST"]),
        Route("/v1/support/tickets/{conv}/assign", with_app(assign), methods=["POST"]),
        Route("/v1/support/tickets/{conv}/resolve", with_app(resolve), methods=["POST"]),
        Route("/v1/support/tickets/{conv}/release", with_app(release), methods=["POST"]),
        Route("/v1/support/tickets/{conv}/notes", with_app(add_note), methods=["POST"]),
        Route("/v1/support/tickets/{conv}/notes", with_app(list_notes), methods=["GET"]),
        Route("/v1/users/{user}/profile", with_app(get_profile)),
        Route("/v1/users/{user}/tags", with_app(change_tags), methods=["POST"]),
    ]
