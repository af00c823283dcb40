"""Demo bearer tokens for stage local (`python -m tools.tokens` prints them again)."""

from __future__ import annotations

import time
from typing import Optional

from chalicelib.adapters.tokens import mint_local_token
from chalicelib.settings import Settings

# user -> (groups, partner id or merchant id): one partner user per partner of the default routes
# (Settings.partner_routes), and the staff of the demo merchant (tools/demo.py)
DEMO_USERS: dict[str, tuple[list[str], Optional[str]]] = {
    "fan-1": ([], None),
    "owner-1": ([], None),
    "merch-1": (["merchandiser"], None),
    "svc-1": (["service"], None),
    "partner-1": (["partner"], "warehouse"),
    "partner-2": (["partner"], "fresh"),
    "partner-3": (["partner"], "hotels"),
    "house-staff-1": (["merchant"], "nio-house-sh"),
}
THIRTY_DAYS_S = 30 * 24 * 3600


def demo_tokens(secret: str) -> dict[str, str]:
    now = int(time.time())
    return {
        user: mint_local_token(
            secret,
            user,
            groups,
            THIRTY_DAYS_S,
            now,
            partner_id=org if "partner" in groups else None,
            merchant_id=org if "merchant" in groups else None,
        )
        for user, (groups, org) in DEMO_USERS.items()
    }


def label(user: str) -> str:
    groups, org = DEMO_USERS[user]
    if org:
        return f"{user} ({groups[0]} {org})"
    return f"{user} ({', '.join(groups) or 'shopper'})"


if __name__ == "__main__":
    for user, token in demo_tokens(Settings().local_jwt_secret).items():
        print(f"{label(user):<24} {token}")
