"""User ids: the one charset every way in accepts (tokens, the admin API, frames naming users).

1 to 128 characters from ``A-Z a-z 0-9 . _ - @ : + = ~ |`` — enough for database keys, UUIDs,
e-mail addresses and ``provider|id`` forms. No whitespace, no control characters, no ``/``:
an id is safe in a URL path, a log line, a Redis channel name and a composite key (the direct
conversation key joins two ids with a newline, which no id can contain, so no two pairs share
a key).
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

__all__ = ["USER_ID_PATTERN", "UserId", "is_user_id"]

#: ``(?!\n)$`` rather than ``$``: Python's ``$`` also matches before a final newline.
USER_ID_PATTERN = r"^[A-Za-z0-9._@:+=~|-]{1,128}(?!\n)$"

_USER_ID = re.compile(USER_ID_PATTERN)

#: A user id in a msgspec Struct: decoding checks the charset.
UserId = Annotated[str, msgspec.Meta(pattern=USER_ID_PATTERN, min_length=1, max_length=128)]


def is_user_id(value: object) -> bool:
    """True if ``value`` is a string in the user-id charset."""
    return isinstance(value, str) and _USER_ID.match(value) is not None
