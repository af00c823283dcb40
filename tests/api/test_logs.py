"""Operators read JSON log lines: one per order state change, with the request's correlation id, no secrets."""

from __future__ import annotations

import json

from tests.api.shop import add_product, give_points, order_body


def log_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_each_order_state_change_is_one_json_line_with_the_correlation_id(api, services, capsys):
    sku = add_product(services, price_fen=10000, stock=5)
    give_points(services, "buyer", 100)
    capsys.readouterr()
    headers = {"Idempotency-Key": "log-test-0001", "X-Correlation-Id": "trace-abc-123"}
    r = api.post("/orders", order_body((sku, 1), points=100), user="buyer", headers=headers)
    assert r.status == 201 and r.headers["X-Correlation-Id"] == "trace-abc-123"
    api.post(
        f"/dev/payments/{r.json['payment']['payment_intent_id']}/succeed", headers={"X-Correlation-Id": "trace-pay-456"}
    )
    states = [line for line in log_lines(capsys) if line["message"] == "order state changed"]
    assert [(s["from_status"], s["to_status"], s["correlation_id"]) for s in states] == [
        (None, "pending_payment", "trace-abc-123"),
        ("pending_payment", "paid", "trace-pay-456"),
    ]
    assert all(s["order_id"] == r.json["order_id"] for s in states)


def test_logs_never_carry_tokens_or_bodies(api, services, capsys, monkeypatch):
    monkeypatch.setattr(services.catalog, "categories", lambda: 1 / 0)
    token = api.tokens("buyer")
    api.get("/categories", headers={"Authorization": f"Bearer {token}", "X-Correlation-Id": "bad id with spaces"})
    lines = log_lines(capsys)
    assert lines and lines[-1]["level"] == "ERROR" and "ZeroDivisionError" in lines[-1]["exception"]
    assert lines[-1]["correlation_id"] != "bad id with spaces"
    assert token not in json.dumps(lines)


# -- What an attacker showed us (money hardening): stock hoarding, payment events that must match, failed payments
# that are not final, orders too big to cancel, sales at old terms, input hygiene. Here: input hygiene of the
# correlation id. --
def test_a_correlation_id_over_64_characters_is_replaced_not_cut(api):
    given = "a" * 70
    r = api.get("/categories", headers={"X-Correlation-Id": given})
    assert r.headers["X-Correlation-Id"] not in (given, given[:64])
    assert api.get("/categories", headers={"X-Correlation-Id": "a" * 64}).headers["X-Correlation-Id"] == "a" * 64
