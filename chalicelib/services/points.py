"""Earning points: daily check-ins and community tasks under the tier's daily cap; tiers; the ledger."""
from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.clock import iso
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.domain import points as rules
from chalicelib.domain.errors import AlreadyCheckedIn, NotFound
from chalicelib.services.accounts import Accounts, Plan, Replay
from chalicelib.settings import Settings


class PointsService:
    def __init__(self, accounts: Accounts, audit: AuditRepository, cursors: CursorCodec, settings: Settings) -> None:
        self._accounts = accounts
        self._audit = audit
        self._cursors = cursors
        self._settings = settings

    # -- reads -------------------------------------------------------------------------------
    def me(self, user_id: str) -> rules.Me:
        profile = self._accounts.load(user_id)
        today = rules.shanghai_day(self._accounts.clock.now())
        return rules.Me(
            user_id=user_id, tier=profile["tier"],
            points=rules.PointsBalance(available=profile["points_available"], held=profile["points_held"]),
            earned_today=_earned_on(profile, today), daily_cap=self._settings.daily_caps[profile["tier"]])

    def ledger(self, user_id: str, limit: int, cursor: Optional[str]) -> rules.LedgerPage:
        scope = f"ledger|{user_id}"
        items, last = self._accounts.repo.ledger_page(user_id, limit, self._cursors.decode(cursor, scope))
        return rules.LedgerPage(items=[rules.LedgerEntry.model_validate(i) for i in items],
                                next_cursor=self._cursors.encode(last, scope))

    # -- earning -----------------------------------------------------------------------------
    def check_in(self, user_id: str) -> rules.CheckinResult:
        def plan(profile: dict[str, Any], now: Any) -> Plan:
            day = rules.shanghai_day(now)
            award, after = self._award(profile, day, self._settings.task_points["checkin"])
            marker = self._accounts.repo.marker_op(user_id, f"CHECKIN#{day}", {"points_awarded": award, "at": iso(now)})
            entries = [{"delta": award, "kind": "earn", "ref": f"checkin:{day}"}] if award else []
            return Plan(after, entries, [marker], ["checkin"],
                        rules.CheckinResult(points_awarded=award, available=after["points_available"]))

        def on_condition(label: str) -> Exception:
            return AlreadyCheckedIn("you have already checked in today (Asia/Shanghai)")

        return self._accounts.change(user_id, plan, on_condition)

    def earn(self, body: rules.EarnRequest) -> rules.Awarded:
        marker = f"EARN#{body.task}#{body.ref}"

        def plan(profile: dict[str, Any], now: Any) -> Plan:
            award, after = self._award(profile, rules.shanghai_day(now), self._settings.task_points[body.task])
            op = self._accounts.repo.marker_op(body.user_id, marker, {"points_awarded": award, "at": iso(now)})
            if not award:
                return Plan(None, [], [op], ["task"], rules.Awarded(points_awarded=0))
            entry = {"delta": award, "kind": "earn", "ref": f"{body.task}:{body.ref}"}
            return Plan(after, [entry], [op], ["task"], rules.Awarded(points_awarded=award))

        try:
            return self._accounts.change(body.user_id, plan, Replay)
        except Replay:
            first = self._accounts.repo.marker(body.user_id, marker) or {}
            return rules.Awarded(points_awarded=first.get("points_awarded", 0))

    def _award(self, profile: dict[str, Any], day: str, task_points: int) -> tuple[int, dict[str, Any]]:
        earned = _earned_on(profile, day)
        award = rules.capped_award(task_points, earned, self._settings.daily_caps[profile["tier"]])
        after = {**profile, "earned_day": day, "earned_today": earned + award,
                 "points_available": profile["points_available"] + award}
        return award, after

    # -- tiers -------------------------------------------------------------------------------
    def set_tier(self, actor: str, user_id: str, body: rules.TierChange) -> rules.UserTier:
        if not rules.is_user_id(user_id):
            raise NotFound(f"no user {user_id[:64]!r}: user ids are 1-64 of A-Z a-z 0-9 _ -", {"user_id": user_id})
        def plan(profile: dict[str, Any], now: Any) -> Plan:
            at = iso(now)
            verified = {"vin": body.vin, "verified_by": actor, "verified_at": at} if body.tier == "owner" else \
                {"vin": None, "verified_by": None, "verified_at": None}
            after = {**profile, "tier": body.tier, **verified}
            shown = {k: profile.get(k) for k in ("tier", "vin", "verified_by", "verified_at")}
            audit = self._audit.record_op(actor, "user.tier", user_id, shown, {"tier": body.tier, **verified}, at)
            return Plan(after, [], [audit], ["audit"], rules.UserTier(user_id=user_id, tier=body.tier, **verified))

        return self._accounts.change(user_id, plan, Replay)


def _earned_on(profile: dict[str, Any], day: str) -> int:
    return profile.get("earned_today", 0) if profile.get("earned_day") == day else 0
