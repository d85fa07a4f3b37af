"""``parley serve`` with permessage-deflate ON, for the idle-memory scenario only.

``server/serve.py`` builds uvicorn's config with ``ws_per_message_deflate=False``
and the CLI has no flag to change it, so this wrapper forces the uvicorn option
before running the normal CLI: ``python -m loadtests.bench.parley_deflate serve …``.
It measures what a connection would cost with compression on; it is not a
supported way to run Parley.
"""

from __future__ import annotations

from typing import Any

import uvicorn

_init = uvicorn.Config.__init__


def _with_deflate(self: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
    kwargs["ws_per_message_deflate"] = True
    _init(self, *args, **kwargs)


uvicorn.Config.__init__ = _with_deflate  # type: ignore[method-assign]

if __name__ == "__main__":
    from parley.server.cli import main

    main(prog_name="parley")
