"""Tracked links: a campaign message's ``url`` buttons point at ``/r/<token>``, which counts the click
and redirects (302) to the button's URL.

The token is ``<payload>.<signature>``: the payload is the base64url JSON ``{a: app, s: send key,
p: pid, v: variant, b: button, u: url}``, the signature the first 16 bytes of HMAC-SHA256 over the
payload with a key derived from the app's token secret (``HMAC(secret, "parley-link")``), in
base64url. The URL is inside the signed payload and must be ``http(s)``: the endpoint redirects only
to a URL the server itself put into a message — never an open redirect — and a token whose
signature does not match, that does not decode, or whose app is gone is ``link_invalid`` (404),
nothing counted. Rotating the app's secret invalidates the links already sent (they 404).
The buttons' ``url`` in the body is relative (``/r/...``): clients resolve it against the server's
HTTP address (the SDK's ``Client.click`` does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError

__all__ = ["PREFIX", "Link", "LinkSigner"]

#: The path tracked links live under.
PREFIX = "/r/"
_SIG_BYTES = 16
_MAX_TOKEN = 4096


@dataclass(frozen=True, slots=True)
class Link:
    """A verified click: which send (``campaign:<cid>``), recipient, variant, button and target URL."""

    app: str
    key: str
    pid: str
    variant: str
    button: str
    url: str


class _Apps(Protocol):
    async def get_app(self, app: str) -> Any: ...


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    """Makes and verifies tracked-link tokens with each app's key (module docstring)."""

    def __init__(self, apps: _Apps) -> None:
        self._apps = apps
        self._keys: dict[tuple[str, str], bytes] = {}
        #: app -> (monotonic time read, secret): one app read per app and second on the send path.
        self._secrets: dict[str, tuple[float, str]] = {}

    async def _key(self, app: str) -> bytes:
        known = self._secrets.get(app)
        if known is None or time.monotonic() - known[0] > 1.0:
            known = (time.monotonic(), str((await self._apps.get_app(app)).secret))
            self._secrets[app] = known
        secret = known[1]
        cached = self._keys.get((app, secret))
        if cached is None:
            cached = hmac.new(secret.encode(), b"parley-link", hashlib.sha256).digest()
            self._keys[(app, secret)] = cached
        return cached

    async def track(self, app: str, key: str, pid: str, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with every ``url`` button (message buttons and card buttons) pointing at its tracked link."""
        marker = body.get("campaign")
        if not isinstance(marker, dict):
            return body
        secret = await self._key(app)
        variant = str(marker.get("variant", ""))

        def rewrite(buttons: Any) -> Any:
            if not isinstance(buttons, list):
                return buttons
            out = []
            for b in buttons:
                if isinstance(b, dict) and b.get("action") == "url" and isinstance(b.get("url"), str):
                    payload = {
                        "a": app,
                        "s": key,
                        "p": pid,
                        "v": variant,
                        "b": b.get("id", ""),
                        "u": b["url"],
                    }
                    raw = _b64(json.dumps(payload, separators=(",", ":")).encode())
                    sig = _b64(hmac.new(secret, raw.encode(), hashlib.sha256).digest()[:_SIG_BYTES])
                    b = {**b, "url": f"{PREFIX}{raw}.{sig}"}
                out.append(b)
            return out

        new_marker = {**marker, "buttons": rewrite(marker.get("buttons"))}
        if isinstance(marker.get("card"), dict):
            new_marker["card"] = {**marker["card"], "buttons": rewrite(marker["card"].get("buttons"))}
        return {**body, "campaign": new_marker}

    async def verify(self, token: str) -> Link:
        """The click ``token`` records; ``link_invalid`` for anything else."""
        bad = ServiceError(ErrorCode.LINK_INVALID, "this link is not valid")
        if len(token) > _MAX_TOKEN or token.count(".") != 1:
            raise bad
        raw, sig = token.split(".")
        try:
            payload = json.loads(_unb64(raw))
            given = _unb64(sig)
            link = Link(*(str(payload[k]) for k in ("a", "s", "p", "v", "b", "u")))
        except (ValueError, KeyError, TypeError):
            raise bad from None
        try:
            secret = await self._key(link.app)
        except Exception:  # an unknown app (or a store error): nothing to verify against
            raise bad from None
        expected = hmac.new(secret, raw.encode(), hashlib.sha256).digest()[:_SIG_BYTES]
        if not hmac.compare_digest(given, expected) or not link.url.startswith(("https://", "http://")):
            raise bad
        return link
