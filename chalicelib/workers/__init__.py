"""Scheduled work: outbox relay, payment-expiry sweep, royalty settlement (idempotent; safe any time)."""
from __future__ import annotations

import datetime as dt

from chalicelib import bootstrap, logs
from chalicelib.adapters.clock import iso

log = logs.get("workers")
RELAY_MIN_AGE_S = 10  # let the request path publish first; the relay is the safety net


def relay_outbox() -> int:
    services = bootstrap.container()
    now = services.clock.now()
    sent = services.outbox.relay(iso(now - dt.timedelta(seconds=RELAY_MIN_AGE_S)), iso(now))
    log.info("outbox relay", extra={"sent": sent})
    return sent


def expire_orders() -> int:
    expired = bootstrap.container().orders.expire_overdue()
    log.info("payment expiry sweep", extra={"expired": expired})
    return expired


def settle_royalties() -> int:
    settled = bootstrap.container().royalties.settle()
    log.info("royalty settlement", extra={"settled": settled})
    return settled


def retry_refunds() -> int:
    done = bootstrap.container().orders.retry_refunds()
    log.info("refund retry", extra={"refunded": done})
    return done
