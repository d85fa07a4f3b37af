"""Minimal Django settings for the Channels peer (no database, no middleware)."""

import os

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["channels"]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
ASGI_APPLICATION = "loadtests.peers.channels_app.application"
CHANNEL_LAYERS = {
    "default": {
        # The default channels_redis layer (lists + BZPOPMIN), what the Channels docs set up.
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py 8 caps a pool at 100 connections and raises MaxConnectionsError beyond
            # (seen: a 100-wide connect storm's group_add/group_discard failed): a larger pool.
            "hosts": [
                {
                    "address": os.environ.get("PEER_REDIS_URL", "redis://127.0.0.1:6379/0"),
                    "max_connections": int(os.environ.get("PEER_CHANNELS_POOL", "4000")),
                }
            ],
            # Defaults are capacity 100 / expiry 60: raised so that a 1 000-member
            # fan-out under load is not silently dropped by group_send.
            "capacity": 5000,
            "expiry": 60,
        },
    }
}
