"""Work off the request path: the outbox's stream consumer, and scheduled sweeps (idempotent; safe any time)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from chalicelib import bootstrap, logs

if TYPE_CHECKING:  # `app.py` imports this module; the outbox (and boto3 with it) loads on the first record
    from chalicelib.adapters.outbox import Outbox
    from chalicelib.services.merchant_payments import MerchantStatements
    from chalicelib.services.report import PointsReportService
    from chalicelib.services.reviews import ReviewService
    from chalicelib.services.search import SearchIndexer
    from chalicelib.services.tips import TipService

log = logs.get("workers")
# `app.py` needs a stream ARN at import time; `make package` replaces it with the store table's StreamArn.
STORE_STREAM = "arn:aws:dynamodb:cn-north-1:000000000000:table/lifeshop-store/stream/set-by-make-package"


def publish_outbox(records: list[dict[str, Any]], outbox: Optional[Outbox] = None) -> dict[str, list[dict[str, str]]]:
    """The store table's stream consumer of outbox items (on AWS its event source mapping passes only those):
    publish each new outbox item, in order.

    Answers Lambda's partial batch response: the first record SQS did not take is reported, and the stream
    delivers it and everything after it again (events of one order keep their order). A record that is not an
    outbox item is skipped; an outbox item that is not a valid event, or is for a partner with no queue, is parked
    for repair, never retried."""
    from chalicelib.adapters.outbox import NoQueue

    outbox = outbox or bootstrap.container().outbox
    sent = 0
    for record in records:
        event = notice = None
        try:
            event = outbox.event_of(record)
            notice = None if event else outbox.notice_of(record)
            done = outbox.publish(event) if event else outbox.notify(notice) if notice else True
        except ValueError:
            log.error("a malformed outbox item is parked for repair", extra={"stream_event_id": record.get("eventID")})
            done = outbox.park(record, "not a valid event")
        except NoQueue as exc:
            log.error(
                "an event for a partner without a queue is parked for repair",
                extra={"stream_event_id": record.get("eventID"), "partner_id": str(exc)},
            )
            done = outbox.park(record, f"partner {exc} has no queue")
        if not done:
            failed_at = record["dynamodb"]["SequenceNumber"]
            log.info("outbox stream batch", extra={"sent": sent, "failed_at": failed_at})
            return {"batchItemFailures": [{"itemIdentifier": failed_at}]}
        sent += event is not None or notice is not None
    if sent:
        log.info("outbox stream batch", extra={"sent": sent})
    return {"batchItemFailures": []}


def count_ledger(
    records: list[dict[str, Any]], report: Optional[PointsReportService] = None, outbox: Optional[Outbox] = None
) -> dict[str, list[dict[str, str]]]:
    """The store table's stream consumer of new points ledger entries (its own Lambda, so partner events never
    wait behind it): count them into the points report, each once however often the stream delivers it. A ledger
    item that cannot be counted is parked for repair; if the store is busy or down, the whole batch is reported
    failed and comes again (what was counted is not counted twice)."""
    from chalicelib.services.report import ledger_entry

    report = report or bootstrap.container().points_report
    entries: list[dict[str, Any]] = []
    for record in records:
        try:
            entry = ledger_entry(record)
        except ValueError as exc:
            log.error("a ledger item that cannot be counted is parked for repair", extra={"problem": str(exc)})
            if not (outbox or bootstrap.container().outbox).park(record, str(exc)):
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
            continue
        if entry is not None:
            entries.append(entry)
    try:
        counted = report.count(entries)
    except Exception:  # the store is busy or down: everything comes again; entries counted already are skipped
        log.warning("ledger entries could not be counted; the stream delivers them again", exc_info=True)
        return (
            {"batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]}
            if records
            else {"batchItemFailures": []}
        )
    if counted:
        log.info("ledger stream batch", extra={"ledger_entries_counted": counted})
    return {"batchItemFailures": []}


def _image(record: dict[str, Any], prefix: str) -> Optional[dict[str, Any]]:
    """The new image of a `<prefix>...`/META item in a stream record, as plain values (None for other records)."""
    from chalicelib.adapters.dynamo import from_image

    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    if not str((keys.get("pk") or {}).get("S", "")).startswith(prefix) or (keys.get("sk") or {}).get("S") != "META":
        return None
    image = (record.get("dynamodb") or {}).get("NewImage")
    return from_image(image) if image else None


def _each(records: list[dict[str, Any]], prefix: str, handle: Any, what: str) -> dict[str, list[dict[str, str]]]:
    """Hand each record's item to `handle`, in order; the first that fails is reported, and the stream delivers it
    and everything after it again (every handler here can be repeated)."""
    done = 0
    for record in records:
        item = _image(record, prefix)
        try:
            done += bool(item is not None and handle(item))
        except Exception:
            log.warning(f"{what}: a record failed; the stream delivers it again", exc_info=True)
            return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
    if done:
        log.info(f"{what} stream batch", extra={"handled": done})
    return {"batchItemFailures": []}


def index_catalog(
    records: list[dict[str, Any]], indexer: Optional[SearchIndexer] = None, reviews: Optional[ReviewService] = None
) -> dict[str, list[dict[str, str]]]:
    """The store table's stream consumer of products: each product's search postings as its new image says (an
    active product under its tokens, any other under none); an image older than the one indexed is skipped. A
    change of a product's rating shards sets its rating on the product (the search and product pages read it
    there), which comes back through this consumer as a new image."""
    indexer = indexer or bootstrap.container().search_indexer
    rated = {
        str(keys["pk"]["S"]).removeprefix("PRODUCT#")
        for keys in ((r.get("dynamodb") or {}).get("Keys") or {} for r in records)
        if str((keys.get("sk") or {}).get("S", "")).startswith("RATING#") and "pk" in keys
    }
    for product_id in sorted(rated):  # a review approved or refunded: the product's rating from its shards
        (reviews or bootstrap.container().reviews).fold_rating(product_id)
    return _each(records, "PRODUCT#", indexer.index, "search index")


def count_sales(
    records: list[dict[str, Any]], indexer: Optional[SearchIndexer] = None, reviews: Optional[ReviewService] = None
) -> dict[str, list[dict[str, str]]]:
    """The store table's stream consumer of orders: the units of an order that has sold, into its Shanghai day's
    shard, once (for `sort=popular`); those of a counted order refunded or cancelled, back out, once; and the
    reviews of a refunded or cancelled order out of their products' ratings, once."""
    from chalicelib.services.search import SOLD, UNSOLD

    indexer = indexer or bootstrap.container().search_indexer
    counted = SOLD + UNSOLD

    def handle(order: dict[str, Any]) -> bool:
        if order.get("status") not in counted:
            return False
        if order["status"] in UNSOLD:  # its reviews leave the products' ratings (kept, marked), once
            (reviews or bootstrap.container().reviews).exclude_order(order["order_id"])
        return indexer.count_sale(order)

    return _each(records, "ORDER#", handle, "sales count")


def keep_statements(
    records: list[dict[str, Any]],
    statements: Optional[MerchantStatements] = None,
    tips: Optional[TipService] = None,
) -> dict[str, list[dict[str, str]]]:
    """The store table's stream consumer of points beyond the shop (one Lambda for both: DynamoDB Streams serves
    two readers a shard well, and the table has five): each merchant payment and refund into its merchant's
    statement for its Shanghai day, and each tip into its day's sender → recipient sum, once however often the
    stream delivers it. If the store is busy or down, the batch comes again (what was counted is not counted twice)."""
    from chalicelib.adapters.dynamo import from_image
    from chalicelib.services.merchant_payments import is_payment_or_refund

    payments, tipped = [], []
    for record in records:
        image = (record.get("dynamodb") or {}).get("NewImage")
        item = from_image(image) if record.get("eventName") == "INSERT" and image else {}
        if is_payment_or_refund(item):
            payments.append(item)
        elif str(item.get("pk", "")).startswith("TIP#") and item.get("sk") == "META":
            tipped.append(item)

    def count() -> int:
        done = (statements or bootstrap.container().merchant_statements).count(payments) if payments else 0
        return done + ((tips or bootstrap.container().tips).count(tipped) if tipped else 0)

    return _counted(records, count, "statements and tip flows")


def _counted(records: list[dict[str, Any]], count: Any, what: str) -> dict[str, list[dict[str, str]]]:
    """Run a consumer's `count()` of the batch; if the store is busy or down, the whole batch comes again (what was
    counted is not counted twice)."""
    try:
        done = count()
    except Exception:
        log.warning(f"{what}: the batch could not be counted; the stream delivers it again", exc_info=True)
        first = records[0]["dynamodb"]["SequenceNumber"] if records else None
        return {"batchItemFailures": [{"itemIdentifier": first}] if first else []}
    if done:
        log.info(f"{what} stream batch", extra={"counted": done})
    return {"batchItemFailures": []}


def rank_popular() -> int:
    """Units sold over the last 30 Shanghai days, per product, into the ranking `popular` reads."""
    ranked = bootstrap.container().search_indexer.rank_popular()
    log.info("popular ranking", extra={"products": ranked})
    return ranked


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


def settle_events() -> int:
    """Refunds of cancelled events still owed, lapsed waitlist offers, places freed for the queues, then host
    rewards of user-hosted events that have ended."""
    services = bootstrap.container()
    refunded = services.events.refund_cancelled()
    lapsed, offered = services.waitlist.lapse_offers(), services.waitlist.offer_waitlists()
    credited = services.host_rewards.settle_rewards()
    log.info(
        "event settlement",
        extra={
            "refunded_events": refunded,
            "offers_lapsed": lapsed,
            "offers_made": offered,
            "rewards_credited": credited,
        },
    )
    return credited


def grant_birthdays() -> int:
    """The policy's birthday points to everyone whose birthday it is today (Asia/Shanghai), once a year each."""
    granted = bootstrap.container().occasions.grant_birthdays()
    log.info("birthday grants", extra={"granted": granted})
    return granted


def expire_lots() -> int:
    """Lots whose month is over expire, once, for the accounts nothing has touched since (a work list by month)."""
    expired = bootstrap.container().lots.sweep()
    log.info("points expiry sweep", extra={"expired": expired})
    return expired


def notify_expiring() -> int:
    """`points.expiring` notices 30 and 3 days before a lot ends, once per lot and notice (sent from the stream)."""
    written = bootstrap.container().lots.notify()
    log.info("points expiry notices", extra={"written": written})
    return written


def sweep_envelopes() -> int:
    """Red envelopes past their expiry return what is left to their sender or campaign, once."""
    closed = bootstrap.container().envelopes.sweep()
    log.info("envelope expiry sweep", extra={"closed": closed})
    return closed
