"""A cold start measured from outside (`make bench`): a fresh interpreter that imports the app and serves its first
`POST /orders` through the Lambda handler with an API Gateway proxy event, against a fresh interpreter that imports
boto3, chalice and pydantic (what the app cannot do without), creates the same client and replays the same calls.
Both are timed from process start to exit, so interpreter start-up is in both."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Runs in the fresh interpreter: the first order through the real Lambda entry point, recording its AWS calls
# (and, with AWS_LAMBDA_INITIALIZATION_TYPE=snap-start, the modules the request still had to import).
_FIRST_ORDER = r"""
import json, sys, time
spec = json.loads(sys.argv[1])
import app as lambda_module
import botocore.client
calls = []
_call = botocore.client.BaseClient._make_api_call
def recording(self, operation, params):
    calls.append([self.meta.service_model.service_name, operation, params])
    return _call(self, operation, params)
botocore.client.BaseClient._make_api_call = recording
headers = {"Authorization": "Bearer " + spec["token"], "Content-Type": "application/json",
           "Idempotency-Key": spec["key"]}
event = {"resource": "/orders", "path": "/orders", "httpMethod": "POST", "headers": headers,
         "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
         "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None,
         "requestContext": {"resourcePath": "/orders", "httpMethod": "POST", "requestId": spec["key"],
                            "stage": "api", "path": "/api/orders", "identity": {"sourceIp": "127.0.0.1"}},
         "body": json.dumps(spec["body"]), "isBase64Encoded": False}
modules = set(sys.modules)
started = time.perf_counter()
response = lambda_module.app(event, None)
took_ms = (time.perf_counter() - started) * 1000
from chalicelib import bootstrap
clients = [name for name in ("dynamodb", "sqs") if name in vars(bootstrap.container())]  # built so far
print(json.dumps({"status": response["statusCode"], "calls": calls, "request_ms": took_ms,
                  "imported": sorted(set(sys.modules) - modules), "clients": clients}, default=str))
"""

# The floor: the libraries the app cannot do without, the same client, the same calls.
_REPLAY = r"""
import json, sys
import boto3, chalice, pydantic
from botocore import xform_name
spec = json.loads(sys.stdin.read())
client = boto3.session.Session(region_name="cn-north-1").client("dynamodb", endpoint_url=spec["endpoint"])
for service, operation, params in spec["calls"]:
    if service == "dynamodb":
        params.pop("ClientRequestToken", None)  # botocore makes a new one, as it did for the app
        try:
            getattr(client, xform_name(operation))(**params)
        except client.exceptions.ConditionalCheckFailedException:
            pass  # a put-if-absent of a profile that exists: the app met the same
print("ok")
"""


def first_order(spec: dict[str, Any], env: dict[str, str], snap_start: bool = False) -> dict[str, Any]:
    """One fresh interpreter's first order: {status, calls, request_ms, imported, clients, wall_ms}. With `snap_start`,
    the app initialises as in a Lambda SnapStart init (bootstrap.prewarm) before the request."""
    if snap_start:
        env = {**env, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
    took, cpu, line = _timed([sys.executable, "-c", _FIRST_ORDER, json.dumps(spec)], {**os.environ, **env})
    return {**json.loads(line), "wall_ms": took * 1000, "cpu_ms": cpu * 1000}


def _timed(args: list[str], env: dict[str, str], stdin: str = "") -> tuple[float, float, str]:
    """(wall seconds, CPU seconds: user + system, last line of output) of one child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(args, input=stdin, capture_output=True, text=True, env=env, cwd=str(ROOT))
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode != 0:
        raise SystemExit(f"cold start run failed:\n{out.stderr[-2000:]}")
    return took, cpu, out.stdout.strip().splitlines()[-1]


def compile_app() -> None:
    """Bytecode of the app's own modules, as the deployment zip ships it (tools/package.py) and as pip wrote it for
    the floor's libraries when it installed them. Without it, where PYTHONDONTWRITEBYTECODE is set (as on this
    machine), every fresh interpreter would compile the app's ~80 modules from source, which no deployed function
    does. Timestamp-checked .pyc files: a source edited later is never run from stale bytecode."""
    import compileall

    compileall.compile_file(str(ROOT / "app.py"), quiet=2)
    compileall.compile_dir(str(ROOT / "chalicelib"), quiet=2)


SPREAD_BOUND = 0.15  # the widest spread of the pair ratios (interquartile range / median) a ratio is reported at
RUNS_PER_PAIR = 3  # each side of a pair: the fastest of this many fresh interpreters, run alternately with the other's


def settle(most_s: float = 120.0) -> float:
    """Wait (at most `most_s`) until the machine's 1-minute load average is below half its cores: the seeding just
    before leaves it busy, and a busy machine spreads the pair ratios past SPREAD_BOUND. The seconds waited."""
    started = time.monotonic()
    while os.getloadavg()[0] >= (os.cpu_count() or 1) / 2 and time.monotonic() - started < most_s:
        time.sleep(5)
    return time.monotonic() - started


def median_spread(ratios: list[float]) -> tuple[float, float, float]:
    """(median, interquartile range / median, the notch of a box plot over the median: 1.58 IQR / sqrt n, about a
    90% interval of the median)."""
    median = statistics.median(ratios)
    low, _, high = statistics.quantiles(ratios, n=4)
    return median, (high - low) / median, 1.58 * (high - low) / median / len(ratios) ** 0.5


def cold_first_order(
    env_a: dict[str, str],
    endpoint_b: str,
    rename: tuple[str, str],
    orders: list[dict[str, Any]],
) -> dict[str, Any]:
    """`orders`: one {token, key, body} per run (a new Idempotency-Key each), RUNS_PER_PAIR per pair. The app's cold
    first order and its floor run alternately (A B A B ...), so a drift in the machine's speed moves both sides of a
    pair alike. A pair is RUNS_PER_PAIR such alternations, and its ratio is the fastest app run over the fastest floor
    run: a fresh interpreter's time varies by several percent from one to the next (its memory layout, hash seed,
    what the other core does), and the fastest of three is far steadier than any one. The figure is the median of
    the pair ratios, with their spread (the middle half's width over the median). A spread wider than SPREAD_BOUND
    means the machine was too noisy to say: the ratio is None (`noisy` says why). The old figure (min of the app's
    times over min of the floor's) stays alongside."""
    compile_app()
    app_times, base_times, app_cpu, base_cpu = [], [], [], []
    for spec in orders:
        result = first_order(spec, env_a)
        if result["status"] != 201:
            raise SystemExit(f"cold first order: status {result['status']}, expected 201")
        replay = json.dumps({"endpoint": endpoint_b, "calls": result["calls"]}).replace(*rename)
        took, cpu, _ = _timed([sys.executable, "-c", _REPLAY], dict(os.environ), replay)
        app_times.append(result["wall_ms"] / 1000)
        app_cpu.append(result["cpu_ms"] / 1000)
        base_times.append(took)
        base_cpu.append(cpu)

    def pairs(app: list[float], base: list[float]) -> list[float]:
        k = RUNS_PER_PAIR
        return sorted(min(app[i : i + k]) / min(base[i : i + k]) for i in range(0, len(app) - k + 1, k))

    ratios = pairs(app_times, base_times)
    median, spread, interval = median_spread(ratios)
    cpu_median, cpu_spread, _ = median_spread(pairs(app_cpu, base_cpu))
    noisy = spread > SPREAD_BOUND
    low, _, high = statistics.quantiles(ratios, n=4)
    return {
        "pairs": len(ratios),
        "runs_per_pair": RUNS_PER_PAIR,
        "cold_first_order_ms": statistics.median(app_times) * 1000,  # over all runs, not only each pair's fastest
        "cold_floor_ms": statistics.median(base_times) * 1000,
        "cold_ratio_of_medians": statistics.median(app_times) / statistics.median(base_times),
        "cold_first_order_ratio": None if noisy else median,
        "cold_pair_ratio_min": ratios[0],
        "cold_pair_ratio_max": ratios[-1],
        "cold_pair_spread": spread,
        "cold_median_interval": interval,  # the median is known to about +/- this share of itself (~90%)
        "cold_pair_ratios": [round(r, 3) for r in ratios],
        "noisy": f"middle half of the pair ratios {low:.2f}-{high:.2f}: spread {spread:.2f} > {SPREAD_BOUND}"
        if noisy
        else "",
        "cold_first_order_ratio_of_minima": min(app_times) / min(base_times),  # the first round's figure
        # the same pairs by CPU time (user + system of each interpreter): the work each side does, which time spent
        # waiting for a core does not count in
        "cold_cpu_ratio": cpu_median,
        "cold_cpu_spread": cpu_spread,
    }


def prewarmed_first_order(env: dict[str, str], orders: list[dict[str, Any]]) -> dict[str, float]:
    """What Lambda SnapStart leaves on the clock: a fresh interpreter initialised as in a SnapStart init
    (bootstrap.prewarm), then its first order; the request alone is timed (the snapshot's restore is AWS's part,
    not modelled here). Also the peak memory of the interpreters that served a first order, to size the function."""
    compile_app()
    times = []
    for spec in orders:
        result = first_order(spec, env, snap_start=True)
        if result["status"] != 201:
            raise SystemExit(f"prewarmed first order: status {result['status']}, expected 201")
        times.append(result["request_ms"])
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far (Linux: KiB)
    return {
        "prewarmed_first_request_ms": min(times),
        "prewarmed_first_request_ms_max": max(times),
        "first_order_peak_rss_mb": peak_kb / 1024,
    }
