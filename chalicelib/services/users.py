"""User profiles: created on a user's first authenticated call."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from chalicelib.adapters.clock import iso
from chalicelib.adapters.users_repo import UserRepository


class PointsBalance(BaseModel):
    available: int
    held: int


class Me(BaseModel):
    user_id: str
    tier: Literal["fan", "deposit", "owner"]
    points: PointsBalance
    earned_today: int
    daily_cap: int


DAILY_CAPS = {"owner": 20, "deposit": 5, "fan": 3}


class UserService:
    def __init__(self, repo: UserRepository, clock: Any) -> None:
        self._repo = repo
        self._clock = clock
        self._known: set[str] = set()  # profiles this container already made sure of

    def ensure_profile(self, user_id: str) -> None:
        if user_id in self._known:
            return
        self._repo.create_if_absent({"user_id": user_id, "tier": "fan", "points_available": 0,
                                     "points_held": 0, "created_at": iso(self._clock.now())})
        self._known.add(user_id)

    def me(self, user_id: str) -> Me:
        self.ensure_profile(user_id)
        profile = self._repo.get(user_id) or {}
        tier = profile.get("tier", "fan")
        return Me(user_id=user_id, tier=tier,
                  points=PointsBalance(available=profile.get("points_available", 0),
                                       held=profile.get("points_held", 0)),
                  earned_today=0, daily_cap=DAILY_CAPS[tier])
