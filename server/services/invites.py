"""Group invitations: the ``invite`` add policy ("must accept"), see docs/PROTOCOL.md *Invitations*.

Under an app's ``invite`` add policy a group manager who adds users (``member_add``, or the
members of a new group) adds at once only their *contacts* — users who already share a
conversation with them, who could be reached anyway — and invites everyone else: an
invitation is stored (behind :class:`~parley.server.invites_port.InvitationStore`) and an
``invited`` frame goes to the invitee's connections on every node, through the same
control channel membership events use. The invitee is not a member (no messages, no
history) until they accept; accepting joins through the ordinary add, so the group sees
``members_added`` and the invitee's devices get the usual ``joined`` event.

Rules kept here:

* an invitation lives ``ttl`` seconds; a repeat invitation refreshes it; a user has at
  most ``max_pending`` unanswered ones (more are refused with ``limit_exceeded``, nobody
  added), so invitations cannot bury a user the way forced adds could;
* a user who blocks the inviter (or is blocked by them) never gets the invitation, and
  a block deletes those sent before it either way (``SafetyService.block``), freeing the
  places they held; one that slipped past (a block racing an invite) is hidden from the
  list and cannot be accepted;
* accepting checks the join quota (``join_quota``) at that moment, and that the inviter
  still manages the group (else the invitation lapses: ``not_found``);
* accepting is idempotent and race-safe: the join goes through ``Store.add_members``,
  which adds a member once, so two accepts at once make one join and both succeed;
* direct and support conversations never invite (direct chats are governed by blocking;
  support conversations by the support flow), nor does the admin API (the app's back-end).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from parley.proto import encode, frames
from parley.proto.errors import ErrorCode
from parley.proto.vocabulary import MemberRole
from parley.server.auth.policy import require_manager
from parley.server.channels import Control, control_channel, encode_control
from parley.server.errors import ServiceError
from parley.server.ids import now_ms
from parley.server.invites_port import Invitation, InvitationStore
from parley.server.ports import Broker
from parley.server.safety_port import SafetyStore
from parley.server.services.conversations import ConversationService, ConversationView
from parley.server.services.reach import ReachPolicy
from parley.server.store_ports import Conversations

__all__ = ["InvitationService"]


class InviteStore(InvitationStore, SafetyStore, Conversations, Protocol):
    """The role ports this service uses: invitations, blocks and memberships."""


#: The control ``op`` that only forwards its frame to the user's connections.
NOTIFY = "notify"


class InvitationService:
    """Adds users to groups the way the app's add policy says: directly, or by invitation."""

    def __init__(
        self,
        store: InviteStore,
        broker: Broker,
        conversations: ConversationService,
        reach: ReachPolicy,
        *,
        ttl: int = 7 * 86400,
        max_pending: int = 100,
    ) -> None:
        self._store = store
        self._broker = broker
        self._conversations = conversations
        self._reach = reach
        self._ttl_ms = ttl * 1000
        #: Unanswered invitations one user may have: no one can bury a user in invitations.
        self._max_pending = max_pending

    # ------------------------------------------------------------- adding
    async def strangers(self, app: str, actor: str, kind: str, users: Sequence[str]) -> list[str]:
        """Those of ``users`` that ``actor`` must invite rather than add: none unless the app's
        add policy is ``invite`` and ``kind`` is ``group``; else those sharing no conversation
        with ``actor``."""
        others = [u for u in dict.fromkeys(users) if u != actor]
        if kind != "group" or not others or (await self._reach.policy(app)).add != "invite":
            return []
        contacts = await self._store.shared_with(app, actor, others)
        return [u for u in others if u not in contacts]

    async def create(
        self,
        app: str,
        actor: str,
        kind: str,
        members: Sequence[str],
        *,
        name: str = "",
        meta: dict[str, Any] | None = None,
    ) -> ConversationView:
        """:meth:`ConversationService.create`, with the members ``actor`` must invite invited."""
        invited = await self.strangers(app, actor, kind, members)
        await self._admissible(app, actor, invited, now_ms())  # before the group exists
        direct = [u for u in members if u not in invited]
        view = await self._conversations.create(app, actor, kind, direct, name=name, meta=meta)
        await self.invite(app, actor, view.conversation.conv, invited)
        return view

    async def add_members(self, app: str, actor: str, conv: str, users: Sequence[str], role: str) -> None:
        """:meth:`ConversationService.add_members`, with the users ``actor`` must invite invited."""
        invited = await self.strangers(app, actor, "group", users)
        if invited:  # only under the invite policy: then a direct or support conversation adds
            conversation = await self._store.get_conversation(app, conv)
            if conversation is not None and conversation.kind != "group":
                invited = []
        if invited:
            await self.invite(app, actor, conv, invited, role)
        direct = [u for u in users if u not in invited]
        if direct or not invited:  # an empty add still answers like one (permissions, not_found)
            await self._conversations.add_members(app, actor, conv, direct, role)

    async def invite(
        self, app: str, actor: str, conv: str, users: Sequence[str], role: str = "member"
    ) -> None:
        """``actor`` (a manager of group ``conv``) invites ``users``; members are skipped.
        Raises ``blocked`` if one of them blocks ``actor`` (or is blocked by them), and
        ``limit_exceeded`` if one already has ``max_pending`` unanswered invitations."""
        if not users:
            return
        conversation = await self._store.get_conversation(app, conv)
        if conversation is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no conversation {conv}")
        require_manager(conversation, await self._store.get_member(app, conv, actor))
        if role == MemberRole.OWNER:
            raise ServiceError(
                ErrorCode.INVALID_REQUEST, "ownership is transferred with member_role, not granted on add"
            )
        members = {m.user for m in await self._store.list_members(app, conv)}
        now = now_ms()
        fresh = [u for u in dict.fromkeys(users) if u not in members]
        await self._admissible(app, actor, fresh, now)
        invitations = [Invitation(app, conv, u, actor, role, now, now + self._ttl_ms) for u in fresh]
        await self._store.put_invitations(invitations)
        for invitation in invitations:
            info = _info(invitation, conversation.name)
            frame = encode(frames.Invited(invitation=info))
            control = Control(op=NOTIFY, app=app, user=invitation.user, conv=conv, frame=frame)
            self._broker.publish(control_channel(app, invitation.user), encode_control(control))

    async def _admissible(self, app: str, actor: str, users: Sequence[str], now: int) -> None:
        """Raise unless ``actor`` may invite every one of ``users`` now (blocks, pending cap)."""
        if not users:
            return
        for b in await self._store.blocks_between(app, actor, users):
            other = b.blocker if b.blocked == actor else b.blocked
            raise ServiceError(ErrorCode.BLOCKED, f"{other} cannot be invited by you")
        pending = await self._store.count_invitations(app, users, now)
        full = [u for u in users if pending.get(u, 0) >= self._max_pending]
        if full:
            shown = ", ".join(full[:5]) + (f" and {len(full) - 5} more" if len(full) > 5 else "")
            raise ServiceError(
                ErrorCode.LIMIT_EXCEEDED,
                f"{shown}: {self._max_pending} unanswered invitations already; try later",
            )

    # ---------------------------------------------------------- the invitee
    async def accept(self, app: str, user: str, conv: str) -> ConversationView:
        """``user`` accepts the invitation to ``conv`` and joins; idempotent once a member."""
        if await self._conversations.is_member(app, conv, user):
            await self._store.delete_invitation(app, conv, user)
            return await self._conversations.view(app, conv)
        invitation = await self._store.get_invitation(app, conv, user, now_ms())
        if invitation is None or await self._store.blocks_between(app, user, [invitation.inviter]):
            raise ServiceError(ErrorCode.NOT_FOUND, f"no pending invitation to {conv}")
        await self._reach.check_join_quota(app, [user])
        try:
            await self._conversations.add_members(app, invitation.inviter, conv, [user], invitation.role)
        except ServiceError as exc:
            if exc.code not in (ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND):
                raise  # e.g. the group is full: the invitation stays for a later try
            # The inviter no longer manages the group (or it is gone): the invitation lapsed.
            await self._store.delete_invitation(app, conv, user)
            raise ServiceError(ErrorCode.NOT_FOUND, f"the invitation to {conv} is no longer valid") from exc
        await self._store.delete_invitation(app, conv, user)
        return await self._conversations.view(app, conv)

    async def decline(self, app: str, user: str, conv: str) -> None:
        """``user`` declines (removes) the invitation to ``conv``; nothing happens if there is none."""
        await self._store.delete_invitation(app, conv, user)

    async def pending(
        self, app: str, user: str, *, after: str, limit: int
    ) -> tuple[list[frames.InvitationInfo], bool]:
        """A page of ``user``'s pending invitations by conversation id, and whether more follow.
        Invitations from users blocked either way are left out (and removed)."""
        now = now_ms()
        await self._store.purge_invitations(app, user, now)
        found = await self._store.list_invitations(app, user, now, after=after, limit=limit + 1)
        page, more = found[:limit], len(found) > limit
        hidden = {
            b.blocker if b.blocked == user else b.blocked
            for b in await self._store.blocks_between(app, user, {i.inviter for i in page})
        }
        shown = []
        for invitation in page:
            if invitation.inviter in hidden:
                await self._store.delete_invitation(app, invitation.conv, user)
                continue
            conversation = await self._store.get_conversation(app, invitation.conv)
            if conversation is None:
                continue
            shown.append(_info(invitation, conversation.name))
        return shown, more


def _info(invitation: Invitation, name: str) -> frames.InvitationInfo:
    return frames.InvitationInfo(
        conv=invitation.conv,
        inviter=invitation.inviter,
        name=name,
        role=invitation.role,
        created=invitation.created,
        expires=invitation.expires,
    )
