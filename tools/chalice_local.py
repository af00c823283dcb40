"""`chalice local`, three details closer to API Gateway.

- A listen backlog fit for bursts: socketserver's default of 5 makes a burst of 20 simultaneous
  connections fail at random before they reach the app.
- Methods http.server has no handler for (TRACE, QUERY, ...) reach the app, which answers 405 in
  the contract's shape, instead of http.server's own 501 page.
- No Nagle delay: http.server sends a response's headers and body in two writes, and a client that delays its
  ACK (40 ms on Linux) holds the body back until then: every request through `chalice local` took ~80 ms more
  than the app did (the fuzzer's 400 requests, every live test). TCP_NODELAY sends both at once.
Usage: python -m tools.chalice_local local --no-autoreload --host 127.0.0.1 --port 8000 --stage local
"""

from __future__ import annotations

import sys

from chalice import local
from chalice.cli import main

local.ThreadedHTTPServer.request_queue_size = 256
local.ChaliceRequestHandler.disable_nagle_algorithm = True


def _any_method(self: local.ChaliceRequestHandler, name: str):
    if name.startswith("do_"):
        return self._generic_handle
    raise AttributeError(name)


local.ChaliceRequestHandler.__getattr__ = _any_method

if __name__ == "__main__":
    sys.exit(main())
