"""Bodies of the admin API's policy routes (see :mod:`policy_routes`), and their OpenAPI
paths (merged into ``/openapi.json`` by :mod:`openapi`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import msgspec

__all__ = ["MODELS", "PolicyIn", "PolicyOut", "policy_paths"]


class PolicyIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Fields left out keep their current value."""

    #: ``shared``: users sharing a conversation (and oneself); ``all``: anyone in the app.
    presence: Literal["shared", "all"] | None = None
    #: ``anyone``; ``contacts``: only users who already share a conversation with the adder;
    #: ``invite``: contacts are added, anyone else is invited and must accept.
    add: Literal["anyone", "contacts", "invite"] | None = None


class PolicyOut(msgspec.Struct):
    """The app's effective presence and add policy (its choices, the server's defaults for the rest)."""

    presence: str
    add: str


MODELS = (PolicyIn, PolicyOut)


def policy_paths(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """OpenAPI paths of the policy routes, built with :mod:`openapi`'s ``_op``."""
    return {
        "/v1/policy": {
            "get": op("The app's presence and add policy", 200, PolicyOut),
            "put": op("Change the app's presence and/or add policy", 200, PolicyOut, PolicyIn),
        }
    }
