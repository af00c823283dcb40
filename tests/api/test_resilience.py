"""Faults and caching at the edge: a store that stops answering, and public reads a CDN can serve."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.bootstrap import Container
from chalicelib.settings import Settings
from infra import provision
from tests.api.shop import add_product
from tests.helpers import Tokens, uid
from tools import localstack

ROOT = Path(__file__).resolve().parent.parent.parent


def test_a_paused_dynamodb_answers_503_within_seconds_not_after_api_gateways_29(endpoints):
    port = localstack.free_port()
    proc = localstack.start_dynamodb(port)  # its own DynamoDB Local: pausing it disturbs no other test
    try:
        settings = Settings(
            stage="local",
            resource_prefix=uid("pause"),
            dynamodb_endpoint=f"http://127.0.0.1:{port}",
            sqs_endpoint=endpoints["sqs"],
            region="cn-north-1",
            jwt_secret="test-secret-that-is-long-enough-for-hs256",
            dynamodb_connect_timeout_s=1,
            dynamodb_read_timeout_s=1,
            dynamodb_max_attempts=2,
        )
        container = Container(settings)
        provision.create_tables(container.dynamodb, settings.prefix)
        bootstrap.use(container)
        from app import app

        client = Client(app, stage_name="local", project_dir=str(ROOT))
        auth = {"Authorization": "Bearer " + Tokens(settings.local_jwt_secret)("fan-1")}
        assert client.http.get("/me", headers=auth).status_code == 200
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            for path, headers in (("/products", {}), ("/me", auth)):
                started = time.monotonic()
                r = client.http.get(path, headers=headers)
                took = time.monotonic() - started
                body = json.loads(r.body)
                assert (r.status_code, body["error"]["code"]) == (503, "unavailable"), body
                assert r.headers["Retry-After"] == "1" and took < 10, took
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        assert client.http.get("/me", headers=auth).status_code == 200, "it recovers by itself"
    finally:
        bootstrap.use(None)
        localstack.stop(proc)


def test_public_reads_carry_a_strong_etag_and_answer_304_when_unchanged(api, services):
    add_product(services, price_fen=10000, stock=5)
    for path in ("/categories", "/products?category=tech", "/designs"):
        first = api.get(path)
        etag = first.headers["ETag"]
        assert first.status == 200 and first.headers["Cache-Control"] == "public, max-age=30"
        assert etag.startswith('"') and etag.endswith('"'), "a strong validator"
        again = api.get(path, headers={"If-None-Match": etag})
        assert (again.status, again.json, again.headers["ETag"]) == (304, None, etag)
        assert api.get(path, headers={"If-None-Match": '"stale"'}).status == 200
    product_id = api.get("/products?category=tech").json["items"][0]["product_id"]
    before = api.get(f"/products/{product_id}").headers["ETag"]
    sku = api.get(f"/products/{product_id}").json["skus"][0]["sku"]
    api.merch("POST", f"/admin/skus/{sku}/stock", {"delta": -1, "reason": "damaged"})
    changed = api.get(f"/products/{product_id}", headers={"If-None-Match": before})
    assert changed.status == 200 and changed.headers["ETag"] != before, "a change of stock is a new version"


def test_private_reads_are_never_marked_cacheable(api):
    r = api.get("/me", user=uid("fan"))
    assert r.status == 200 and "ETag" not in r.headers and r.headers["Cache-Control"] == "no-store"
