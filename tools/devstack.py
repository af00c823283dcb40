"""`make run`: DynamoDB Local + local SQS + tables/queues from infra/ + seeded catalog + chalice local."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Callable

from chalicelib import bootstrap, workers
from chalicelib.bootstrap import Container
from chalicelib.settings import Settings
from infra import provision
from tools import catalog, demo, localstack
from tools.reindex import count_recent_sales, reindex
from tools.streams import outbox_poller
from tools.tokens import demo_tokens, label

HOST = "127.0.0.1"


def main() -> int:
    api_port = int(os.environ.get("LIFESHOP_API_PORT", "8000"))
    ddb_port = int(os.environ.get("LIFESHOP_DDB_PORT", "8001"))
    sqs_port = int(os.environ.get("LIFESHOP_SQS_PORT", "8002"))
    env = {
        **os.environ,
        **localstack.LOCAL_CREDENTIALS,
        "LIFESHOP_STAGE": "local",
        "LIFESHOP_DYNAMODB_ENDPOINT": f"http://{HOST}:{ddb_port}",
        "LIFESHOP_SQS_ENDPOINT": f"http://{HOST}:{sqs_port}",
    }
    os.environ.update(env)
    procs: list[subprocess.Popen] = []
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)  # also when started in the background, where SIGINT is ignored
    try:
        print(f"DynamoDB Local  http://{HOST}:{ddb_port}  (data in .local/dynamodb)", flush=True)
        procs.append(localstack.start_dynamodb(ddb_port, localstack.ROOT / ".local" / "dynamodb"))
        print(f"SQS (moto)      http://{HOST}:{sqs_port}", flush=True)
        procs.append(localstack.start_sqs(sqs_port))
        settings = Settings()
        services = Container(settings)
        provision.create_tables(services.dynamodb, settings.prefix)
        queues = provision.create_queues(
            services.boto_session.client("sqs", endpoint_url=settings.sqs_endpoint), settings.prefix
        )
        report = catalog.seed(services.catalog, catalog.load())
        print(f"catalog: {len(report.created)} products created, {len(report.kept)} already there (kept as they are)")
        demo.set_up(services)
        print(f"search index: {reindex(services, only_missing=True)} products it had not seen indexed now")
        print(f"popular: {count_recent_sales(services)} orders of the last 30 days counted now (each order once, ever)")
        print(
            f"demo users: owner-1 is a verified owner (VIN {demo.DEMO_VIN}); points: {demo.DEMO_POINTS}; both hold "
            "a welcome-10 coupon"
        )
        for partner in settings.partners:
            categories = ", ".join(c for c, p in settings.partner_routes.items() if p == partner)
            url = queues.get(settings.partner_queue(partner), "no queue in infra/template.json: its events are parked")
            print(f"partner {partner:<9} {url}  ({categories})")
        print(f"outbox repair   {queues[settings.outbox_failure_queue]}")
        print(f"notifications   {queues[settings.notifications_queue]}  (points.expiring)")
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tools.chalice_local",
                    "local",
                    "--no-autoreload",
                    "--host",
                    HOST,
                    "--port",
                    str(api_port),
                    "--stage",
                    "local",
                ],
                cwd=str(localstack.ROOT),
                env=env,
            )
        )
        localstack.wait_for_port(api_port, procs[-1], "chalice local")
        print(f"\nAPI             http://{HOST}:{api_port}   (OpenAPI: http://{HOST}:{api_port}/openapi.json)")
        print(
            f"Console         http://{HOST}:{api_port}/console   (sign in with the demo merchandiser token it offers)"
        )
        print("Demo bearer tokens (valid 30 days):")
        for user, token in demo_tokens(settings.local_jwt_secret).items():
            print(f"  {label(user):<24} {token}")
        _start_schedules(services)
        print(
            f"The outbox's stream consumer reads the table's stream every {STREAM_EVERY_S} s; scheduled functions "
            f"(payment expiry, royalties, refund retry, event refunds and host rewards, red envelope expiry, birthday grants, points expiry and its notices, "
            f"the popular ranking) run every {SCHEDULE_EVERY_S} s."
        )
        print("Press Ctrl-C to stop everything.", flush=True)
        return _supervise(procs)
    except localstack.StackError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping the local stack", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        localstack.stop(*reversed(procs))


SCHEDULE_EVERY_S = 15
STREAM_EVERY_S = 0.5


def _start_schedules(services: Container) -> None:
    """What AWS runs off the request path, run here on timers with the same worker functions: the stream
    consumer (a Lambda on the table's stream) and the `@app.schedule` functions."""
    bootstrap.use(services)
    poller = outbox_poller(services)

    def every(seconds: float, *work: Callable[[], object]) -> Callable[[], None]:
        def loop() -> None:
            while True:
                time.sleep(seconds)
                for job in work:
                    try:
                        job()
                    except Exception as exc:  # keep the timer alive; the next run retries
                        print(f"{getattr(job, '__name__', job)} failed: {exc}", file=sys.stderr, flush=True)

        return loop

    threading.Thread(target=every(STREAM_EVERY_S, poller.poll), name="stream", daemon=True).start()
    threading.Thread(
        target=every(
            SCHEDULE_EVERY_S,
            workers.expire_orders,
            workers.settle_royalties,
            workers.retry_refunds,
            workers.settle_events,
            workers.sweep_envelopes,
            workers.grant_birthdays,
            workers.expire_lots,
            workers.notify_expiring,
            workers.rank_popular,
        ),
        name="schedules",
        daemon=True,
    ).start()


def _name(proc: subprocess.Popen) -> str:
    args = " ".join(map(str, proc.args))
    for marker, name in (
        ("DynamoDBLocal", "DynamoDB Local"),
        ("moto_server", "the SQS endpoint"),
        ("chalice_local", "chalice local"),
    ):
        if marker in args:
            return name
    return args[:60]


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _supervise(procs: list[subprocess.Popen]) -> int:
    while True:
        for proc in procs:
            if proc.poll() is not None:
                print(f"make run: {_name(proc)} exited with code {proc.returncode}; stopping the rest", file=sys.stderr)
                return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
