#!/usr/bin/env python
"""Fill the field tables of ``docs/PROTOCOL.md`` from the msgspec Structs in ``proto/frames.py``.

Usage: ``python scripts/gen_protocol_tables.py [--check]``

The doc holds prose; each table sits between ``<!-- fields:Name -->`` and
``<!-- /fields -->`` markers and is rewritten from the Struct ``Name``: field,
wire type with its bounds, required or default, and the meaning given in
:data:`MEANINGS` below. ``--check`` exits 1 if the doc is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import msgspec
import msgspec.inspect as mi

from parley.proto import frames

DOC = Path(__file__).resolve().parent.parent / "docs" / "PROTOCOL.md"
MARKER = re.compile(r"(<!-- fields:(\w+) -->\n)(.*?)(<!-- /fields -->)", re.S)

#: (struct name, field) -> meaning. ``*`` applies to any struct.
MEANINGS: dict[tuple[str, str], str] = {
    ("*", "id"): "Request id chosen by the client; the reply carries the same `id`.",
    ("*", "conv"): "Conversation id.",
    ("*", "t"): "Frame type.",
    ("Track", "event"): "Event name, declared in the app's audience schema.",
    ("Track", "props"): "Properties, as declared for the event (name → value of its type).",
    ("Track", "ts"): "When it happened (ms since the epoch); 0 = the server's now.",
    (
        "Track",
        "eid",
    ): "The client's event id (idempotency key); empty: the server makes one (a re-send may then store twice).",
    ("TrackResult", "id"): "The `track` request's id.",
    ("TrackResult", "eid"): "The stored event's id.",
    ("TrackResult", "dup"): "An event with this `eid` was stored before; this one was ignored.",
    ("Identify", "identifiers"): "Identifiers of the signed-in user (its user id is always one, implied).",
    ("Identified", "pid"): "The user's profile id (after any merge).",
    ("Identified", "merged"): "How many other profiles were merged into it by this request.",
    ("IdentifierInput", "kind"): "`phone`, `email`, `union`, `device` or `cookie`.",
    ("IdentifierInput", "value"): "As typed: the server normalises it (E.164 phone, lower-case email).",
    ("ProfileSet", "attributes"): "Attribute → value (`null` unsets); each declared in the app's schema.",
    ("ProfileSet", "timezone"): 'IANA time zone, e.g. `"Europe/Paris"` (`""` clears; absent: unchanged).',
    ("ProfileSet", "language"): 'BCP 47 language tag, e.g. `"pt-BR"` (`""` clears; absent: unchanged).',
    ("ConsentSet", "topic"): "A consent topic the app declared, e.g. `marketing:sms`.",
    ("ConsentSet", "granted"): "`true` grants; `false` withdraws (or denies, if never granted).",
    # records
    ("Message", "conv"): "Conversation the message belongs to.",
    ("Message", "seq"): "Position in the conversation: 1, 2, 3… dense and strictly increasing.",
    ("Message", "mid"): "Server-assigned globally unique message id.",
    ("Message", "sender"): "User id of the sender (for `system`/`edit`/`recall`: the user who acted).",
    ("Message", "kind"): "`text`, `rich`, `custom`, `system`, `edit` or `recall` (see *Message kinds*).",
    ("Message", "body"): "Content; shape depends on `kind`.",
    ("Message", "ts"): "Server time the message was stored (ms since the epoch).",
    ("Message", "cmid"): "The sender's client message id (idempotency key); server-made for `edit`/`recall`.",
    ("Message", "mentions"): "User ids mentioned.",
    ("Message", "edited"): "When the message was last edited (ms), 0 if never. Current state, in history.",
    ("Message", "recalled"): "The message was recalled; its body is then empty. Current state, in history.",
    ("Position", "conv"): "Conversation id.",
    ("Position", "seq"): "Last seq the client has seen contiguously (0: nothing yet).",
    ("Position", "epoch"): "Stream epoch the seq belongs to, as last received (empty if unknown).",
    ("MemberInfo", "user"): "User id.",
    ("MemberInfo", "role"): "`owner`, `admin` or `member`.",
    ("MemberInfo", "read"): "The member's read position (highest seq read).",
    ("ConvInfo", "kind"): "`direct`, `group` or `support`.",
    ("ConvInfo", "name"): "Display name.",
    ("ConvInfo", "meta"): "Application data attached to the conversation.",
    ("ConvInfo", "epoch"): "Current stream epoch; changes when the stream is reset.",
    ("ConvInfo", "last_seq"): "Seq of the newest message (0: empty).",
    ("ConvInfo", "created"): "Creation time (ms).",
    (
        "ConvInfo",
        "members",
    ): "Members and their read positions; empty in `conv_event` (fetch them with `member_list`).",
    ("ConvInfo", "member_count"): "How many members the conversation has.",
    ("ConvList", "after"): 'Return conversations whose id sorts after this one (`""`: from the first).',
    ("ConvList", "limit"): "Page size.",
    (
        "ConvListResult",
        "more",
    ): "More conversations follow: ask again with `after` = the last `conv` of this page.",
    ("Sync", "after"): "Only conversations whose id sorts after this one (the `next` of the previous page).",
    ("Synced", "next"): "Non-empty: more conversations follow; sync again with `after` = `next`.",
    ("MemberList", "after"): 'Return members whose user id sorts after this one (`""`: from the first).',
    ("MemberList", "limit"): "Page size.",
    ("MemberPage", "members"): "Members in user id order.",
    ("MemberPage", "more"): "More members follow: ask again with `after` = the last user id.",
    ("ConvSummary", "kind"): "`direct`, `group` or `support`.",
    ("ConvSummary", "name"): "Display name.",
    ("ConvSummary", "last_seq"): "Seq of the newest message.",
    ("ConvSummary", "read"): "The user's read position.",
    ("ConvSummary", "unread"): "`last_seq − read`, never below 0 (see *Unread counts*).",
    ("ConvSummary", "last"): "The newest message, absent if the conversation is empty.",
    ("SyncState", "last_seq"): "Newest seq in the conversation now.",
    ("SyncState", "epoch"): "Current stream epoch; store it with the position.",
    ("SyncState", "more"): "Not all missed messages were sent: send another `sync`.",
    ("SyncState", "reset"): "The position cannot be resumed: drop local state, refetch with `history`.",
    # client frames
    ("Hello", "v"): "Protocol version the client speaks.",
    ("Hello", "token"): "JWT issued by the app's backend.",
    ("Hello", "device"): "Client-chosen device id (for presence and multi-device).",
    ("Hello", "client"): "SDK name/version, for diagnostics.",
    ("Ping", "ts"): "Any integer (usually client time in ms); echoed in `pong`.",
    ("Send", "cmid"): "Client message id: unique per sender and conversation; the idempotency key.",
    ("Send", "body"): "Content; must fit `kind` (see *Message kinds*).",
    ("Send", "kind"): "`text`, `rich` or `custom`.",
    ("Send", "mentions"): "User ids mentioned.",
    ("Edit", "seq"): "Seq of the message to edit (the sender's own).",
    ("Edit", "body"): "Replacement body (same kind as the original).",
    ("Recall", "seq"): "Seq of the message to recall.",
    ("Typing", "on"): "`true` while typing, `false` when stopped.",
    ("Read", "seq"): "Highest seq the user has read; read positions never move backwards.",
    ("Sync", "positions"): "The client's positions; conversations it has none for are sent as new.",
    ("Sync", "limit"): "Most messages sent per conversation in this round.",
    ("History", "before"): "Return messages with seq < `before` (newest first page if neither is set).",
    ("History", "after"): "Return messages with seq > `after`.",
    ("History", "limit"): "Page size.",
    ("ConvCreate", "kind"): "`direct`, `group` or `support`.",
    ("ConvCreate", "members"): "Other members (the creator is added as owner).",
    ("ConvCreate", "name"): "Display name.",
    ("ConvCreate", "meta"): "Application data.",
    ("ConvUpdate", "name"): "New name (absent: unchanged).",
    ("ConvUpdate", "meta"): "New meta, replacing the old (absent: unchanged).",
    ("MemberAdd", "users"): "Users to add.",
    ("MemberAdd", "role"): "Role given to them.",
    ("MemberRemove", "users"): "Users to remove.",
    ("MemberRole", "user"): "Member whose role changes.",
    ("MemberRole", "role"): "New role.",
    ("PresenceSub", "users"): "Users to watch.",
    ("PresenceUnsub", "users"): "Users to stop watching.",
    # server frames
    ("Welcome", "v"): "Protocol version in use.",
    ("Welcome", "session"): "Session id (for logs and support).",
    ("Welcome", "app"): "App (tenant) the token belongs to.",
    ("Welcome", "user"): "Authenticated user id.",
    ("Welcome", "node"): "Server node that holds the connection.",
    ("Welcome", "ts"): "Server time (ms); lets the client estimate clock skew.",
    ("SupportHandoff", "reason"): "Why a human is needed (e.g. `asked for a human`, `low confidence`).",
    (
        "SupportHandoff",
        "summary",
    ): "Short summary of the conversation for the agent (the server writes one if empty).",
    ("SupportTransfer", "agent"): "The agent to hand the conversation to.",
    ("SupportRate", "score"): "Satisfaction score, 1 (bad) to 5 (great).",
    ("SupportNote", "text"): "The note; agents see it, the customer never does.",
    ("SupportList", "waiting"): "Conversations waiting for an agent, oldest first.",
    ("SupportList", "mine"): "Conversations the calling agent owns.",
    ("SupportQueueEvent", "conv"): "The support conversation whose ticket entered or left the waiting queue.",
    (
        "SupportQueueEvent",
        "state",
    ): "The ticket's state now: `waiting_for_agent` (in the queue) or another (out of it).",
    ("ProfileGet", "user"): "The customer whose profile to read.",
    ("ProfileTag", "user"): "The customer whose profile to change.",
    ("ProfileTag", "add"): "Tags to add or replace (by name).",
    ("ProfileTag", "remove"): "Names of tags to remove.",
    (
        "ProfileTag",
        "attributes",
    ): "Structured attributes merged into the profile key by key (e.g. an LLM extraction).",
    (
        "ProfileTag",
        "source",
    ): "Bots only: `model`, `rule` or `bot` (default) recorded on the added tags; agents always record `agent`.",
    ("ProfileResult", "profile"): "The profile.",
    ("TagInput", "name"): "Tag name, e.g. `interest:skincare`.",
    ("TagInput", "confidence"): "How sure, 0–1.",
    ("TagInput", "ttl"): "Seconds until the tag expires; 0 = never.",
    ("TagInput", "evidence"): "Id of the message the tag was derived from.",
    ("Tag", "name"): "Tag name.",
    ("Tag", "source"): "Who set it: `rule`, `model`, `agent`, `customer` or `bot`.",
    ("Tag", "confidence"): "How sure, 0–1.",
    ("Tag", "evidence"): "Id of the message it was derived from.",
    ("Tag", "ts"): "When it was set (ms since the epoch).",
    ("Tag", "expires"): "When it expires (ms since the epoch); 0 = never.",
    ("ProfileInfo", "user"): "The customer.",
    ("ProfileInfo", "tags"): "Live tags (expired ones are left out).",
    ("ProfileInfo", "attributes"): "Structured attributes (e.g. budget, purchase intent).",
    ("ProfileInfo", "counters"): "Counters (e.g. `thumbs_up`, `csat_5`).",
    ("Resync", "convs"): "Conversations to `sync`; empty means every conversation the client tracks.",
    ("Draft", "draft"): "Draft id; the final message is sent with this as its `cmid`.",
    ("Draft", "body"): "The whole content so far (not a delta).",
    ("Draft", "done"): "`true` on the last draft frame.",
    ("DraftEvent", "user"): "Who is writing.",
    ("DraftEvent", "draft"): "Draft id (the final message will carry it as `cmid`).",
    ("DraftEvent", "body"): "The whole content so far.",
    ("DraftEvent", "done"): "`true` when the writer finished or abandoned the draft.",
    ("Welcome", "heartbeat_ms"): "Interval between client pings the server expects, in milliseconds.",
    ("Welcome", "max_frame"): "Largest frame the server accepts, in bytes.",
    ("Pong", "ts"): "The `ts` of the `ping` it answers.",
    ("Ack", "id"): "The `send`, `edit` or `recall` request's id.",
    ("Ack", "cmid"): "The `cmid` that was sent (server-made for `edit`/`recall`).",
    ("Ack", "mid"): "Message id assigned by the server.",
    ("Ack", "seq"): "Seq assigned to the message (for `edit`/`recall`: to the appended record).",
    ("Ack", "ts"): "Stored time (ms).",
    ("Ack", "dup"): "This `cmid` was already stored: the original ack is repeated, nothing new stored.",
    ("Msg", "m"): "The message.",
    ("Receipt", "user"): "Member whose read position moved.",
    ("Receipt", "seq"): "Their new read position.",
    ("TypingEvent", "user"): "Who is typing.",
    ("TypingEvent", "on"): "`true` started, `false` stopped.",
    ("Presence", "user"): "User id.",
    ("Presence", "online"): "Whether the user has at least one live connection.",
    ("Presence", "last_seen"): "When the user was last online (ms), if known.",
    ("ConvEvent", "event"): "`joined`, `left` or `updated`.",
    ("ConvEvent", "conv"): "The conversation's state after the change.",
    ("Ok", "id"): "The request that succeeded.",
    ("ConvResult", "conv"): "The conversation.",
    ("ConvListResult", "convs"): "The user's conversations.",
    ("Page", "conv"): "Conversation id.",
    ("Page", "messages"): "Messages in ascending seq order, in their current state.",
    ("Page", "more"): "More messages exist beyond this page in the direction paged.",
    ("Synced", "id"): "The `sync` request's id.",
    ("Synced", "convs"): "One entry per conversation of the user (see *Resume*).",
    ("Error", "code"): "Error code (see *Errors*).",
    ("Error", "message"): "Human-readable detail; not for machines.",
    ("Error", "action"): "`retry`, `reconnect` or `fatal`, from the error table.",
    ("Error", "id"): "The refused request; absent for a connection-level error.",
    ("Bye", "reason"): "Why the server closes (e.g. `shutdown`).",
    ("Bye", "reconnect_ms"): "Wait about this long (plus jitter) before reconnecting.",
    # abuse controls (proto/frames_safety.py)
    ("Block", "user"): "The user to block.",
    ("Unblock", "user"): "The user to unblock.",
    ("Blocks", "id"): "The `block_list` request's id.",
    ("Blocks", "users"): "Whom the user blocks, by user id.",
    ("BlockInfo", "user"): "A blocked user.",
    ("BlockInfo", "since"): "When the block was made (ms).",
    ("Report", "seq"): "The message reported.",
    ("Report", "reason"): "Why, in the reporter's words (shown to the app's moderators).",
    (
        "InviteList",
        "after",
    ): 'Return invitations whose conversation id sorts after this one (`""`: from the first).',
    ("InviteList", "limit"): "Largest number of invitations in the reply.",
    ("InviteAccept", "conv"): "The group whose invitation is accepted.",
    ("InviteDecline", "conv"): "The group whose invitation is declined.",
    ("Invitations", "id"): "The `invite_list` request's id.",
    ("Invitations", "invitations"): "Pending invitations, by conversation id.",
    ("Invitations", "more"): "More invitations follow: ask again with `after` = the last `conv`.",
    ("Invited", "invitation"): "The invitation just received.",
    ("InvitationInfo", "conv"): "The group the user is invited to.",
    ("InvitationInfo", "inviter"): "The manager who invited the user.",
    ("InvitationInfo", "name"): "The group's display name.",
    ("InvitationInfo", "role"): "The role the user gets on accepting (`member` or `admin`).",
    ("InvitationInfo", "created"): "When the invitation was sent (ms).",
    ("InvitationInfo", "expires"): "When it lapses unanswered (ms): `invite_ttl` after `created`.",
    ("Ack", "body"): "The stored body when the server changed it (sensitive words masked); absent otherwise.",
}


def _type(t: mi.Type) -> str:
    if isinstance(t, mi.IntType):
        lo, hi = t.ge, t.le
        if lo is None and hi is None:
            return "int"
        fmt = {2**53: "2⁵³"}.get
        return f"int {lo if lo is not None else ''}…{fmt(hi, hi) if hi is not None else ''}"
    if isinstance(t, mi.StrType):
        if t.min_length or t.max_length:
            return f"str ({t.min_length or 0}–{t.max_length} chars)"
        return "str"
    if isinstance(t, mi.FloatType):
        if t.ge is None and t.le is None:
            return "float"
        return f"float {t.ge if t.ge is not None else ''}…{t.le if t.le is not None else ''}"
    if isinstance(t, mi.BoolType):
        return "bool"
    if isinstance(t, mi.NoneType):
        return "nil"
    if isinstance(t, mi.LiteralType):
        return " \\| ".join(f'`"{v}"`' for v in t.values)
    if isinstance(t, mi.UnionType):
        return " \\| ".join(_type(x) for x in t.types)
    if isinstance(t, mi.ListType):
        bound = f", ≤ {t.max_length}" if t.max_length else ""
        return f"[{_type(t.item_type)}{bound}]"
    if isinstance(t, mi.DictType):
        return "map"
    if isinstance(t, mi.StructType):
        return f"[{t.cls.__name__}](#{t.cls.__name__.lower()})"
    raise NotImplementedError(repr(t))


def _default(field: mi.Field) -> str:
    if field.required:
        return "**required**"
    value = field.default if field.default is not msgspec.NODEFAULT else field.default_factory()
    text = {True: "true", False: "false", None: "nil"}.get(value) if isinstance(value, bool | None) else None
    if text is None:
        text = f'"{value}"' if isinstance(value, str) else ("{}" if value == {} else str(value))
    return f"`{text}`"


def table(name: str) -> str:
    cls = getattr(frames, name)
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    rows = ["| field | type | default | meaning |", "|---|---|---|---|"]
    if info.tag is not None:
        rows.append(f'| `t` | `"{info.tag}"` | **required** | Frame type. |')
    for f in info.fields:
        meaning = MEANINGS.get((name, f.name)) or MEANINGS.get(("*", f.name))
        if meaning is None:
            raise KeyError(f"no meaning for {name}.{f.name}: add it to MEANINGS")
        rows.append(f"| `{f.name}` | {_type(f.type)} | {_default(f)} | {meaning} |")
    return "\n".join(rows) + "\n"


def render(doc: str) -> str:
    return MARKER.sub(lambda m: m.group(1) + table(m.group(2)) + m.group(4), doc)


def main(argv: list[str]) -> int:
    doc = DOC.read_text("utf-8")
    new = render(doc)
    if "--check" in argv:
        if new != doc:
            print("docs/PROTOCOL.md tables are stale: run scripts/gen_protocol_tables.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
