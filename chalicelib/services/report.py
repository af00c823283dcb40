"""The central bank's points report, kept off the request path: the store table's stream consumer counts every new
ledger entry into its Asia/Shanghai day (once, however often the stream delivers it); the report reads the days."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING, Any, Optional

from chalicelib.adapters.clock import Clock
from chalicelib.adapters.dynamo import from_item
from chalicelib.adapters.report_repo import Counted, ReportRepository
from chalicelib.domain import report as rules
from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.points import shanghai_day
from chalicelib.services.retry import once_in_groups

if TYPE_CHECKING:
    from chalicelib.services.policy import PolicyBook

LEDGER_PREFIX = "LEDGER#"
GROUP = 25  # ledger entries per transaction: 25 marks and at most 25 day-shard updates
_Group = list[tuple[dict[str, Any], str, int]]  # ledger entries with their (day, shard)


def ledger_entry(record: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The points ledger entry a stream record inserts, None for any other record; ValueError for a ledger item
    that cannot be counted (it is parked for repair, never retried)."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    if record.get("eventName") != "INSERT" or not str((image.get("sk") or {}).get("S", "")).startswith(LEDGER_PREFIX):
        return None
    entry = from_item(image)
    try:
        day_and_shard(entry)
        if not all(isinstance(entry.get(k, 0), int) for k in ("delta", "held_delta")) or "kind" not in entry:
            raise ValueError("no kind, or a delta that is not a whole number")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"ledger item {entry.get('pk')} {entry.get('sk')} cannot be counted: {exc}") from None
    return entry


def day_and_shard(entry: dict[str, Any]) -> tuple[str, int]:
    moment = dt.datetime.fromisoformat(entry["created_at"].replace("Z", "+00:00"))
    digest = hashlib.sha256(f"{entry['pk']}|{entry['sk']}".encode()).hexdigest()
    return shanghai_day(moment), int(digest[:8], 16) % rules.REPORT_SHARDS


class PointsReportService:
    def __init__(self, repo: ReportRepository, clock: Clock, policy: Optional[PolicyBook] = None) -> None:
        self._repo = repo
        self._clock = clock
        self._policy = policy

    def count(self, entries: list[dict[str, Any]], attempts: int = 8) -> int:
        """Count ledger entries into their days, each once (25 to a transaction; services/retry.once_in_groups).
        How many were counted now."""
        return once_in_groups([(e, *day_and_shard(e)) for e in entries], self._repo.count, Counted, GROUP, attempts)

    def report(self, query: rules.ReportQuery) -> rules.PointsReport:
        last = query.to or shanghai_day(self._clock.now())
        first = query.from_ or (dt.date.fromisoformat(last) - dt.timedelta(days=29)).isoformat()
        if first > last:
            raise InvalidRequest("from is after to", {"fields": {"from": f"on or before {last}"}})
        span = (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1
        if span > rules.MAX_REPORT_DAYS:
            raise InvalidRequest(
                f"at most {rules.MAX_REPORT_DAYS} days at once, not {span}",
                {"fields": {"from": f"at most {rules.MAX_REPORT_DAYS} days before to"}},
            )
        expiry = self._policy.current().expiry if self._policy else None
        report = rules.report(first, last, self._repo.days(last), expiry.breakage_rate if expiry else None)
        totals = self._repo.lot_totals()
        return (
            report.model_copy(update={"expiring": rules.expiring_soon(totals, self._clock.now())}) if totals else report
        )
