"""A crowd tipping one creator at once through a live `chalice local`: the creator's daily receive cap holds exactly
(both balances move in one transaction, the creator's on condition it is unchanged)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.api.shop import give_points, make_owner
from tests.helpers import uid
from tools.reconcile import tip_differences


def test_twelve_owners_tipping_one_creator_at_once_stop_exactly_at_the_receive_cap(live_api, live_server):
    services = live_server["container"]
    creator = uid("creator")
    body = {
        "title": "Aurora Keychain",
        "description": "A keychain that glows like the northern lights.",
        "category": "car-life",
        "image_urls": ["https://img.example/d/3.png"],
        "proposed_price_fen": 4900,
    }
    design = live_api.post("/designs", body, user=creator).json["design_id"]
    assert live_api.merch("POST", f"/admin/designs/{design}/decision", {"decision": "approve"}).status == 200
    owners = [uid("owner") for _ in range(12)]
    for o in owners:
        give_points(services, o, 5_000)
        make_owner(services, o)
    # their accounts are old enough: the live server's policy asks for 7 days, so age them
    for o in owners:
        services.table.client.update_item(
            TableName=services.table.name,
            Key={"pk": {"S": f"USER#{o}"}, "sk": {"S": "PROFILE"}},
            UpdateExpression="SET created_at = :old",
            ExpressionAttributeValues={":old": {"S": "2020-01-01T00:00:00.000Z"}},
        )
    before = live_api.get("/me", user=creator).json["points"]["available"]
    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(
            pool.map(
                lambda o: live_api.post(
                    "/tips",
                    {"to_user_id": creator, "points": 2_000, "ref": {"kind": "design", "id": design}},
                    user=o,
                    headers={"Idempotency-Key": uid("k")},
                ),
                owners,
            )
        )
    assert sorted(r.status for r in replies) == [201] * 10 + [409] * 2, [r.json for r in replies if r.status != 201]
    assert {r.error_code for r in replies if r.status == 409} == {"receive_limit_reached"}
    assert live_api.get("/me", user=creator).json["points"]["available"] == before + 10 * 1_800
    tipped = [o for o, r in zip(owners, replies, strict=True) if r.status == 201]
    assert all(live_api.get("/me", user=o).json["points"]["available"] == 3_000 for o in tipped)
    assert [d.describe() for d in tip_differences(services.dynamodb, services.table)] == []
