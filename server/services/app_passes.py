"""One pass of a per-app background job over every app: the shape every such loop shares.

The audience pass, event-apply recovery and the conversion catch-up each run over every app on
every node (each app's work leased by the job itself). What they share is here: list the apps,
run the job per app, and keep going — a listing that fails skips this pass, an app that fails
is logged and the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

__all__ = ["each_app"]


async def each_app(
    list_apps: Callable[[], Awaitable[Sequence[Any]]],
    run: Callable[[str], Awaitable[object]],
    what: str,
    log: logging.Logger,
) -> None:
    """Run ``run(app)`` for every app ``list_apps`` returns (objects with an ``app`` id); failures
    are logged as ``what`` and skipped."""
    try:
        apps = [a.app for a in await list_apps()]
    except Exception as exc:
        log.warning("%s: cannot list apps: %r", what, exc)
        return
    for app in apps:
        try:
            await run(app)
        except Exception as exc:  # the next pass retries the app
            log.warning("%s of %s failed: %r", what, app, exc)
