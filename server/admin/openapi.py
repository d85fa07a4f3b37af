"""The OpenAPI 3.1 document of the admin API, served at ``/openapi.json``.

Schemas come from the same msgspec structs that validate the bodies, so the
document cannot drift from what the server accepts.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec

from parley.server.admin import (
    audience_schemas,
    compliance_schemas,
    events_schemas,
    journey_schemas,
    lease_schemas,
    marketing_schemas,
    moderation_schemas,
    policy_schemas,
    schemas,
    segments_schemas,
    tagdefs_schemas,
    upload_schemas,
)

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{name}"

_MODELS: list[Any] = [
    schemas.CreateApp,
    schemas.AppCreated,
    schemas.CreateUser,
    schemas.UserOut,
    schemas.CreateToken,
    schemas.TokenIssued,
    schemas.CreateConversation,
    schemas.ConvInfo,
    schemas.AddMembers,
    schemas.AddedMembers,
    schemas.PostMessage,
    schemas.Message,
    schemas.MessagePage,
    schemas.ConversationList,
    schemas.KnowledgeUpload,
    schemas.KnowledgeStored,
    schemas.KnowledgeVersion,
    schemas.KnowledgeDump,
    schemas.KnowledgeHistory,
    schemas.KnowledgeRevisionOut,
    schemas.TagChange,
    schemas.ProfileInfo,
    schemas.TicketOut,
    schemas.TicketList,
    schemas.AssignAgent,
    schemas.Handoff,
    schemas.NoteIn,
    *moderation_schemas.MODELS,
    *policy_schemas.MODELS,
    *audience_schemas.MODELS,
    *events_schemas.MODELS,
    *segments_schemas.MODELS,
    *tagdefs_schemas.MODELS,
    *lease_schemas.MODELS,
    *upload_schemas.MODELS,
    *marketing_schemas.MODELS,
    *journey_schemas.MODELS,
    *compliance_schemas.MODELS,
]

_PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable error code (see docs/PROTOCOL.md)"},
    },
}


def _ref(model: Any) -> dict[str, str]:
    return {"$ref": _REF.format(name=model.__name__)}


def _op(
    summary: str,
    ok: int,
    response: Any | None,
    body: Any | None = None,
    params: tuple[str, ...] = (),
    query: tuple[str, ...] = (),
    media: str = "application/json",
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "security": [{"apiKey": []}]}
    parameters = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params]
    parameters += [
        {"name": q, "in": "query", "required": False, "schema": {"type": "integer"}} for q in query
    ]
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    ok_response: dict[str, Any] = {"description": "success"}
    if response is not None:
        ok_response["content"] = {media: {"schema": _ref(response)}}
    problem = {
        "description": "problem",
        "content": {"application/problem+json": {"schema": {"$ref": _REF.format(name="Problem")}}},
    }
    op["responses"] = {str(ok): ok_response, "default": problem}
    return op


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The admin API's OpenAPI 3 document: schemas generated from the msgspec bodies (their docstrings
    become descriptions) and every path. Built once per process (cached; do not mutate it).
    """
    _, components = msgspec.json.schema_components(_MODELS, ref_template=_REF)
    components["Problem"] = _PROBLEM
    s = schemas
    paths: dict[str, Any] = {
        "/v1/apps": {"post": _op("Create an app (server admin key)", 201, s.AppCreated, s.CreateApp)},
        "/v1/users": {"post": _op("Create or update a user", 201, s.UserOut, s.CreateUser)},
        "/v1/users/{user}": {"get": _op("Get a user", 200, s.UserOut, params=("user",))},
        "/v1/users/{user}/conversations": {
            "get": _op("A user's conversations with unread counts", 200, s.ConversationList, params=("user",))
        },
        "/v1/users/{user}/messages": {
            "post": _op(
                "Message a user (in the sender's direct conversation with them)",
                201,
                s.Message,
                s.PostMessage,
                params=("user",),
            )
        },
        "/v1/tokens": {"post": _op("Issue a user token", 201, s.TokenIssued, s.CreateToken)},
        "/v1/conversations": {"post": _op("Create a conversation", 201, s.ConvInfo, s.CreateConversation)},
        "/v1/conversations/{conv}": {"get": _op("Get a conversation", 200, s.ConvInfo, params=("conv",))},
        "/v1/conversations/{conv}/members": {
            "post": _op("Add members", 200, s.AddedMembers, s.AddMembers, params=("conv",))
        },
        "/v1/conversations/{conv}/members/{user}": {
            "delete": _op("Remove a member", 204, None, params=("conv", "user"))
        },
        "/v1/conversations/{conv}/messages": {
            "post": _op(
                "Post a message (system, bot or on behalf of a user)",
                201,
                s.Message,
                s.PostMessage,
                params=("conv",),
            ),
            "get": _op(
                "A page of history by seq",
                200,
                s.MessagePage,
                params=("conv",),
                query=("before", "after", "limit"),
            ),
        },
        "/v1/conversations/{conv}/export": {
            "get": _op(
                "Export the whole history as NDJSON",
                200,
                s.Message,
                params=("conv",),
                media="application/x-ndjson",
            )
        },
    }
    paths.update(
        {
            "/v1/knowledge": {
                "get": _op("All knowledge chunks and vectors of the app", 200, s.KnowledgeDump)
            },
            "/v1/knowledge/version": {
                "get": _op("Knowledge version (changes on every ingest)", 200, s.KnowledgeVersion)
            },
            "/v1/knowledge/sources/{source}": {
                "put": _op(
                    "Replace one ingested file's chunks and vectors",
                    200,
                    s.KnowledgeStored,
                    s.KnowledgeUpload,
                    params=("source",),
                ),
                "delete": _op("Remove one ingested file", 200, s.KnowledgeVersion, params=("source",)),
            },
            "/v1/knowledge/sources/{source}/versions": {
                "get": _op(
                    "One source's revisions, newest first", 200, s.KnowledgeHistory, params=("source",)
                )
            },
            "/v1/support/tickets": {"get": _op("Support tickets (?state=, ?agent=)", 200, s.TicketList)},
            "/v1/support/tickets/{conv}": {"get": _op("One ticket", 200, s.TicketOut, params=("conv",))},
            "/v1/support/tickets/{conv}/handoff": {
                "post": _op("Hand the conversation to a human", 200, s.TicketOut, s.Handoff, params=("conv",))
            },
            "/v1/support/tickets/{conv}/assign": {
                "post": _op("Assign an agent", 200, s.TicketOut, s.AssignAgent, params=("conv",))
            },
            "/v1/support/tickets/{conv}/resolve": {
                "post": _op("Resolve", 200, s.TicketOut, params=("conv",))
            },
            "/v1/support/tickets/{conv}/release": {
                "post": _op("Hand back to the bot", 200, s.TicketOut, params=("conv",))
            },
            "/v1/support/tickets/{conv}/notes": {
                "post": _op("Add an internal note", 201, s.Message, s.NoteIn, params=("conv",)),
                "get": _op("Internal notes", 200, s.MessagePage, params=("conv",)),
            },
            "/v1/users/{user}/profile": {
                "get": _op("A customer's profile and tags", 200, s.ProfileInfo, params=("user",))
            },
            "/v1/users/{user}/tags": {
                "post": _op("Add and remove tags", 200, s.ProfileInfo, s.TagChange, params=("user",))
            },
        }
    )
    paths.update(moderation_schemas.moderation_paths(_op))
    paths.update(policy_schemas.policy_paths(_op))
    paths.update(audience_schemas.audience_paths(_op))
    paths.update(events_schemas.events_paths(_op))
    paths.update(segments_schemas.segments_paths(_op))
    paths.update(marketing_schemas.marketing_paths(_op))
    paths.update(journey_schemas.journey_paths(_op))
    paths.update(compliance_schemas.compliance_paths(_op))
    paths.update(tagdefs_schemas.tagdefs_paths(_op))
    paths.update(lease_schemas.lease_paths(_op))
    paths.update(upload_schemas.uploads_paths(_op))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Parley admin API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "App API key"}},
        },
    }
