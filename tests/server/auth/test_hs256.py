"""The connect path's HS256 verifier, with PyJWT as the oracle.

Property: on tokens PyJWT signs (any claims), and on every corruption of them, our verifier
and ``jwt.decode`` with the gateway's options agree — accept with the same claims, or reject
(expired where PyJWT says expired).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.server.auth import hs256

SECRET = "s3cret-" * 11  # 66 bytes: long enough for HS512 without a warning
NOW = 1_800_000_000
LEEWAY = 30
MAX_LIFETIME = 30 * 86400


def ours(token: str | bytes, secret: str = SECRET, now: float = NOW) -> str | dict[str, Any]:
    try:
        parsed = hs256.parse(token)
        hs256.SigningKey(secret).check_signature(parsed)
        hs256.check_claims(
            parsed.claims, now=now, leeway=LEEWAY, issuer="app1", audience="parley", max_lifetime=MAX_LIFETIME
        )
    except hs256.ExpiredToken:
        return "expired"
    except hs256.InvalidToken:
        return "invalid"
    return parsed.claims


def pyjwt(token: str | bytes, secret: str = SECRET, now: float = NOW) -> str | dict[str, Any]:
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(jwt.api_jwt, "datetime", _FrozenDatetime(now))
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                audience="parley",
                issuer="app1",
                leeway=LEEWAY,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
    except jwt.ExpiredSignatureError:
        return "expired"
    except jwt.PyJWTError:
        return "invalid"
    return claims


class _FrozenDatetime:
    """Stands in for ``datetime`` inside ``jwt.api_jwt``: ``now()`` is a fixed instant."""

    def __init__(self, now: float) -> None:
        import datetime

        self._now = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)

    def now(self, tz: object = None) -> Any:
        return self._now


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims: dict[str, Any], secret: str = SECRET, **headers: Any) -> str:
    return jwt.encode(claims, secret, algorithm="HS256", headers=headers or None)


NONE_HEADER = b'{"alg":"none"}'
HS256_HEADER = b'{"alg":"HS256"}'


def good(**over: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"iss": "app1", "sub": "alice", "aud": "parley", "exp": NOW + 60, "iat": NOW}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def test_a_good_token_gives_its_claims() -> None:
    token = sign(good(name="Alice", role="agent"))
    assert ours(token) == pyjwt(token) == good(name="Alice", role="agent")


@pytest.mark.parametrize(
    ("claims", "verdict"),
    [
        (good(exp=NOW - LEEWAY), "expired"),
        (good(exp=NOW - LEEWAY + 1), None),
        (good(nbf=NOW + LEEWAY + 1), "invalid"),
        (good(iat=NOW + LEEWAY + 1), "invalid"),
        (good(exp=None), "invalid"),
        (good(sub=None), "invalid"),
        (good(iss=None), "invalid"),
        (good(aud=None), "invalid"),
        (good(iss="app2"), "invalid"),
        (good(aud="other"), "invalid"),
        (good(aud=["other", "parley"]), None),
        (good(aud=["other"]), "invalid"),
        (good(aud=[1]), "invalid"),
        (good(aud=""), "invalid"),
        (good(sub=7), "invalid"),
        (good(jti=7), "invalid"),
        (good(exp="soon"), "invalid"),
        (good(exp=float(NOW + 60)), None),
    ],
)
def test_claims_are_checked_like_pyjwt(claims: dict[str, Any], verdict: str | None) -> None:
    token = sign(claims)
    expected = claims if verdict is None else verdict
    assert ours(token) == expected
    assert pyjwt(token) == expected


def test_a_numeric_string_exp_is_refused_where_pyjwt_is_lenient() -> None:
    token = sign(good(exp=str(NOW + 60)))
    assert pyjwt(token) != "invalid"
    assert ours(token) == "invalid"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        "!!!.e30.AAAA",
        sign(good(), "another-secret-" * 3),
        jwt.encode(good(), SECRET, algorithm="HS512"),
        jwt.encode(good(), SECRET, algorithm="HS384"),
        f"{b64(NONE_HEADER)}.{b64(json.dumps(good()).encode())}.",
        f"{b64(b'[1]')}.{b64(json.dumps(good()).encode())}.AAAA",
        f"{b64(HS256_HEADER)}.{b64(b'[1]')}.AAAA",
        f"{b64(HS256_HEADER)}.{b64(b'not json')}.AAAA",
    ],
)
def test_malformed_or_foreign_tokens_are_refused(token: str) -> None:
    assert ours(token) == "invalid"
    assert pyjwt(token) == "invalid"


def raw_sign(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """Sign without PyJWT's checks on the header (it refuses to write some bad ones)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.digest(SECRET.encode(), signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{b64(mac)}"


def test_unsupported_headers_are_refused() -> None:
    assert ours(raw_sign({"alg": "HS256"}, good())) == good()
    for header in ({"crit": ["exp"]}, {"kid": 5}, {"crit": ["b64"], "b64": False}, {}):
        token = raw_sign({"alg": "HS256", **header} if header else {"typ": "JWT"}, good())
        assert ours(token) == "invalid"
        assert pyjwt(token) == "invalid"


def test_padding_is_accepted_like_pyjwt_but_never_changes_meaning() -> None:
    token = sign(good())
    head, payload, sig = token.split(".")
    padded = ".".join([head, payload, sig + "=" * (-len(sig) % 4)])
    assert ours(padded) == pyjwt(padded)
    assert ours(token + "===") == pyjwt(token + "===") == "invalid"


claims_strategy = st.fixed_dictionaries(
    {},
    optional={
        "iss": st.sampled_from(["app1", "app2", ""]) | st.integers(),
        "sub": st.text(max_size=8) | st.integers(),
        "aud": st.sampled_from(["parley", "x"]) | st.lists(st.sampled_from(["parley", "x"]), max_size=2),
        "exp": st.integers(NOW - 100, NOW + 100) | st.floats(NOW - 100, NOW + 100),
        "nbf": st.integers(NOW - 100, NOW + 100),
        "iat": st.integers(NOW - 100, NOW + 100),
        "jti": st.text(max_size=4) | st.integers(),
        "name": st.text(max_size=8),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=claims_strategy)
def test_any_claims_get_the_same_verdict(claims: dict[str, Any]) -> None:
    token = raw_sign({"alg": "HS256", "typ": "JWT"}, claims)
    assert ours(token) == pyjwt(token)


@settings(max_examples=500, deadline=None)
@given(
    claims=claims_strategy,
    position=st.integers(min_value=0),
    char=st.sampled_from("AQgw_-=.!x+/ "),
)
def test_a_corrupted_token_gets_the_same_verdict(claims: dict[str, Any], position: int, char: str) -> None:
    token = raw_sign({"alg": "HS256", "typ": "JWT"}, claims)
    i = position % len(token)
    corrupted = token[:i] + char + token[i + 1 :]
    verdict = ours(corrupted)
    assert verdict == pyjwt(corrupted)
    if corrupted != token:
        # A changed token can only pass if its bytes decode to the very same signed data.
        assert (
            verdict in ("invalid", "expired")
            or hs256.parse(corrupted).signing_input == hs256.parse(token).signing_input
        )


def test_a_fresh_token_from_issue_token_verifies_now() -> None:
    from parley.server.auth.tokens import issue_token
    from parley.server.models import App

    token, exp = issue_token(App(app="app1", name="a", secret=SECRET, created=0), "bob")
    assert ours(token, now=time.time()) == pyjwt(token, now=time.time())
    claims = ours(token, now=time.time())
    assert isinstance(claims, dict) and claims["sub"] == "bob" and claims["exp"] == exp


def raw_payload(payload: bytes) -> str:
    """A correctly signed token around any payload bytes (JSON PyJWT could not write)."""
    signing_input = f"{b64(HS256_HEADER)}.{b64(payload)}"
    mac = hmac.digest(SECRET.encode(), signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{b64(mac)}"


@pytest.mark.parametrize("depth", [1_200, 100_000])
@pytest.mark.parametrize("where", ["top", "name", "aud"])
def test_a_deeply_nested_payload_is_invalid_not_a_recursion_error(depth: int, where: str) -> None:
    nested = b"[" * depth + b"]" * depth
    claims = json.dumps(good()).encode()
    if where == "top":
        payload = b'{"x":' + nested + b"}"
    else:
        payload = claims[:-1] + b', "' + where.encode() + b'":' + nested + b"}"
    assert ours(raw_payload(payload)) == "invalid"


@pytest.mark.parametrize(
    "claims",
    [
        good(exp=1e308),
        good(exp=2**70),
        good(exp=NOW + MAX_LIFETIME + LEEWAY + 1),
        good(iat=-(2**70)),
        good(nbf=-1e308),
        good(iat=-1),
    ],
    ids=["exp-1e308", "exp-2^70", "exp-past-max-lifetime", "iat--2^70", "nbf--1e308", "iat-negative"],
)
def test_times_must_be_bounded_numbers(claims: dict[str, Any]) -> None:
    """Stricter than PyJWT on purpose: a validly signed token must not live (almost) forever."""
    assert ours(sign(claims)) == "invalid"


@pytest.mark.parametrize("literal", [b"1e999", b"-1e999", b"NaN", b"Infinity"])
def test_non_finite_times_are_invalid(literal: bytes) -> None:
    claims = json.dumps(good(exp=None)).encode()
    assert ours(raw_payload(claims[:-1] + b', "exp": ' + literal + b"}")) == "invalid"


def test_the_longest_allowed_lifetime_is_accepted() -> None:
    claims = good(exp=NOW + MAX_LIFETIME)
    assert ours(sign(claims)) == claims


def test_a_name_must_be_a_short_string() -> None:
    for name in (["x"], {"a": 1}, 7, "n" * 201):
        assert ours(sign(good(name=name))) == "invalid"
    assert ours(sign(good(name="n" * 200))) == good(name="n" * 200)
