"""Peer servers for ``loadtests.bench``: small servers written for the benchmark.

Each is what a Python team would write with that stack, shaped like the
bare ``websockets`` baseline (``loadtests/bench/baseline.py``): ``hello`` →
``welcome``; a 1:1 ``send`` relayed to one user, a group ``send`` to every
member, then an ``ack`` to the sender. No persistence, no auth.

- ``redis_relay``: bare ``websockets`` + every message through Redis pub/sub;
- ``socketio_server``: python-socketio (ASGI, uvicorn) with ``AsyncRedisManager``;
- ``channels_app``: Django Channels consumer with ``channels_redis`` (uvicorn).
"""
