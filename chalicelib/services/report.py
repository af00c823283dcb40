"""The central bank's points report, kept off the request path: the store table's stream consumer counts every new
ledger entry into its Asia/Shanghai day (once, however often the stream delivers it); the report reads the days."""
from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Optional

from chalicelib.adapters.clock import Clock
from chalicelib.adapters.dynamo import Contention, from_item
from chalicelib.adapters.report_repo import ReportRepository
from chalicelib.domain import report as rules
from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.points import shanghai_day

LEDGER_PREFIX = "LEDGER#"


def ledger_entry(record: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The points ledger entry a stream record inserts, or None for any other record."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    if record.get("eventName") != "INSERT" or not str((image.get("sk") or {}).get("S", "")).startswith(LEDGER_PREFIX):
        return None
    return from_item(image)


def day_and_shard(entry: dict[str, Any]) -> tuple[str, int]:
    moment = dt.datetime.fromisoformat(entry["created_at"].replace("Z", "+00:00"))
    digest = hashlib.sha256(f"{entry['pk']}|{entry['sk']}".encode()).hexdigest()
    return shanghai_day(moment), int(digest[:8], 16) % rules.REPORT_SHARDS


class PointsReportService:
    def __init__(self, repo: ReportRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    def count(self, entry: dict[str, Any], attempts: int = 8) -> bool:
        """Count one ledger entry into its day; False if it was counted before. Contention (another entry of the
        same day and shard at the same moment) is retried here; past `attempts` it raises for the stream to
        deliver the record again."""
        day, shard = day_and_shard(entry)
        for attempt in range(attempts):
            try:
                return self._repo.count({"pk": {"S": entry["pk"]}, "sk": {"S": entry["sk"]}}, entry, day, shard)
            except Contention:
                if attempt == attempts - 1:
                    raise
        return False  # not reached

    def report(self, query: rules.ReportQuery) -> rules.PointsReport:
        last = query.to or shanghai_day(self._clock.now())
        first = query.from_ or (dt.date.fromisoformat(last) - dt.timedelta(days=29)).isoformat()
        if first > last:
            raise InvalidRequest("from is after to", {"fields": {"from": f"on or before {last}"}})
        span = (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1
        if span > rules.MAX_REPORT_DAYS:
            raise InvalidRequest(f"at most {rules.MAX_REPORT_DAYS} days at once, not {span}",
                                 {"fields": {"from": f"at most {rules.MAX_REPORT_DAYS} days before to"}})
        return rules.report(first, last, self._repo.days(last))
