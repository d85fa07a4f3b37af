"""What a marketing message looks like in the chat, and a customer's tap on it (pure).

A campaign (or journey, or back-end push) message is an ordinary ``text`` message — stored,
seq'd, delivered and read-receipted like any other, and readable by every client that knows
only text — whose body also carries a ``campaign`` marker::

    {"text": "Hi Ann, 20% off today",
     "campaign": {"id": "cmp_1", "variant": "a", "topic": "marketing", "lang": "en",
                  "card": {"title": ..., "text": ..., "image": ..., "buttons": [...]},
                  "buttons": [{"id": "shop", "label": "Shop", "action": "url", "url": "https://..."}],
                  "quick_replies": [{"id": "stop", "label": "Stop", "action": "opt_out"}]}}

:func:`campaign_body` builds it from a :class:`~parley.proto.templates.Rendered`;
:func:`read_marker` reads it back (the SDK's typed campaign event), tolerating a body it
does not recognise by returning None. A tap on a quick reply (or a ``reply``/``opt_out``
button) is answered in the chat by :func:`tap_body`: a ``text`` message with the label and a
``campaign_reply`` marker the server recognises (an ``opt_out`` action withdraws consent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parley.proto.templates import Rendered, RenderedButton

__all__ = [
    "MARKER_BYTES", "ButtonInfo", "CampaignMarker", "TapReply", "campaign_body", "read_marker", "read_tap",
    "tap_body",
]  # fmt: skip

#: The MessagePack encoding of the body key ``"campaign"``: an encoded frame without these bytes
#: carries no campaign marker, so a byte search (no decode) rules out almost every chat message.
MARKER_BYTES = b"\xa8campaign"


@dataclass(frozen=True, slots=True)
class ButtonInfo:
    """A button or quick reply as a client shows it."""

    id: str
    label: str
    action: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class CampaignMarker:
    """The marketing part of a message body: which campaign (``<cid>@<n>`` for occurrence ``n`` of a
    recurring one) and variant, and what can be tapped."""

    id: str
    variant: str
    topic: str
    lang: str
    buttons: tuple[ButtonInfo, ...]
    quick_replies: tuple[ButtonInfo, ...]
    card: dict[str, Any] | None = None

    def button(self, button_id: str) -> ButtonInfo | None:
        """The button, card button or quick reply with ``button_id``; None if there is none."""
        card_buttons = _buttons((self.card or {}).get("buttons"))
        for b in (*self.buttons, *self.quick_replies, *card_buttons):
            if b.id == button_id:
                return b
        return None


@dataclass(frozen=True, slots=True)
class TapReply:
    """A customer's tap on a campaign message's quick reply or button, sent back in the chat."""

    campaign: str
    variant: str
    button: str
    action: str
    topic: str


def _button(b: RenderedButton) -> dict[str, Any]:
    out: dict[str, Any] = {"id": b.id, "label": b.label, "action": b.action}
    if b.url:
        out["url"] = b.url
    return out


def campaign_body(rendered: Rendered, *, campaign: str, variant: str, topic: str) -> dict[str, Any]:
    """The ``text`` message body of ``rendered`` for ``campaign`` / ``variant`` on ``topic``."""
    marker: dict[str, Any] = {
        "id": campaign,
        "variant": variant,
        "topic": topic,
        "lang": rendered.language,
        "buttons": [_button(b) for b in rendered.buttons],
        "quick_replies": [_button(b) for b in rendered.quick_replies],
    }
    if rendered.card is not None:
        marker["card"] = rendered.card
    return {"text": rendered.text, "campaign": marker}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _buttons(value: Any) -> tuple[ButtonInfo, ...]:
    if not isinstance(value, list):
        return ()
    out = []
    for b in value:
        if isinstance(b, dict) and _str(b.get("id")):
            out.append(
                ButtonInfo(_str(b.get("id")), _str(b.get("label")), _str(b.get("action")), _str(b.get("url")))
            )
    return tuple(out)


def read_marker(body: Any) -> CampaignMarker | None:
    """The campaign marker of a message body; None for a body without one (or a malformed one)."""
    if not isinstance(body, dict):
        return None
    m = body.get("campaign")
    if not isinstance(m, dict) or not _str(m.get("id")):
        return None
    card = m.get("card")
    return CampaignMarker(
        id=_str(m.get("id")),
        variant=_str(m.get("variant")),
        topic=_str(m.get("topic")),
        lang=_str(m.get("lang")),
        buttons=_buttons(m.get("buttons")),
        quick_replies=_buttons(m.get("quick_replies")),
        card=card if isinstance(card, dict) else None,
    )


def tap_body(marker: CampaignMarker, button: ButtonInfo) -> dict[str, Any]:
    """The ``text`` body a client sends when its user taps ``button`` of ``marker``'s message."""
    reply = {
        "campaign": marker.id,
        "variant": marker.variant,
        "button": button.id,
        "action": button.action,
        "topic": marker.topic,
    }
    return {"text": button.label, "campaign_reply": reply}


def read_tap(body: Any) -> TapReply | None:
    """The tap a message body records; None if it is not a tap."""
    if not isinstance(body, dict):
        return None
    r = body.get("campaign_reply")
    if not isinstance(r, dict) or not _str(r.get("campaign")) or not _str(r.get("button")):
        return None
    return TapReply(
        _str(r.get("campaign")),
        _str(r.get("variant")),
        _str(r.get("button")),
        _str(r.get("action")),
        _str(r.get("topic")),
    )
