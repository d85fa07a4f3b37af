"""Admin API for sensitive words and the review queue: the app's word lists (``/v1/words``)
and the items user reports and ``flag`` lists queue for its moderators (``/v1/reviews``).
Changes are audited like the other moderation actions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.proto.vocabulary import ReviewState
from parley.server.admin import moderation_schemas as ms
from parley.server.admin.moderation_routes import AUDIT_PAGE_MAX, actor
from parley.server.admin.routes import json_response, parse_body, with_app
from parley.server.errors import ServiceError
from parley.server.models import App
from parley.server.safety_models import ReviewItem, WordList
from parley.server.services import Services

__all__ = ["words_routes"]

OUTCOMES = ("dismiss", "recall", "actioned")


def _list(w: WordList) -> ms.WordListOut:
    return ms.WordListOut(w.name, w.action, w.words, w.updated)


def _review(r: ReviewItem) -> ms.ReviewOut:
    return ms.ReviewOut(
        r.id, r.source, r.conv, r.seq, r.author, r.reporter, r.reason, r.excerpt, r.ts, r.state,
        r.outcome, r.resolved_by, r.resolved_at,
    )  # fmt: skip


def _name(request: Request) -> str:
    name: str = request.path_params["name"]
    if not 1 <= len(name) <= 64:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "a list name is 1 to 64 characters")
    return name


async def list_words(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/words``: the app's sensitive-word lists, by name."""
    return json_response(ms.WordLists(lists=[_list(w) for w in await s.words.lists(app.app)]))


async def put_words(request: Request, s: Services, app: App) -> Response:
    """``PUT /v1/words/{name}``: create or replace the whole list (duplicates and blanks dropped; bounded
    count of lists and words); it applies at once on this node, within the words cache ``ttl`` on
    others. Audited.
    """
    body = await parse_body(request, ms.WordListIn)
    name = _name(request)
    record = await s.words.put_list(app.app, name, body.action, body.words)
    await s.moderation.audit(
        app.app, actor(request), "words.put", name, list_action=body.action, words=len(record.words)
    )
    return json_response(_list(record))


async def delete_words(request: Request, s: Services, app: App) -> Response:
    """``DELETE /v1/words/{name}``: drop the list; 204, 404 if there is none; audited."""
    name = _name(request)
    await s.words.delete_list(app.app, name)
    await s.moderation.audit(app.app, actor(request), "words.delete", name)
    return Response(status_code=204)


async def list_reviews(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/reviews``: a page of the review queue in ``state`` (default ``open``) after the
    cursor ``after``, in id order, ``limit`` 1-500, with ``more``.
    """
    state = request.query_params.get("state", ReviewState.OPEN)
    after = request.query_params.get("after", "")
    try:
        limit = int(request.query_params.get("limit", "100"))
    except ValueError:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "limit must be an integer") from None
    if state not in tuple(ReviewState) or not 1 <= limit <= AUDIT_PAGE_MAX or len(after) > 64:
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, f"state must be open or resolved, limit 1 to {AUDIT_PAGE_MAX}"
        )
    items, more = await s.words.reviews(app.app, state=state, after=after, limit=limit)
    return json_response(ms.ReviewPage(items=[_review(r) for r in items], more=more))


async def resolve_review(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/reviews/{id}/resolve``: close an open item with an outcome (``dismiss``,
    ``recall``: tombstone the message first, or ``actioned``); audited. A compare-and-set: of
    two moderators at once one gets 422 (a repeated recall is harmless, recalls are idempotent).
    """
    body = await parse_body(request, ms.ResolveReview)
    review_id = request.path_params["id"]
    if body.outcome not in OUTCOMES:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"outcome must be one of {list(OUTCOMES)}")
    item = await s.words.review(app.app, review_id)
    if item is None:
        raise ServiceError(ErrorCode.NOT_FOUND, f"no review item {review_id}")
    if item.state != ReviewState.OPEN:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"review item {review_id} is already resolved")
    if body.outcome == "recall":
        if not item.seq:
            raise ServiceError(ErrorCode.INVALID_REQUEST, "only a message can be recalled")
        await s.messages.recall(app.app, "system", item.conv, item.seq, may_moderate=True)
    who = actor(request)
    done = await s.words.resolve(app.app, review_id, outcome=body.outcome, by=who)
    await s.moderation.audit(
        app.app,
        who,
        "review.resolve",
        review_id,
        outcome=body.outcome,
        conv=item.conv,
        seq=item.seq,
        note=body.note,
    )
    return json_response(_review(done))


def words_routes() -> list[BaseRoute]:
    """The routes, for :func:`~parley.server.admin.routes.admin_routes`."""
    return [
        Route("/v1/words", with_app(list_words)),
        Route("/v1/words/{name}", with_app(put_words), methods=["PUT"]),
        Route("/v1/words/{name}", with_app(delete_words), methods=["DELETE"]),
        Route("/v1/reviews", with_app(list_reviews)),
        Route("/v1/reviews/{id}/resolve", with_app(resolve_review), methods=["POST"]),
    ]
