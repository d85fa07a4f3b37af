"""Moderation by the app (its back-end, through the admin API): disable and re-enable users,
revoke their tokens, mute members, rotate the token secret, manage API keys — every action
written to the audit log.

Live connections learn of a disable or revocation through a ``close`` control event on the
user's control channel, so the user's connections on every node are closed at once (see
:mod:`parley.server.gateway.enforce`); a mute publishes ``recheck`` so the member's next
write is checked (see :mod:`parley.server.services.safety`).
"""

from __future__ import annotations

import math
import os
import secrets
import time
from typing import Any, Protocol

from parley.proto import encode, frames
from parley.proto.errors import CloseCode, ErrorCode, action_for
from parley.server.auth.tokens import TokenVerifier
from parley.server.channels import Control, control_channel, encode_control
from parley.server.errors import ServiceError
from parley.server.ids import now_ms
from parley.server.ports import Broker
from parley.server.safety_models import ApiKeyRecord, AuditRecord, Mute, RetiredSecret, UserStatus
from parley.server.safety_port import SafetyStore
from parley.server.services.apps import AppService, hash_key
from parley.server.services.safety import SafetyService
from parley.server.store_ports import Conversations

__all__ = ["KEY_ID_LENGTH", "ModerationService", "key_id"]


class ModerationStore(SafetyStore, Conversations, Protocol):
    """The role ports this service uses: the abuse controls and conversations."""


#: Hex digits of an API key's SHA-256 digest that name it (in listings, revocations, the audit).
KEY_ID_LENGTH = 12


def key_id(key: str) -> str:
    """The public id of an API key: a prefix of its digest (the key itself is never shown again)."""
    return hash_key(key)[:KEY_ID_LENGTH]


class ModerationService:
    """The app's moderation actions; ``actor`` names who acted (``key:<id>``) in the audit log."""

    def __init__(
        self,
        store: ModerationStore,
        broker: Broker,
        *,
        tokens: TokenVerifier,
        apps: AppService,
        safety: SafetyService,
        mute_max: int,
        secret_overlap: int,
        overlap_max: int,
    ) -> None:
        self._store = store
        self._broker = broker
        self._tokens = tokens
        self._apps = apps
        self._safety = safety
        self._mute_max = mute_max
        self._secret_overlap = secret_overlap
        self._overlap_max = overlap_max
        #: The time part of the last audit record id written by this node (ms).
        self._last_stamp = 0

    # ---------------------------------------------------------------- audit
    async def audit(self, app: str, actor: str, action: str, target: str, **detail: Any) -> None:
        """Append one record to the app's audit log."""
        ts = now_ms()
        # The id sorts by time (the listing's cursor); strictly increasing on this node, so
        # actions within one millisecond are listed in the order they happened.
        self._last_stamp = stamp = max(ts, self._last_stamp + 1)
        record_id = f"{stamp:013d}-{os.urandom(4).hex()}"
        await self._store.add_audit(AuditRecord(app, record_id, ts, actor, action, target, detail))

    async def audit_page(
        self,
        app: str,
        *,
        after: str,
        limit: int,
        actor: str = "",
        action: str = "",
        target: str = "",
        since: int = 0,
        until: int = 0,
    ) -> tuple[list[AuditRecord], bool]:
        """Records after the cursor ``after`` (a record id; "" from the start), of ``actor`` and
        ``target`` (exact) and actions starting with ``action``, with ``since <= ts < until`` (ms;
        0: no bound), and whether more follow."""
        # Ids start with the zero-padded ms: a time range is an id range (no extra index).
        start = max(after, f"{since:013d}" if since else "")
        records = await self._store.list_audit(
            app, after=start, limit=limit + 1, actor=actor, action=action, target=target,
            before=f"{until:013d}" if until else "",
        )  # fmt: skip
        return records[:limit], len(records) > limit

    # ---------------------------------------------------------------- users
    async def status(self, app: str, user: str) -> UserStatus:
        """The user's moderation status (a default one if moderators never acted)."""
        return await self._store.get_user_status(app, user) or UserStatus(app, user)

    async def disable(self, app: str, actor: str, user: str, reason: str) -> UserStatus:
        """Ban ``user``: close their connections on every node (4010) and refuse their tokens."""
        status = await self._save(app, user, disabled=True, reason=reason)
        await self.audit(app, actor, "user.disable", user, reason=reason)
        self._close(
            app, user, ErrorCode.USER_DISABLED, CloseCode.USER_DISABLED, "this user is disabled by the app"
        )
        return status

    async def enable(self, app: str, actor: str, user: str) -> UserStatus:
        """Lift a ban: new connections are accepted again."""
        status = await self._save(app, user, disabled=False, reason="")
        await self.audit(app, actor, "user.enable", user)
        return status

    async def revoke_tokens(self, app: str, actor: str, user: str, before: int | None) -> UserStatus:
        """Refuse ``user``'s tokens issued before ``before`` (seconds; default: up to now, this
        second included) and close the connections made with them (4011, reconnect with a new one)."""
        cutoff = math.ceil(time.time()) if before is None else before
        if not 0 <= cutoff <= 2**53:
            raise ServiceError(ErrorCode.INVALID_REQUEST, "before must be seconds since the epoch")
        status = await self._save(app, user, tokens_before=cutoff)
        await self.audit(app, actor, "user.revoke_tokens", user, before=cutoff)
        self._close(
            app,
            user,
            ErrorCode.TOKEN_REVOKED,
            CloseCode.TOKEN_REVOKED,
            "token revoked by the app",
            before=cutoff,
        )
        return status

    async def _save(self, app: str, user: str, **changes: Any) -> UserStatus:
        current = await self.status(app, user)
        fields = {
            "disabled": current.disabled,
            "reason": current.reason,
            "tokens_before": current.tokens_before,
            **changes,
        }
        status = UserStatus(app, user, updated=now_ms(), **fields)
        await self._store.save_user_status(status)
        return status

    def _close(
        self, app: str, user: str, error: ErrorCode, code: CloseCode, message: str, *, before: int = 0
    ) -> None:
        frame = encode(frames.Error(code=error.value, message=message, action=action_for(error.value).value))
        control = Control(
            op="close",
            app=app,
            user=user,
            conv="",
            frame=frame,
            code=int(code),
            reason=message,
            before=before,
        )
        self._broker.publish(control_channel(app, user), encode_control(control))

    # ---------------------------------------------------------------- mutes
    async def mute(self, app: str, actor: str, conv: str, user: str, seconds: int, reason: str) -> Mute:
        """Refuse ``user``'s writes into ``conv`` (``muted``) for ``seconds``."""
        if not 1 <= seconds <= self._mute_max:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"seconds must be between 1 and {self._mute_max}")
        if await self._store.get_conversation(app, conv) is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no conversation {conv}")
        now = now_ms()
        mute = Mute(app, conv, user, until=now + seconds * 1000, reason=reason, created=now)
        await self._store.save_mute(mute)
        await self.audit(app, actor, "member.mute", user, conv=conv, seconds=seconds, reason=reason)
        self._safety.recheck(app, user)
        return mute

    async def unmute(self, app: str, actor: str, conv: str, user: str) -> None:
        """Lift a mute (``not_found`` if there is none)."""
        if not await self._store.remove_mute(app, conv, user):
            raise ServiceError(ErrorCode.NOT_FOUND, f"{user} is not muted in {conv}")
        await self.audit(app, actor, "member.unmute", user, conv=conv)

    async def mutes(self, app: str, conv: str) -> list[Mute]:
        """The conversation's mutes that have not ended yet."""
        now = now_ms()
        return [m for m in await self._store.list_mutes(app, conv) if m.until > now]

    # ------------------------------------------------------- secrets and keys
    async def rotate_secret(self, app: str, actor: str, overlap: int | None) -> tuple[str, int]:
        """A new token secret; the old one (and any earlier one) stays valid ``overlap`` seconds.
        Returns ``(secret, until)`` with ``until`` in ms."""
        seconds = self._secret_overlap if overlap is None else overlap
        if not 0 <= seconds <= self._overlap_max:
            raise ServiceError(
                ErrorCode.INVALID_REQUEST, f"overlap must be between 0 and {self._overlap_max} s"
            )
        current = await self._apps.get_app(app)
        secret = secrets.token_urlsafe(32)
        until = now_ms() + seconds * 1000
        if not await self._store.rotate_secret(app, secret, RetiredSecret(app, current.secret, until)):
            raise ServiceError(ErrorCode.NOT_FOUND, f"no app {app}")
        self._tokens.keyrings.forget(app)
        await self.audit(app, actor, "app.rotate_secret", app, overlap=seconds)
        return secret, until

    async def api_keys(self, app: str) -> list[ApiKeyRecord]:
        """The app's API keys (digests), oldest first."""
        return await self._store.list_api_keys(app)

    async def create_api_key(self, app: str, actor: str) -> str:
        """Another API key for the app (shown once)."""
        key = await self._apps.add_key(app)
        await self.audit(app, actor, "key.create", key_id(key))
        return key

    async def revoke_api_key(self, app: str, actor: str, kid: str) -> None:
        """Revoke the key whose id is ``kid`` (``not_found`` if the app has none such)."""
        for record in await self._store.list_api_keys(app):
            if record.key_hash[:KEY_ID_LENGTH] == kid and await self._store.remove_api_key(
                app, record.key_hash
            ):
                await self.audit(app, actor, "key.revoke", kid)
                return
        raise ServiceError(ErrorCode.NOT_FOUND, f"no API key {kid}")
