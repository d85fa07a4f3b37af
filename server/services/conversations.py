"""Conversations and membership: direct, group and support.

Every membership change is recorded twice: as a ``system`` message in the
conversation (so members who sync later see it) and as a control event on each
affected user's control channel (so their live connections start or stop
receiving the conversation).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from parley.proto import encode, frames
from parley.proto.errors import ErrorCode
from parley.proto.ids import is_user_id
from parley.proto.vocabulary import MemberRole, SupportState
from parley.server.auth.policy import require_manager, require_member
from parley.server.channels import Control, control_channel, conv_channel, encode_control
from parley.server.errors import ServiceError
from parley.server.ids import new_id, now_ms
from parley.server.models import Conversation, Member, StoredMessage, Ticket
from parley.server.ports import Broker
from parley.server.services.messages import MessageService
from parley.server.services.wire import conv_info, preview
from parley.server.store_ports import Conversations, MessageLog, Tickets

__all__ = ["ConversationService", "ConversationView"]


class ConversationStore(Conversations, MessageLog, Tickets, Protocol):
    """The role ports this service uses: conversations, their first messages and support tickets."""


KINDS = frozenset({"direct", "group", "support"})


@dataclass(frozen=True, slots=True)
class ConversationView:
    """A conversation as shown to its members, with its member list."""

    conversation: Conversation
    members: list[Member]

    def info(self) -> frames.ConvInfo:
        """The wire record with the full member list (for the requester, not for broadcast)."""
        return conv_info(self.conversation, self.members)

    def event_info(self) -> frames.ConvInfo:
        """Details and the member count, not the list: what every member's event carries."""
        return conv_info(self.conversation, member_count=len(self.members))


class ConversationService:
    """Conversations and membership. Each change is stored first, then recorded as a ``system``
    message and announced: joins and leaves on the affected users' control channels, other
    changes on the conversation's channel.
    """

    def __init__(
        self,
        store: ConversationStore,
        broker: Broker,
        messages: MessageService,
        *,
        max_members: int,
        support_bot: str = "",
        preview_bytes: int = 1024,
    ) -> None:
        self._store = store
        self._broker = broker
        self._messages = messages
        self._max_members = max_members
        #: Bot user that joins every support conversation (as admin); "" for none.
        self._support_bot = support_bot
        #: Largest last-message preview in a conversation list (a list must stay small).
        self._preview_bytes = preview_bytes

    async def _load(self, app: str, conv: str) -> Conversation:
        found = await self._store.get_conversation(app, conv)
        if found is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no conversation {conv}")
        return found

    async def _load_shown(self, app: str, conv: str) -> Conversation:
        """The conversation as members are shown it: a support conversation's
        ``meta.support`` is the ticket's. The ticket is the truth; the stored meta can lag it
        (a conv_update's read-modify-write racing a transition), what is shown never does."""
        conversation = await self._load(app, conv)
        if conversation.may_have_ticket:
            ticket = await self._store.get_ticket(app, conv)
            if ticket is not None and conversation.meta.get("support") != ticket.public():
                meta = {**conversation.meta, "support": ticket.public()}
                conversation = dataclasses.replace(conversation, meta=meta)
        return conversation

    async def view(self, app: str, conv: str) -> ConversationView:
        """The conversation as shown (support meta from its ticket) with every member; no access check."""
        conversation = await self._load_shown(app, conv)
        return ConversationView(conversation, await self._store.list_members(app, conv))

    async def get(self, app: str, actor: str, conv: str) -> ConversationView:
        """The conversation with its members; ``actor`` must be a member."""
        require_member(await self._store.get_member(app, conv, actor), conv)
        return await self.view(app, conv)

    async def member_page(
        self, app: str, actor: str, conv: str, *, after: str, limit: int
    ) -> tuple[list[Member], bool]:
        """Up to ``limit`` members after user id ``after``, and whether more follow; ``actor`` must be one."""
        require_member(await self._store.get_member(app, conv, actor), conv)
        page = await self._store.member_page(app, conv, after, limit + 1)
        return page[:limit], len(page) > limit

    async def member(self, app: str, conv: str, user: str) -> Member | None:
        """``user``'s membership row in ``conv``; None if not a member."""
        return await self._store.get_member(app, conv, user)

    async def memberships(self, app: str, user: str) -> list[tuple[Conversation, Member]]:
        """Every conversation ``user`` is a member of, with the membership row (unfiltered:
        what the gateway subscribes a connection to)."""
        return await self._store.list_user_conversations(app, user)

    async def is_member(self, app: str, conv: str, user: str) -> bool:
        """Whether ``user`` is a member of ``conv`` now (a store read, not a cache)."""
        return await self._store.get_member(app, conv, user) is not None

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
        """Create a conversation owned by ``actor``; a direct one is unique per pair."""
        if kind not in KINDS:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"kind must be one of {sorted(KINDS)}")
        others = [u for u in dict.fromkeys(members) if u != actor]
        now = now_ms()
        direct_key = None
        if kind == "direct":
            if len(others) != 1:
                raise ServiceError(
                    ErrorCode.INVALID_REQUEST, "a direct conversation has exactly one other member"
                )
            if not (is_user_id(actor) and is_user_id(others[0])):
                raise ServiceError(ErrorCode.INVALID_REQUEST, "user ids must be in the user-id charset")
            # Unambiguous: no user id contains a newline (``parley.proto.ids``).
            direct_key = "\n".join(sorted([actor, others[0]]))
            rows = [Member(app, "", u, MemberRole.MEMBER, now) for u in (actor, others[0])]
        else:
            if len(others) + 1 > self._max_members:
                raise ServiceError(
                    ErrorCode.LIMIT_EXCEEDED, f"a conversation has at most {self._max_members} members"
                )
            rows = [Member(app, "", actor, MemberRole.OWNER, now)] + [
                Member(app, "", u, MemberRole.MEMBER, now) for u in others
            ]
            if kind == "support":
                # Only the service side is privileged: the support bot joins as admin (agents
                # join when they claim). Users the customer names are plain members, like the
                # customer, so a customer can never bring in someone who moderates or removes
                # the bot.
                service = [self._support_bot] if self._support_bot and self._support_bot != actor else []
                rows = [Member(app, "", actor, MemberRole.MEMBER, now)] + [
                    Member(app, "", u, MemberRole.ADMIN, now) for u in service
                ]
                rows += [Member(app, "", u, MemberRole.MEMBER, now) for u in others if u not in service]
                state = {"state": SupportState.BOT, "agent": "", "reason": "", "summary": ""}
                meta = {**(meta or {}), "support": state}
        draft = Conversation(
            app=app,
            conv=new_id("c"),
            kind=kind,
            epoch=secrets.token_hex(4),
            created=now,
            name=name,
            meta=meta or {},
            created_by=actor,
            direct_key=direct_key,
        )
        rows = [Member(app, draft.conv, m.user, m.role, m.joined) for m in rows]
        stored = await self._store.create_conversation(draft, rows)
        if stored.conv != draft.conv:  # the pair already had a direct conversation
            view = await self.view(app, stored.conv)
            # The key says whose it is, but a row written under an older key scheme (ids
            # were not restricted, so "a\nb"+"c" met "a"+"b\nc") must never hand a
            # conversation to someone who is not one of its two members.
            if not {actor, *others} <= {m.user for m in view.members}:  # (+ support staff on the brand's)
                raise ServiceError(
                    ErrorCode.FORBIDDEN, "a direct conversation under this key belongs to other users"
                )
            return view
        if kind == "support":
            await self._store.save_ticket(
                Ticket(
                    app=app,
                    conv=stored.conv,
                    customer=actor,
                    state=SupportState.BOT,
                    created=now,
                    updated=now,
                )
            )
        if kind != "direct":
            await self._messages.system_event(app, stored.conv, actor, "created", name=name)
        view = await self.view(app, stored.conv)
        self._announce(app, "join", view, [m.user for m in rows])
        return view

    async def create_internal(self, app: str, *, name: str, meta: dict[str, Any]) -> Conversation:
        """A group without members (e.g. a ticket's agents-only notes), for services to fill."""
        draft = Conversation(
            app=app, conv=new_id("c"), kind="group", epoch=secrets.token_hex(4), created=now_ms(),
            name=name, meta=meta, created_by="", direct_key=None,
        )  # fmt: skip
        return await self._store.create_conversation(draft, [])

    async def add_members(
        self,
        app: str,
        actor: str,
        conv: str,
        users: Sequence[str],
        role: str = MemberRole.MEMBER,
        *,
        as_service: bool = False,
    ) -> list[str]:
        """Add users (owner/admin only, or the app's back-end with ``as_service``)."""
        conversation = await self._load(app, conv)
        if not as_service:
            require_manager(conversation, await self._store.get_member(app, conv, actor))
        elif conversation.kind == "direct" and not conversation.may_have_ticket:  # the brand's: bot, agents
            raise ServiceError(ErrorCode.FORBIDDEN, "members of a direct conversation cannot change")
        if role == MemberRole.OWNER:
            raise ServiceError(
                ErrorCode.INVALID_REQUEST, "ownership is transferred with member_role, not granted on add"
            )
        current = await self._store.list_members(app, conv)
        # Only newcomers count: re-adding a member is a no-op (a retried add), not "full".
        newcomers = set(users) - {m.user for m in current}
        if len(current) + len(newcomers) > self._max_members:
            raise ServiceError(
                ErrorCode.LIMIT_EXCEEDED, f"a conversation has at most {self._max_members} members"
            )
        now = now_ms()
        added = await self._store.add_members([Member(app, conv, u, role, now) for u in dict.fromkeys(users)])
        if added:
            users_added = [m.user for m in added]
            await self._messages.system_event(app, conv, actor, "members_added", users=users_added, role=role)
            self._announce(app, "join", await self.view(app, conv), users_added)
        return [m.user for m in added]

    async def remove_members(
        self, app: str, actor: str, conv: str, users: Sequence[str], *, as_service: bool = False
    ) -> list[str]:
        """Remove users (managers only; only the owner removes the owner; the back-end with
        ``as_service``). Returns those that were members; only they are announced.
        """
        conversation = await self._load(app, conv)
        if not as_service:
            manager = require_manager(conversation, await self._store.get_member(app, conv, actor))
            for user in users:
                target = await self._store.get_member(app, conv, user)
                if target and target.role == MemberRole.OWNER and manager.role != MemberRole.OWNER:
                    raise ServiceError(ErrorCode.FORBIDDEN, "only the owner may remove the owner")
        elif conversation.kind == "direct":
            raise ServiceError(ErrorCode.FORBIDDEN, "members of a direct conversation cannot change")
        removed = await self._store.remove_members(app, conv, users)
        if removed:
            await self._messages.system_event(app, conv, actor, "members_removed", users=removed)
            self._announce(app, "leave", await self.view(app, conv), removed)
        return removed

    async def leave(self, app: str, actor: str, conv: str) -> None:
        """``actor`` leaves (not a direct conversation); an owner who leaves hands ownership to the
        earliest admin, else the earliest member. ``ServiceError`` if not a member.
        """
        conversation = await self._load(app, conv)
        member = require_member(await self._store.get_member(app, conv, actor), conv)
        if conversation.kind == "direct":
            raise ServiceError(ErrorCode.FORBIDDEN, "a direct conversation cannot be left")
        await self._store.remove_members(app, conv, [actor])
        if member.role == MemberRole.OWNER:
            remaining = sorted(
                await self._store.list_members(app, conv),
                key=lambda m: (m.role != MemberRole.ADMIN, m.joined),
            )
            if remaining:
                await self._store.set_member_role(app, conv, remaining[0].user, MemberRole.OWNER)
        await self._messages.system_event(app, conv, actor, "member_left", user=actor)
        self._announce(app, "leave", await self.view(app, conv), [actor])

    async def set_role(self, app: str, actor: str, conv: str, user: str, role: str) -> None:
        """Only the owner changes roles; making someone owner demotes the actor to admin."""
        conversation = await self._load(app, conv)
        me = require_manager(conversation, await self._store.get_member(app, conv, actor))
        if me.role != MemberRole.OWNER:
            raise ServiceError(ErrorCode.FORBIDDEN, "only the owner may change roles")
        if user == actor:
            raise ServiceError(ErrorCode.INVALID_REQUEST, "the owner cannot change their own role")
        if not await self._store.set_member_role(app, conv, user, role):
            raise ServiceError(ErrorCode.NOT_FOUND, f"{user} is not a member of {conv}")
        if role == MemberRole.OWNER:
            await self._store.set_member_role(app, conv, actor, MemberRole.ADMIN)
        await self._messages.system_event(app, conv, actor, "role_changed", user=user, role=role)
        self._broadcast_update(app, await self.view(app, conv))

    async def update(
        self,
        app: str,
        actor: str,
        conv: str,
        *,
        name: str | None,
        meta: dict[str, Any] | None,
        as_service: bool = False,
    ) -> ConversationView:
        """Set name and/or replace meta (managers, or the back-end); ``meta.support`` cannot change
        here (FORBIDDEN). Records a ``system`` message, broadcasts the update, returns the view.
        """
        conversation = await self._load_shown(app, conv)
        if not as_service:
            require_manager(conversation, await self._store.get_member(app, conv, actor))
        if meta is not None and conversation.may_have_ticket:
            # meta.support mirrors the ticket and only the support service writes it
            # (through the store), so the two can never disagree.
            current = conversation.meta.get("support")
            if "support" in meta and meta["support"] != current:
                raise ServiceError(
                    ErrorCode.FORBIDDEN, "meta.support follows the ticket; use the support frames"
                )
            meta = {**meta, "support": current} if current is not None else meta
        await self._store.update_conversation(app, conv, name=name, meta=meta)
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if meta is not None:
            changes["meta"] = meta
        await self._messages.system_event(app, conv, actor, "updated", **changes)
        view = await self.view(app, conv)
        self._broadcast_update(app, view)
        return view

    async def list_for_user(
        self, app: str, user: str, *, after: str = "", limit: int | None = None
    ) -> tuple[list[frames.ConvSummary], bool]:
        """A page of the user's conversations in id order after ``after`` (all when ``limit``
        is None), with unread counts and a bounded last-message preview; and whether more
        pages follow. A list that fits one page comes newest activity first."""
        rows = [(c, m) for c, m in await self._store.list_user_conversations(app, user) if c.conv > after]
        if limit is None:
            limit = len(rows)
        page, more = rows[:limit], len(rows) > limit
        summaries = []
        for conversation, member in page:
            last: StoredMessage | None = None
            if conversation.last_seq:
                found = await self._store.get_messages(
                    app, conversation.conv, conversation.last_seq, conversation.last_seq
                )
                last = found[0] if found else None
            summaries.append(
                frames.ConvSummary(
                    conv=conversation.conv,
                    kind=conversation.kind,
                    name=conversation.name,
                    last_seq=conversation.last_seq,
                    read=member.read_seq,
                    unread=max(0, conversation.last_seq - member.read_seq),
                    last=preview(last, self._preview_bytes) if last else None,
                )
            )
        if not more and not after:  # the whole list: newest activity first
            summaries.sort(key=lambda s: s.last.ts if s.last else 0, reverse=True)
        return summaries, more

    def _announce(self, app: str, op: str, view: ConversationView, users: Sequence[str]) -> None:
        event: Literal["joined", "left"] = "joined" if op == "join" else "left"
        # One frame per affected user: it must not grow with the group (no member list).
        frame = encode(frames.ConvEvent(event=event, conv=view.event_info()))
        for user in users:
            control = Control(op=op, app=app, user=user, conv=view.conversation.conv, frame=frame)
            self._broker.publish(control_channel(app, user), encode_control(control))

    def _broadcast_update(self, app: str, view: ConversationView) -> None:
        frame = encode(frames.ConvEvent(event="updated", conv=view.event_info()))
        self._broker.publish(conv_channel(app, view.conversation.conv), frame)
