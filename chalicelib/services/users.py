"""User profiles: created on a user's first authenticated call."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.clock import iso
from chalicelib.adapters.users_repo import UserRepository, new_profile


class UserService:
    def __init__(self, repo: UserRepository, clock: Any) -> None:
        self._repo = repo
        self._clock = clock
        self._known: set[str] = set()  # profiles this container already made sure of

    def ensure_profile(self, user_id: str) -> None:
        if user_id in self._known:
            return
        self._repo.create_if_absent(new_profile(user_id, iso(self._clock.now())))
        self._known.add(user_id)
