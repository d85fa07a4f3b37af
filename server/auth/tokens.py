"""User tokens: HS256 JWTs that an app's back-end signs with its app secret.

Claims: ``iss`` = app id, ``sub`` = user id, ``aud`` = the configured audience
(``"parley"``), ``exp`` (required), optional ``iat``/``nbf``, ``name``, ``role``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from parley.proto.errors import ErrorCode
from parley.proto.vocabulary import UserRole
from parley.server.auth import hs256
from parley.server.auth.identity import claim_refusal
from parley.server.auth.keyring import Keyrings
from parley.server.errors import ServiceError
from parley.server.models import App
from parley.server.ports import Store

__all__ = ["Claims", "TokenVerifier", "issue_token"]

USER_ROLES = frozenset(UserRole)


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says: app, user, expiry (s), display name, role and issue time."""

    app: str
    user: str
    exp: int
    name: str = ""
    role: str = UserRole.USER
    #: ``iat`` (seconds), 0 when absent: a revocation refuses tokens issued before a time.
    iat: int = 0


def issue_token(
    app: App,
    user: str,
    *,
    ttl: int = 3600,
    audience: str = "parley",
    name: str = "",
    role: str = UserRole.USER,
) -> tuple[str, int]:
    """Sign a token for ``user``; returns ``(token, exp)``. What an app back-end does."""
    now = int(time.time())
    exp = now + ttl
    claims: dict[str, object] = {"iss": app.app, "sub": user, "aud": audience, "iat": now, "exp": exp}
    if name:
        claims["name"] = name
    if role != UserRole.USER:
        claims["role"] = role
    return jwt.encode(claims, app.secret, algorithm="HS256"), exp


class TokenVerifier:
    """Checks tokens against the issuing app's secret (apps cached per node)."""

    def __init__(
        self,
        store: Store,
        *,
        audience: str,
        leeway: int,
        max_lifetime: int,
        support_bot: str = "",
        app_cache_ttl: float = 5.0,
    ) -> None:
        self._store = store
        #: The configured support bot id: reserved for role ``bot`` (see ``auth.identity``).
        self._support_bot = support_bot
        self._audience = audience
        self._leeway = leeway
        self._max_lifetime = max_lifetime
        self.keyrings = Keyrings(store, ttl=app_cache_ttl)

    async def verify(self, token: str) -> Claims:
        """Return the token's claims or raise ``ServiceError`` (token_invalid / token_expired)."""
        try:
            parsed = hs256.parse(token)
        except hs256.InvalidToken as exc:
            raise ServiceError(ErrorCode.TOKEN_INVALID, f"token rejected: {exc}") from None
        # iss names the key to verify with, so it is read before the signature is checked.
        issuer = parsed.claims.get("iss")
        if not isinstance(issuer, str):
            raise ServiceError(ErrorCode.TOKEN_INVALID, "token has no 'iss' (app id)")
        claims = parsed.claims
        try:
            app = await self.keyrings.verify(issuer, parsed)
            hs256.check_claims(
                claims,
                now=time.time(),
                leeway=self._leeway,
                issuer=app.app,
                audience=self._audience,
                max_lifetime=self._max_lifetime,
            )
        except hs256.ExpiredToken:
            raise ServiceError(ErrorCode.TOKEN_EXPIRED, "token expired: fetch a new one") from None
        except hs256.InvalidToken as exc:
            raise ServiceError(ErrorCode.TOKEN_INVALID, f"token rejected: {exc}") from None
        user = claims["sub"]
        role = claims.get("role", UserRole.USER)
        if not isinstance(user, str) or not user or len(user) > 128:
            raise ServiceError(ErrorCode.TOKEN_INVALID, "'sub' must be a user id string")
        if not isinstance(role, str) or role not in USER_ROLES:
            raise ServiceError(ErrorCode.TOKEN_INVALID, f"'role' must be one of {sorted(USER_ROLES)}")
        refusal = claim_refusal(user, role, support_bot=self._support_bot)
        if refusal is not None:
            raise ServiceError(ErrorCode.TOKEN_INVALID, f"'sub' refused: {refusal}")
        status = await self._store.get_user_status(app.app, user)
        if status is not None:
            # What the app's moderators decided (see parley.server.services.moderation).
            if status.disabled:
                raise ServiceError(ErrorCode.USER_DISABLED, "this user is disabled by the app")
            if int(claims.get("iat") or 0) < status.tokens_before:
                raise ServiceError(ErrorCode.TOKEN_REVOKED, "token revoked by the app: fetch a new one")
        return Claims(
            app=app.app,
            user=user,
            exp=int(claims["exp"]),
            name=str(claims.get("name", "")),
            role=role,
            iat=int(claims.get("iat") or 0),
        )
