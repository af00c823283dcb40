"""`chalice local` with a listen backlog fit for bursts of concurrent requests.

socketserver's default backlog of 5 makes a burst of 20 simultaneous connections fail at random
before they reach the app; API Gateway has no such limit, so the local stand-in should not either.
Usage: python -m tools.chalice_local local --no-autoreload --host 127.0.0.1 --port 8000 --stage local
"""
from __future__ import annotations

import sys

from chalice import local
from chalice.cli import main

local.ThreadedHTTPServer.request_queue_size = 256

if __name__ == "__main__":
    sys.exit(main())
