"""Verification of HS256-signed JWTs (RFC 7519, compact JWS of RFC 7515) on the connect path.

Why not PyJWT's ``decode`` here: in PyJWT 2.15 it costs ~100 µs per token on our 2-core
machine (a per-character alphabet check in Python, stdlib JSON, key preparation on every
call), an eighth of the server's whole CPU cost of a connect + authenticate. The same checks
with ``hmac`` and ``binascii`` (C) and msgspec cost ~10 µs. PyJWT still signs tokens
(:func:`~parley.server.auth.tokens.issue_token`) and is the oracle of this module's tests: a
token we accept, PyJWT accepts with the same claims; a token PyJWT rejects, we reject.

Deliberately narrower than PyJWT: only ``alg: HS256``; no critical header extensions (so no
detached ``b64: false`` payloads); ``exp``/``nbf``/``iat`` must be JSON numbers (PyJWT also
takes numeric strings) between 0 and 2^53, and ``exp`` no later than ``max_lifetime`` seconds
from now (PyJWT takes ``exp: 1e308``: a validly signed token that never expires); ``name``, if
present, is a string of at most 200 characters. A payload nested past the JSON decoder's depth
is invalid (msgspec raises ``RecursionError`` there, which must not escape the connect path).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = ["ExpiredToken", "InvalidToken", "ParsedToken", "SigningKey", "check_claims", "parse"]

# base64url without padding (what RFC 7515 §2 prescribes), or with 1–2 "=" as some issuers add.
_SEGMENT = re.compile(rb"[A-Za-z0-9_-]*(?:={1,2})?")
_json = msgspec.json.Decoder()


class InvalidToken(ValueError):
    """The token is malformed, wrongly signed, or its claims do not hold."""


class ExpiredToken(InvalidToken):
    """Well-formed and correctly signed, but past its ``exp`` (beyond the leeway)."""


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A token split and decoded, its signature not yet checked."""

    signing_input: bytes
    header: dict[str, Any]
    claims: dict[str, Any]
    signature: bytes


def _segment(raw: bytes, name: str) -> bytes:
    if _SEGMENT.fullmatch(raw) is None:
        raise InvalidToken(f"{name}: not base64url")
    stripped = raw.rstrip(b"=")
    if len(stripped) != len(raw) and len(raw) % 4:
        raise InvalidToken(f"{name}: bad padding")
    if len(stripped) % 4 == 1:
        raise InvalidToken(f"{name}: bad length")
    std = stripped.replace(b"-", b"+").replace(b"_", b"/") + b"=" * (-len(stripped) % 4)
    try:
        data = binascii.a2b_base64(std, strict_mode=True)
    except binascii.Error:
        raise InvalidToken(f"{name}: not base64url") from None
    # Non-zero unused bits would let many encodings share one signature: canonical only.
    if binascii.b2a_base64(data, newline=False).rstrip(b"=") != std.rstrip(b"="):
        raise InvalidToken(f"{name}: non-canonical base64url")
    return data


def _object(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = _json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise InvalidToken(f"{name}: not JSON") from None
    except RecursionError:
        raise InvalidToken(f"{name}: nested too deeply") from None
    if not isinstance(value, dict):
        raise InvalidToken(f"{name}: not a JSON object")
    return value


def parse(token: str | bytes) -> ParsedToken:
    """Split and decode a compact token; raises :class:`InvalidToken`. Checks nothing signed."""
    raw = token.encode() if isinstance(token, str) else token
    parts = raw.split(b".")
    if len(parts) != 3:
        raise InvalidToken("not a JWT (three dot-separated segments)")
    header = _object(_segment(parts[0], "header"), "header")
    if header.get("alg") != "HS256":
        raise InvalidToken("only alg HS256 is accepted")
    if "crit" in header:
        raise InvalidToken("critical header extensions are not supported")
    if "kid" in header and not isinstance(header["kid"], str):
        raise InvalidToken("kid must be a string")
    claims = _object(_segment(parts[1], "payload"), "payload")
    signature = _segment(parts[2], "signature")
    return ParsedToken(raw[: len(parts[0]) + 1 + len(parts[1])], header, claims, signature)


class SigningKey:
    """An app secret, prepared once: each check copies the keyed HMAC state.

    (The one-shot ``hmac.digest`` re-derives the key pads and releases the GIL on every call;
    on the event loop that release lets the store's thread in and costs far more than the hash.)
    """

    __slots__ = ("_hmac",)

    def __init__(self, secret: str | bytes) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        self._hmac = hmac.new(key, digestmod=hashlib.sha256)

    def check_signature(self, token: ParsedToken) -> None:
        """Raise :class:`InvalidToken` unless ``token`` is HMAC-SHA256-signed with this key."""
        mac = self._hmac.copy()
        mac.update(token.signing_input)
        if not hmac.compare_digest(mac.digest(), token.signature):
            raise InvalidToken("signature verification failed")


#: Times are seconds since the epoch: anything outside [0, 2^53] is no instant a token may name.
MAX_TIME = 2**53
#: Longest ``name`` claim accepted (the admin API's user name limit).
MAX_NAME = 200


def _numeric(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidToken(f"{name} must be a number (seconds since the epoch)")
    if not 0 <= value <= MAX_TIME:
        raise InvalidToken(f"{name} is out of range")
    return value


def check_claims(
    claims: dict[str, Any], *, now: float, leeway: float, issuer: str, audience: str, max_lifetime: float
) -> None:
    """RFC 7519 §4.1 checks: ``exp`` (required), ``nbf``, ``iat``, ``iss``, ``aud``, ``sub``;
    and ours: ``exp`` at most ``max_lifetime`` seconds (+ ``leeway``) from ``now``.

    Raises :class:`ExpiredToken` past ``exp`` + ``leeway``, :class:`InvalidToken` otherwise.
    """
    for name in ("exp", "sub", "iss", "aud"):
        if claims.get(name) is None:
            raise InvalidToken(f'token is missing the "{name}" claim')
    exp, nbf, iat = _numeric(claims, "exp"), _numeric(claims, "nbf"), _numeric(claims, "iat")
    if exp is not None and exp > now + max_lifetime + leeway:
        raise InvalidToken("exp is further away than the longest token lifetime")
    display = claims.get("name")
    if display is not None and (not isinstance(display, str) or len(display) > MAX_NAME):
        raise InvalidToken(f"name must be a string of at most {MAX_NAME} characters")
    if nbf is not None and int(nbf) > now + leeway:
        raise InvalidToken("the token is not yet valid (nbf)")
    if iat is not None and int(iat) > now + leeway:
        raise InvalidToken("the token is not yet valid (iat)")
    if exp is not None and int(exp) <= now - leeway:
        raise ExpiredToken("signature has expired")
    if claims["iss"] != issuer:
        raise InvalidToken("invalid issuer")
    aud = claims["aud"]
    auds = [aud] if isinstance(aud, str) else aud
    if not isinstance(auds, list) or not all(isinstance(a, str) for a in auds):
        raise InvalidToken("aud must be a string or a list of strings")
    if audience not in auds:
        raise InvalidToken("audience doesn't match")
    if not isinstance(claims["sub"], str):
        raise InvalidToken("sub must be a string")
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise InvalidToken("jti must be a string")
