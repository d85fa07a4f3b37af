"""Who a connection is: token claims, reserved user ids, the user-id charset (issue 10, items 10,
12, 14) — over a real node, raw frames."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from websockets.exceptions import ConnectionClosed

from parley.proto import frames
from parley.server.models import App
from tests.harness import RunningNode
from tests.wsclient import RawClient


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_payload(app: App, payload: bytes) -> str:
    """A token with the app's valid signature around any payload bytes."""
    signing_input = _b64(b'{"alg":"HS256"}') + "." + _b64(payload)
    mac = hmac.digest(app.secret.encode(), signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{_b64(mac)}"


def claims_token(app: App, **over: Any) -> str:
    claims: dict[str, Any] = {"iss": app.app, "sub": "alice", "aud": "parley", "exp": int(time.time()) + 60}
    claims.update(over)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, app.secret, algorithm="HS256")


async def refused(node: RunningNode, token: str) -> tuple[str, int]:
    """Send ``hello`` with ``token``: the error code and the close code, both at once."""
    client = await RawClient.connect(node.url)
    await client.send(frames.Hello(v=1, token=token))
    error = await client.expect(frames.Error, timeout=3)
    with pytest.raises(ConnectionClosed) as closed:
        await client.recv(timeout=3)
    assert closed.value.rcvd is not None
    return error.code, closed.value.rcvd.code


def _nested(app: App) -> str:
    claims = json.dumps({"iss": app.app, "sub": "alice", "aud": "parley", "exp": int(time.time()) + 60})
    return signed_payload(app, claims[:-1].encode() + b', "name": ' + b"[" * 1200 + b"]" * 1200 + b"}")


@pytest.mark.parametrize(
    "make",
    [
        _nested,
        lambda app: claims_token(app, exp=1e308),
        lambda app: claims_token(app, exp=2**70),
        lambda app: claims_token(app, exp=int(time.time()) + 31 * 86400),
        lambda app: claims_token(app, iat=-(2**70)),
    ],
    ids=["nested-1200", "exp-1e308", "exp-2^70", "exp-31-days", "iat--2^70"],
)
async def test_unbounded_or_nested_tokens_are_invalid_at_once(node: RunningNode, make: Any) -> None:
    assert await refused(node, make(node.app)) == ("token_invalid", 4001)
    # The node keeps serving.
    alice = await RawClient.connect(node.url, await node.token("alice"))
    await alice.close()
