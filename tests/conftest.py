"""Fixtures: servers (DynamoDB Local, SQS) -> fresh tables -> container -> API clients -> tokens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
import requests
from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.bootstrap import Container
from chalicelib.settings import Settings
from infra import provision
from tests.helpers import ApiClient, FakeClock, Reply, Tokens, uid
from tools import localstack

ROOT = Path(__file__).resolve().parent.parent
os.environ.update(localstack.LOCAL_CREDENTIALS)


@pytest.fixture(scope="session")
def ddb_endpoint() -> Iterator[str]:
    port = localstack.free_port()
    proc = localstack.start_dynamodb(port)
    yield f"http://127.0.0.1:{port}"
    localstack.stop(proc)


@pytest.fixture(scope="session")
def sqs_endpoint() -> Iterator[str]:
    port = localstack.free_port()
    proc = localstack.start_sqs(port)
    yield f"http://127.0.0.1:{port}"
    localstack.stop(proc)


def make_settings(ddb_endpoint: str, prefix: str, sqs_endpoint: str = "http://127.0.0.1:9") -> Settings:
    return Settings(
        stage="local",
        resource_prefix=prefix,
        dynamodb_endpoint=ddb_endpoint,
        sqs_endpoint=sqs_endpoint,
        region="cn-north-1",
        jwt_secret="test-secret-that-is-long-enough-for-hs256",
    )


# One boto3 session for every container the tests make: a new session loads the DynamoDB and SQS service models
# again (about 0.3 s a test on this machine class; 0.04 s with the shared one). Clients stay per container.
BOTO_SESSION = boto3.session.Session(region_name="cn-north-1")


class LazyQueues(Container):
    """The app's container on a test's own tables, whose queues are made the first time something in the test uses
    SQS: most tests never do, and making the seven queues on the local SQS costs about 90 ms a test."""

    @cached_property
    def sqs(self) -> Any:
        client = Container.sqs.func(self)  # type: ignore[attr-defined]
        provision.create_queues(client, self.settings.prefix)
        return client


def make_container(endpoints: dict[str, str], prefix: str = "", clock: Any = None, streams: bool = False) -> Container:
    """Fresh tables under a new prefix, created from infra/template.json (and its queues, on first use); the store
    table has its stream only with `streams` (a test that reads it is marked `streams`: see infra/provision.py)."""
    settings = make_settings(endpoints["dynamodb"], prefix or uid("t"), endpoints["sqs"])
    container = LazyQueues(settings, clock=clock, boto_session=BOTO_SESSION)
    provision.create_tables(container.dynamodb, container.settings.prefix, streams=streams)
    return container


@pytest.fixture(scope="session")
def endpoints(ddb_endpoint: str, sqs_endpoint: str) -> dict[str, str]:
    return {"dynamodb": ddb_endpoint, "sqs": sqs_endpoint}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(request: pytest.FixtureRequest, endpoints: dict[str, str], clock: FakeClock) -> Iterator[Container]:
    """A fresh, empty set of tables and queues for one test, wired as the app's container (its table streamed if
    the test is marked `streams`)."""
    streams = request.node.get_closest_marker("streams") is not None
    container = make_container(endpoints, clock=clock, streams=streams)
    bootstrap.use(container)
    yield container
    bootstrap.use(None)


@pytest.fixture
def throwaway(services: Container) -> Iterator[Container]:
    """For a test that leaves its store inconsistent on purpose (a repository written alone, without the items the
    shop writes with it; a broken state `make reconcile` must flag): its store table is dropped afterwards, so the
    final reconcile (tests/zz_final) judges only what the shop itself wrote."""
    yield services
    services.dynamodb.delete_table(TableName=services.settings.store_table)


@pytest.fixture
def tokens(services: Container) -> Tokens:
    return Tokens(services.settings.local_jwt_secret)


def _in_process(client: Client):
    def send(method: str, path: str, headers: dict[str, str], data: bytes) -> Reply:
        r = client.http.request(method, path, headers=headers, body=data)
        try:
            body = json.loads(r.body) if r.body else None
        except ValueError:
            body = r.body
        return Reply(r.status_code, body, dict(r.headers))

    return send


@pytest.fixture
def api(services: Container, tokens: Tokens) -> ApiClient:
    """The app in process (chalice.test.Client), on this test's fresh tables."""
    from app import app

    return ApiClient(_in_process(Client(app, stage_name="local", project_dir=str(ROOT))), tokens)


@pytest.fixture(scope="session")
def live_server(endpoints: dict[str, str]) -> Iterator[dict[str, Any]]:
    """A real `chalice local` process (threaded HTTP) on its own tables, for concurrent requests."""
    prefix = uid("live")
    container = make_container(endpoints, prefix, streams=True)  # the console's report test drains it
    _ = container.sqs  # its queues are made now, not on first use here: the server's process sends to them
    port = localstack.free_port()
    env = {
        **os.environ,
        "LIFESHOP_RESOURCE_PREFIX": prefix,
        "LIFESHOP_DYNAMODB_ENDPOINT": endpoints["dynamodb"],
        "LIFESHOP_SQS_ENDPOINT": endpoints["sqs"],
        "LIFESHOP_JWT_SECRET": container.settings.local_jwt_secret,
        "LIFESHOP_REGION": "cn-north-1",
        # The concurrency tests judge what is stored, not how fast: a busy 2-core machine (DynamoDB Local, the
        # server and a crowd of client threads on it) must not turn a slow answer into a 503. The fail-fast
        # timeouts have their own test (tests/api/test_resilience.py, on its own container).
        "LIFESHOP_DYNAMODB_CONNECT_TIMEOUT_S": "5",
        "LIFESHOP_DYNAMODB_READ_TIMEOUT_S": "20",
        "LIFESHOP_DYNAMODB_MAX_ATTEMPTS": "3",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.chalice_local",
            "local",
            "--no-autoreload",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--stage",
            "local",
        ],
        cwd=str(ROOT),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    localstack.wait_for_port(port, proc, "chalice local")
    yield {"url": f"http://127.0.0.1:{port}", "container": container}
    localstack.stop(proc)


@pytest.fixture
def live_api(live_server: dict[str, Any]) -> ApiClient:
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=64))

    def send(method: str, path: str, headers: dict[str, str], data: bytes) -> Reply:
        r = session.request(method, live_server["url"] + path, headers=headers, data=data, timeout=30)
        try:
            body = r.json()
        except ValueError:
            body = r.text
        return Reply(r.status_code, body, dict(r.headers))

    return ApiClient(send, Tokens(live_server["container"].settings.local_jwt_secret))


@pytest.fixture
def sqs(sqs_endpoint: str) -> Any:
    return boto3.client("sqs", endpoint_url=sqs_endpoint, region_name="cn-north-1")
