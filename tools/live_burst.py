"""`make bench`: bursts through a live `chalice local` on DynamoDB Local, with every DynamoDB call counted in the
server's process and each written item counted by its partition key.

`LiveServer` starts `python -m tools.live_burst serve <counts file> <port>` (tools.chalice_local, counted) on a
table prefix of its own and reads the counts when it stops.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Any, Optional

import requests

from chalicelib.bootstrap import Container
from tools import localstack
from tools.burst_floor import shape_of
from tools.tokens import mint_local_token

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-long-enough-for-hs256"
_WRITES = ("PutItem", "UpdateItem", "DeleteItem")


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item (attribute names plus values; numbers about 1 byte per 2 digits + 1)."""

    def size(v: Any) -> int:
        if isinstance(v, bool) or v is None:
            return 1
        if isinstance(v, int):
            return len(str(abs(v))) // 2 + 2
        if isinstance(v, str):
            return len(v.encode())
        if isinstance(v, (list, set, tuple)):
            return 3 + sum(size(x) + 1 for x in v)
        if isinstance(v, dict):
            return 3 + sum(len(k) + size(x) + 1 for k, x in v.items())
        return len(str(v))

    return sum(len(k) + size(v) for k, v in item.items())


class LiveServer:
    """A counted `chalice local` on the tables of `prefix` (they must exist), with `settings` as LIFESHOP_* variables;
    `call` sends requests as any user; after the `with`, `calls` and `writes` hold the server's counts."""

    def __init__(
        self, endpoints: dict[str, str], prefix: str, settings: Optional[dict[str, str]] = None, threads: int = 32
    ) -> None:
        self._env = {
            **os.environ,
            "LIFESHOP_RESOURCE_PREFIX": prefix,
            "LIFESHOP_DYNAMODB_ENDPOINT": endpoints["dynamodb"],
            "LIFESHOP_SQS_ENDPOINT": endpoints["sqs"],
            "LIFESHOP_JWT_SECRET": SECRET,
            "LIFESHOP_REGION": "cn-north-1",
            **{f"LIFESHOP_{k.upper()}": v for k, v in (settings or {}).items()},
        }
        self._session = requests.Session()
        self._session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=threads))
        self.calls: Counter = Counter()
        self.writes: Counter = Counter()
        self.shapes: Counter = Counter()  # TransactWriteItems by their operations (tools/burst_floor.py)

    def __enter__(self) -> "LiveServer":
        self._counts = Path(tempfile.mkstemp(prefix="live-burst-", suffix=".json")[1])
        port = localstack.free_port()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tools.live_burst", "serve", str(self._counts), str(port)],
            cwd=str(ROOT),
            env=self._env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        localstack.wait_for_port(port, self._proc, "chalice local")
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: Any) -> None:
        localstack.stop(self._proc)
        counted = json.loads(self._counts.read_text() or "{}")
        self._counts.unlink()
        self.calls, self.writes = Counter(counted.get("calls", {})), Counter(counted.get("writes", {}))
        self.shapes = Counter(counted.get("shapes", {}))

    def call(
        self,
        method: str,
        path: str,
        user: str,
        groups: tuple[str, ...] = (),
        body: Any = None,
        key: Optional[str] = None,
    ) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {mint_local_token(SECRET, user, list(groups), 3600, int(time.time()))}",
            "Content-Type": "application/json",
        }
        if key:
            headers["Idempotency-Key"] = key
        return self._session.request(
            method, self.url + path, headers=headers, timeout=60, data=json.dumps(body) if body is not None else None
        )


def write_shares(writes: Counter, prefix: str) -> tuple[float, float]:
    """(the busiest item's share of all writes, the busiest item whose key starts with `prefix`'s share of those)."""
    hot = {pk: n for pk, n in writes.items() if pk.startswith(prefix)}
    return max(writes.values()) / sum(writes.values()), max(hot.values()) / sum(hot.values())


def serve(counts_file: str, port: str) -> None:
    """chalice local with every DynamoDB call counted, and each written item counted by its partition key."""
    from chalice.cli import main

    import tools.chalice_local  # noqa: F401  (its patches to chalice local)
    from chalicelib import bootstrap

    calls: Counter = Counter()
    writes: Counter = Counter()
    shapes: Counter = Counter()

    def seen(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls[model.name] += 1
        if model.name == "TransactWriteItems":
            shapes[shape_of(params)] += 1
            for op in params["TransactItems"]:
                for kind in ("Put", "Update", "Delete"):
                    if kind in op:
                        writes[(op[kind].get("Key") or op[kind]["Item"])["pk"]["S"]] += 1
        elif model.name in _WRITES:
            writes[(params.get("Key") or params["Item"])["pk"]["S"]] += 1

    build = bootstrap.Container.dynamodb.func

    def counted(self: Container) -> Any:
        client = build(self)
        client.meta.events.register("provide-client-params.dynamodb.*", seen)
        return client

    prop = cached_property(counted)
    prop.__set_name__(bootstrap.Container, "dynamodb")
    bootstrap.Container.dynamodb = prop  # type: ignore[method-assign,assignment]

    def dump() -> None:
        Path(counts_file).write_text(json.dumps({"calls": calls, "writes": writes, "shapes": shapes}))

    atexit.register(dump)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.argv = ["chalice", "local", "--no-autoreload", "--host", "127.0.0.1", "--port", port, "--stage", "local"]
    main()


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    serve(sys.argv[2], sys.argv[3])
