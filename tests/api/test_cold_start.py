"""A Lambda SnapStart snapshot must hold everything a first request needs: after bootstrap.prewarm, serving the
first order imports no module (each import on the request path is time a restored function pays again)."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.api.shop import add_product, give_points, order_body
from tools import cold_start, localstack


def first_order(services, snap_start: bool) -> dict:
    sku = add_product(services, price_fen=1000, stock=10, cash=False)
    user = f"cold-{time.time_ns()}"
    give_points(services, user, 100)
    s = services.settings
    env = {
        **localstack.LOCAL_CREDENTIALS,
        "LIFESHOP_STAGE": "local",
        "LIFESHOP_RESOURCE_PREFIX": s.prefix,
        "LIFESHOP_DYNAMODB_ENDPOINT": s.dynamodb_endpoint,
        "LIFESHOP_SQS_ENDPOINT": s.sqs_endpoint,
        "LIFESHOP_JWT_SECRET": s.local_jwt_secret,
        "LIFESHOP_REGION": s.region,
    }
    from chalicelib.adapters.tokens import mint_local_token

    spec = {
        "token": mint_local_token(s.local_jwt_secret, user, [], 600, int(time.time())),
        "key": f"cold-key-{time.time_ns()}",
        "body": order_body((sku, 1), points=100),
    }
    return cold_start.first_order(spec, env, snap_start=snap_start)


def test_after_a_snapstart_init_the_first_order_imports_nothing(services):
    result = first_order(services, snap_start=True)
    assert result["status"] == 201
    assert result["imported"] == [], "imported on the request path, after the snapshot"


def test_without_it_the_first_order_loads_the_services_on_demand(services):
    result = first_order(services, snap_start=False)
    assert result["status"] == 201
    assert "chalicelib.services.checkout" in result["imported"], "a plain cold start stays lazy"
    assert result["clients"] == ["dynamodb"], "an order sends nothing to SQS: its cold start builds no SQS client"


# their routes name their models "module:Name"; pypinyin loads in the search index's consumer only
OFF_THE_ORDER_PATH = (
    "policy",
    "envelopes",
    "report",
    "audit",
    "search",
    "home",
    "merchants",
    "tips",
    "bookings",
    "reviews",
    "polls",
    "community",
)


def test_importing_the_app_loads_no_model_module_an_order_does_not_need():
    code = "import sys, app; print(' '.join(sorted(m for m in sys.modules if m.startswith(('chalicelib.domain.', 'pypinyin')))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert "chalicelib.domain.orders" in loaded
    assert not [m for m in loaded if m.startswith("pypinyin")]
    assert [m for m in loaded if m.split(".")[-1] in OFF_THE_ORDER_PATH] == []


def test_nor_does_the_first_order(services):
    result = first_order(services, snap_start=False)
    assert result["status"] == 201
    assert "chalicelib.services.checkout" in result["imported"], "what it does need loads on demand"
    domain = [m for m in result["imported"] if m.startswith("chalicelib.domain.")]
    assert [m for m in domain if m.split(".")[-1] in OFF_THE_ORDER_PATH] == []
    assert not [m for m in result["imported"] if m.startswith("pypinyin")]
