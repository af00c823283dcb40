"""Earning points: daily check-ins and community tasks under the tier's daily cap; tiers; the ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Optional

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.clock import iso
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import Replay, Transaction
from chalicelib.domain import points as rules
from chalicelib.domain.errors import AlreadyCheckedIn, NotFound, UnknownTask
from chalicelib.domain.points import Entry, Profile
from chalicelib.domain.policy import PAID_ELSEWHERE, Policy, TaskRule, task_award
from chalicelib.services.accounts import Accounts, Plan, Planner
from chalicelib.services.contribution import ContributionService
from chalicelib.services.lots import LotService
from chalicelib.services.policy import PolicyBook


class TaskDayFull(Exception):
    """The task was paid its per_day times today already."""


class PointsService:
    def __init__(
        self,
        accounts: Accounts,
        audit: AuditRepository,
        cursors: CursorCodec,
        policy: PolicyBook,
        contribution: ContributionService,
    ) -> None:
        self._accounts = accounts
        self._policy = policy
        self._contribution = contribution
        self._audit = audit
        self._cursors = cursors

    # -- reads -------------------------------------------------------------------------------
    def me(self, user_id: str) -> rules.Me:
        profile = self._accounts.load(user_id)
        today = rules.shanghai_day(self._accounts.clock.now())
        contribution = self._contribution.balance(user_id)
        return rules.Me(
            user_id=user_id,
            tier=profile.tier,
            points=rules.PointsBalance(available=profile.points_available, held=profile.points_held),
            earned_today=profile.earned_on(today),
            daily_cap=self._policy.at(self._accounts.clock.now()).daily_caps[profile.tier],
            contribution=contribution,
            vote_weight=self._contribution.vote_weight(contribution),
            expiring=LotService.expiring(profile, self._accounts.clock.now()),
        )

    def ledger(self, user_id: str, limit: int, cursor: Optional[str]) -> rules.LedgerPage:
        scope = f"ledger|{user_id}"
        items, last = self._accounts.repo.ledger_page(user_id, limit, self._cursors.decode(cursor, scope))
        return rules.LedgerPage(
            items=[rules.LedgerEntry.model_validate(i) for i in items], next_cursor=self._cursors.encode(last, scope)
        )

    # -- earning -----------------------------------------------------------------------------
    def check_in(self, user_id: str) -> rules.CheckinResult:
        already = AlreadyCheckedIn("you have already checked in today (Asia/Shanghai)")

        def plan(profile: Profile, now: dt.datetime, tx: Transaction) -> Plan:
            day = profile.earning_day(rules.shanghai_day(now))
            award, after = self._award(profile, day, "checkin", self._policy.at(now))
            self._accounts.repo.add_checkin(
                tx, user_id, day, {"points_awarded": award, "at": iso(now)}, profile.tier, on_fail=already
            )
            entries = [Entry(delta=award, kind="earn", ref=f"checkin:{day}")] if award else []
            return Plan(after, entries, rules.CheckinResult(points_awarded=award, available=after.points_available))

        return self._accounts.change(user_id, plan)

    def earn(self, body: rules.EarnRequest) -> rules.Awarded:
        """A task of the policy in force: once per (user, task, ref), at most its per_day a Shanghai day, under the
        tier's daily cap when it is capped, with its contribution in the same transaction."""
        self._task(self._policy.at(self._accounts.clock.now()), body.task)  # unknown: 422 before any write
        try:
            return self._accounts.change(body.user_id, self._earning(body, counted=True))
        except TaskDayFull:  # paid per_day times today already: recorded, paying nothing
            return self._accounts.change(body.user_id, self._earning(body, counted=False))
        except Replay:
            first = self._accounts.repo.task_award(body.user_id, body.task, body.ref) or {}
            return rules.Awarded(points_awarded=first.get("points_awarded", 0))

    def _earning(self, body: rules.EarnRequest, counted: bool) -> Planner:
        def plan(profile: Profile, now: dt.datetime, tx: Transaction) -> Plan:
            self._task(self._policy.at(now), body.task)
            return self.pay_task(tx, profile, now, body.task, body.ref, counted)

        return plan

    def pay_task(
        self,
        tx: Transaction,
        profile: Profile,
        now: dt.datetime,
        name: str,
        ref: str,
        counted: bool,
        source: Optional[tuple[str, str, int]] = None,
    ) -> Plan:
        """Pay task `name` of the policy in force for `ref` inside another change's transaction `tx`: once per
        (user, task, ref) (Replay if paid already), at most its per_day a Shanghai day (TaskDayFull: plan again
        with `counted` False to record it paying nothing), under the tier's cap when capped, with its contribution.
        A task the policy in force does not have pays nothing. A caller that pays contribution of its own in `tx`
        names that `source` (kind, ref, amount): the task's contribution joins it, as one award (a transaction
        may move a user's contribution balance once)."""
        policy = self._policy.at(now)
        task = policy.tasks.get(name)
        day = rules.shanghai_day(now)
        award, after = self._award(profile, day, name, policy) if counted and task else (0, profile)
        at = iso(now)
        self._accounts.repo.add_task_award(
            tx, profile.user_id, name, ref, {"points_awarded": award, "at": at}, day, profile.tier, on_fail=Replay
        )
        extra = task.contribution if award and task is not None else 0
        if source is not None:
            kind, source_ref, amount = source
            self._contribution.add(tx, profile.user_id, kind, source_ref, at, amount + extra, on_repeat=Replay)
        if not award or task is None:
            return Plan(None, result=rules.Awarded(points_awarded=0))
        self._accounts.repo.count_task_day(tx, profile.user_id, day, name, task.per_day, on_full=TaskDayFull)
        if extra and source is None:
            self._contribution.add(tx, profile.user_id, "task", f"{name}:{ref}", at, extra, on_repeat=Replay)
        entry = Entry(delta=award, kind="earn", ref=f"{name}:{ref}")
        return Plan(after, [entry], rules.Awarded(points_awarded=award))

    @staticmethod
    def _task(policy: Policy, name: str) -> TaskRule:
        if name in PAID_ELSEWHERE:
            raise UnknownTask(
                f"{name} is paid by {PAID_ELSEWHERE[name]}, not by this call",
                {"fields": {"task": "paid elsewhere"}, "task": name},
            )
        task = policy.tasks.get(name)
        if task is None:
            raise UnknownTask(
                f"no task {name!r} in the policy in force (GET /admin/tasks)",
                {"fields": {"task": "not a task of the policy in force"}, "task": name},
            )
        return task

    @staticmethod
    def _award(profile: Profile, day: str, name: str, policy: Policy) -> tuple[int, Profile]:
        task = policy.tasks[name]
        cap = policy.daily_caps[profile.tier]
        award = task_award(task, profile.tier, profile.earned_on(profile.earning_day(day)), cap)
        if task.capped:
            return profile.awarded(day, award, cap)
        return award, profile.posted([Entry(delta=award, kind="earn", ref="")])

    # -- tiers -------------------------------------------------------------------------------
    def set_tier(self, actor: str, user_id: str, body: rules.TierChange) -> rules.UserTier:
        if not rules.is_user_id(user_id):
            raise NotFound(f"no user {user_id[:64]!r}: user ids are 1-64 of A-Z a-z 0-9 _ -", {"user_id": user_id})

        def plan(profile: Profile, now: dt.datetime, tx: Transaction) -> Plan:
            at = iso(now)
            owner = body.tier == "owner"
            after = replace(
                profile,
                tier=body.tier,
                vin=body.vin if owner else None,
                verified_by=actor if owner else None,
                verified_at=at if owner else None,
            )
            shown = rules.UserTier(
                user_id=user_id,
                tier=after.tier,
                vin=after.vin,
                verified_by=after.verified_by,
                verified_at=after.verified_at,
            )
            self._audit.record(tx, actor, "user.tier", user_id, _tier_fields(profile), _tier_fields(after), at)
            return Plan(after, [], shown)

        return self._accounts.change(user_id, plan)


def _tier_fields(profile: Profile) -> dict[str, Optional[str]]:
    return {
        "tier": profile.tier,
        "vin": profile.vin,
        "verified_by": profile.verified_by,
        "verified_at": profile.verified_at,
    }
