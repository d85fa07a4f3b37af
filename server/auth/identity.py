"""Which user ids a token (or the admin API) may name, and which are the server's own.

Privileges follow the token's ``role`` claim, never the user id; but some ids are where the
server itself acts, so nobody else may be them:

* ``system`` — the app's back-end: admin-API messages and membership changes are sent as
  ``system``. No token and no user record may claim it (else a token for ``system`` would read
  and edit what the back-end sent to users).
* ``parley-bot`` and the configured ``support_bot`` — joined as admin to every support
  conversation. Only a token with role ``bot`` may claim them (else any user token named
  ``parley-bot`` would read every customer's support conversation).
"""

from __future__ import annotations

from parley.proto.ids import is_user_id
from parley.proto.vocabulary import UserRole

__all__ = ["DEFAULT_BOT", "SYSTEM_USER", "claim_refusal"]

#: The actor of the app's back-end (admin API).
SYSTEM_USER = "system"
#: The default support bot id; reserved for role ``bot`` even when another id is configured.
DEFAULT_BOT = "parley-bot"


def claim_refusal(user: str, role: str, *, support_bot: str) -> str | None:
    """Why ``user`` with ``role`` may not be claimed (by a token or a user record), or None."""
    if not is_user_id(user):
        return "a user id is 1-128 characters from A-Z a-z 0-9 . _ - @ : + = ~ |"
    if user == SYSTEM_USER:
        return f"{SYSTEM_USER!r} is reserved for the app's back-end"
    if user in (DEFAULT_BOT, support_bot) and role != UserRole.BOT:
        return f"{user!r} is reserved for the support bot (role 'bot')"
    return None
