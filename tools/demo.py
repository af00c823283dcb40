"""Demo users for `make run`: owner-1 is a verified owner with points, fan-1 has a few, and both hold a welcome
coupon; both have been members for a year (old enough to tip); fan-1 has a design in the gallery; the NIO House
nio-house-sh has a meeting room and a book to lend (idempotent)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.bookings import ResourceInput
from chalicelib.domain.coupons import CouponGrantInput, CouponInput
from chalicelib.domain.designs import Decision, DesignInput
from chalicelib.domain.errors import AlreadyExists
from chalicelib.domain.merchants import MerchantInput
from chalicelib.domain.points import CampaignInput, GrantInput, TierChange, vin_check_digit

ACTOR = "demo-setup"
_VIN_BODY = "LJ1E6A2U0N7000001"
DEMO_VIN = _VIN_BODY[:8] + vin_check_digit(_VIN_BODY) + _VIN_BODY[9:]
DEMO_POINTS = {"owner-1": 5_000, "fan-1": 500}
MEMBERS_SINCE = "2025-12-01T00:00:00.000Z"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RESOURCES = [
    {
        "resource_id": "room-jingan-1",
        "house": "nio-house-sh",
        "kind": "room",
        "title": "Meeting room 1",
        "title_zh": "会议室1",
        "capacity": 1,
        "slot_minutes": 60,
        "hours": {d: ["10:00-22:00"] for d in WEEK},
        "price_fen_per_slot": 5000,
    },
    {
        "resource_id": "book-three-body",
        "house": "nio-house-sh",
        "kind": "book",
        "title": "The Three-Body Problem",
        "title_zh": "三体",
        "capacity": 2,
        "slot_minutes": 1440,
        "hours": {d: ["00:00-24:00"] for d in WEEK},
        "price_fen_per_slot": 100,
    },
]


def set_up(services: Any) -> None:
    try:
        services.campaigns.create(
            ACTOR, CampaignInput(campaign_id="welcome", name="Welcome points", budget_points=1_000_000)
        )
    except AlreadyExists:
        pass
    if services.points.me("owner-1").tier != "owner":
        services.points.set_tier(ACTOR, "owner-1", TierChange(tier="owner", vin=DEMO_VIN))
    for user, points in DEMO_POINTS.items():
        services.campaigns.grant(
            ACTOR, "welcome", GrantInput(user_id=user, points=points, reason="demo welcome", ref=f"demo-{user}")
        )
    try:
        services.coupons.create(
            ACTOR,
            CouponInput(
                coupon_id="welcome-10",
                title="¥10 off ¥50 or more",
                title_zh="满50减10",
                amount_off_fen=1000,
                min_subtotal_fen=5000,
                valid_days=30,
                budget_count=10_000,
            ),
        )
    except AlreadyExists:
        pass
    for user in DEMO_POINTS:
        services.coupons.grant(ACTOR, "welcome-10", CouponGrantInput(user_id=user, ref=f"demo-{user}"))
    try:  # house-staff-1's token (tools/tokens.py) acts for it
        services.merchants.create(
            ACTOR,
            MerchantInput(
                merchant_id="nio-house-sh", name="NIO House Shanghai", name_zh="蔚来中心上海", kind="nio_house"
            ),
        )
    except AlreadyExists:
        pass
    for resource in RESOURCES:
        try:
            services.bookings.create(ACTOR, ResourceInput.model_validate(resource))
        except AlreadyExists:
            pass
    for user in DEMO_POINTS:
        services.user_repo.backdate(user, MEMBERS_SINCE)
    if not services.designs.page(1, None, designer_id="fan-1").items:
        design = services.designs.submit(
            "fan-1",
            DesignInput(
                title="Starry Night Tumbler",
                description="A steel tumbler etched with the sky over Hefei.",
                category="home",
                image_urls=["https://img.example/demo/tumbler.png"],
                proposed_price_fen=12900,
            ),
        )
        services.designs.decide(ACTOR, design.design_id, Decision(decision="approve"))
