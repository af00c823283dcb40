"""Demo bearer tokens for stage local (`python -m tools.tokens` prints them again)."""
from __future__ import annotations

import time

from chalicelib.adapters.tokens import mint_local_token
from chalicelib.settings import Settings

DEMO_USERS = {"fan-1": [], "owner-1": [], "merch-1": ["merchandiser"], "partner-1": ["partner"]}
THIRTY_DAYS_S = 30 * 24 * 3600


def demo_tokens(secret: str) -> dict[str, str]:
    now = int(time.time())
    return {user: mint_local_token(secret, user, groups, THIRTY_DAYS_S, now) for user, groups in DEMO_USERS.items()}


if __name__ == "__main__":
    for user, token in demo_tokens(Settings().local_jwt_secret).items():
        print(f"{user:<10} {token}")
