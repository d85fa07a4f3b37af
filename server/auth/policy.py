"""Who may do what in a conversation. Pure functions over membership records."""

from __future__ import annotations

from parley.proto.errors import ErrorCode
from parley.proto.vocabulary import MemberRole
from parley.server.errors import ServiceError
from parley.server.models import Conversation, Member

__all__ = ["MANAGER_ROLES", "require_manager", "require_member"]

MANAGER_ROLES = frozenset({MemberRole.OWNER, MemberRole.ADMIN})


def require_member(member: Member | None, conv: str) -> Member:
    """``member`` if the user is a member of ``conv``; else a ``forbidden`` refusal."""
    if member is None:
        raise ServiceError(ErrorCode.FORBIDDEN, f"not a member of conversation {conv}")
    return member


def require_manager(conv: Conversation, member: Member | None) -> Member:
    """Group membership changes need owner/admin; direct conversations never change."""
    member = require_member(member, conv.conv)
    if conv.kind == "direct":
        raise ServiceError(ErrorCode.FORBIDDEN, "members of a direct conversation cannot change")
    if member.role not in MANAGER_ROLES:
        raise ServiceError(ErrorCode.FORBIDDEN, f"role {member.role!r} may not manage this conversation")
    return member
