"""Occasions (the seed's 车主生日/节日关怀): a user's birthday, and the points the policy in force grants on it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from chalicelib import logs
from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.users_repo import UserRepository
from chalicelib.domain import points as rules
from chalicelib.domain.errors import BudgetExhausted, NotFound, TooSoon
from chalicelib.domain.points import GrantInput

if TYPE_CHECKING:
    from chalicelib.services.campaigns import CampaignService
    from chalicelib.services.policy import PolicyBook

log = logs.get("occasions")
ACTOR = "occasions"  # who the audit log names for a birthday grant


class OccasionService:
    def __init__(self, users: UserRepository, campaigns: CampaignService, policy: PolicyBook, clock: Clock) -> None:
        self._users = users
        self._campaigns = campaigns
        self._policy = policy
        self._clock = clock

    def profile(self, user_id: str) -> rules.ProfileView:
        return _view(user_id, self._users.birthday(user_id))

    def set_profile(self, user_id: str, body: rules.ProfileInput) -> rules.ProfileView:
        now = self._clock.now()
        at, year_ago = iso(now), iso(now - dt.timedelta(days=rules.BIRTHDAY_CHANGE_DAYS))
        current = self._users.birthday(user_id)
        if current and current["birthday"] == body.birthday:
            return _view(user_id, current)  # the same again changes nothing (and starts no new year)
        locked = TooSoon(
            "a birthday can be changed once a year",
            {"fields": {"birthday": "changed less than a year ago"}, "changeable_from": _changeable(current)},
        )
        self._users.set_birthday(user_id, body.birthday, at, year_ago, on_fail=locked)
        return _view(user_id, {"birthday": body.birthday, "set_at": at})

    def grant_birthdays(self) -> int:
        """Scheduled: the policy's birthday points to everyone whose birthday is today (Asia/Shanghai), from its
        campaign, once per user and year (the grant's ref), never past the campaign's budget. A work list by day."""
        now = self._clock.now()
        occasion = self._policy.at(now).occasions.birthday
        if occasion is None:
            return 0
        day = rules.shanghai_day(now)
        known_by = iso(now - dt.timedelta(days=rules.BIRTHDAY_NOTICE_DAYS))
        granted = 0
        for birthday in rules.birthdays_on(day):
            for user_id, set_at in self._users.born_on(birthday):
                if set_at > known_by:  # set (or an account made) just before the day: next year
                    continue
                body = GrantInput(
                    user_id=user_id, points=occasion.points, reason="birthday", ref=f"birthday:{day[:4]}:{user_id}"
                )
                try:
                    self._campaigns.grant(ACTOR, occasion.campaign_id, body, audit=("occasion.birthday", user_id))
                    granted += 1
                except BudgetExhausted:
                    log.warning("the birthday campaign's budget is spent", extra={"campaign_id": occasion.campaign_id})
                    return granted
                except NotFound:
                    log.error(
                        "the policy's birthday campaign does not exist", extra={"campaign_id": occasion.campaign_id}
                    )
                    return granted
        return granted


def _changeable(record: Any) -> Any:
    if not record:
        return None
    set_at = dt.datetime.fromisoformat(record["set_at"].replace("Z", "+00:00"))
    return iso(set_at + dt.timedelta(days=rules.BIRTHDAY_CHANGE_DAYS))


def _view(user_id: str, record: Any) -> rules.ProfileView:
    return rules.ProfileView(
        user_id=user_id, birthday=record["birthday"] if record else None, changeable_from=_changeable(record)
    )
