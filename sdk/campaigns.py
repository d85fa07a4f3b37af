"""Marketing messages in the chat, mixed into :class:`~parley.sdk.client.Client`.

A campaign (or journey, or back-end push) message is a chat message from the app's official
account — it arrives as a :class:`~parley.sdk.events.MessageEvent` like any other, in the
customer's conversation with the brand — and then, for the same message, as a
:class:`~parley.sdk.events.CampaignEvent` carrying its typed marker: campaign id, variant,
topic, card, buttons and quick replies (:class:`~parley.proto.campaign.CampaignMarker`). A
recurring campaign's message carries ``<campaign id>@<occurrence>`` as its id (occurrences from 0).

:meth:`CampaignOps.click` is the customer's tap: on a ``reply`` or ``opt_out`` button or quick
reply it answers in the chat (a text message with the label and a ``campaign_reply`` marker;
an ``opt_out`` withdraws the customer's consent for the campaign's topic, and the official
account confirms it in the chat); on a ``url`` button it returns the URL to open.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from parley.proto.campaign import CampaignMarker, read_marker, tap_body
from parley.sdk.models import Message

__all__ = ["CampaignOps", "campaign_of"]


def campaign_of(message: Message) -> CampaignMarker | None:
    """The campaign marker of ``message``; None for an ordinary message."""
    return read_marker(message.body) if message.kind == "text" else None


class CampaignOps:
    """Taps on marketing messages' buttons and quick replies."""

    async def send(
        self, conv: str, text: str | None = None, *, kind: str | None = None, body: dict[str, Any] | None = None,
        mentions: Any = (), cmid: str | None = None,
    ) -> Message:  # fmt: skip
        raise NotImplementedError

    def _server_url(self) -> str:
        raise NotImplementedError

    def _absolute(self, url: str) -> str:
        """A tracked link (``/r/<token>``: the server counts the click, then redirects) resolved against
        the server's HTTP address; any other URL as it is."""
        if not url.startswith("/r/"):
            return url
        parts = urllib.parse.urlsplit(self._server_url())
        scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
        return f"{scheme}://{parts.netloc}{url}"

    async def click(self, message: Message, button: str) -> Message | str:
        """Tap ``button`` (its id) of campaign message ``message``: the reply sent in the chat (for a
        ``reply`` or ``opt_out`` button or quick reply), or the URL to open (a ``url`` button: the server's tracked link, which counts the click when opened and
        redirects to the button's target).
        ``ValueError`` if ``message`` is not a campaign message or has no such button. A repeated
        tap on the same button sends nothing new (its ``cmid`` is derived from the message and button)."""
        marker = campaign_of(message)
        if marker is None:
            raise ValueError(f"message {message.mid} is not a campaign message")
        found = marker.button(button)
        if found is None:
            raise ValueError(f"campaign message {message.mid} has no button {button!r}")
        if found.action == "url":
            return self._absolute(found.url)
        return await self.send(
            message.conv, body=tap_body(marker, found), kind="text", cmid=f"tap:{message.mid}:{found.id}"
        )
