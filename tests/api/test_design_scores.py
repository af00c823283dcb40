"""What a designer's work earns in contribution, and design votes weighted by the voter's contribution: the
score, the gallery by score."""

from __future__ import annotations

from tests.api.shop import award, contribution, contribution_ledger
from tests.helpers import uid
from tools.reconcile import reconcile


def public_design(api, designer: str, title: str = "Roof box", category: str = "car-life") -> str:
    r = api.post(
        "/designs",
        {"title": title, "description": "d", "category": category, "image_urls": ["https://img.example/1.png"]},
        user=designer,
    )
    design_id = r.json["design_id"]
    assert api.merch("POST", f"/admin/designs/{design_id}/decision", {"decision": "approve"}).status == 200
    return design_id


def test_a_designer_earns_50_when_approved_and_200_when_productized_once_each(api, services):
    design_id = public_design(api, "designer-c")
    again = api.merch("POST", f"/admin/designs/{design_id}/decision", {"decision": "approve"})
    assert again.status == 409
    assert contribution_ledger(api, "designer-c") == [("design_approved", f"design:{design_id}", 50)]
    product = {
        "category": "car-life",
        "title": "Roof box",
        "title_zh": "车顶箱",
        "skus": [{"sku": uid("S"), "price_fen": 100}],
    }
    assert api.merch("POST", f"/admin/designs/{design_id}/product", product).status == 201
    assert (
        api.merch(
            "POST", f"/admin/designs/{design_id}/product", {**product, "skus": [{"sku": uid("S"), "price_fen": 100}]}
        ).status
        == 409
    )
    assert contribution_ledger(api, "designer-c") == [
        ("design_productized", f"design:{design_id}", 200),
        ("design_approved", f"design:{design_id}", 50),
    ]
    assert contribution(api, "designer-c") == 250
    assert api.get("/me", user="designer-c").json["points"]["available"] == 2000  # the points reward, unchanged
    rejected = api.post(
        "/designs",
        {"title": "No", "description": "d", "category": "home", "image_urls": ["https://img.example/1.png"]},
        user="designer-c",
    ).json["design_id"]
    api.merch("POST", f"/admin/designs/{rejected}/decision", {"decision": "reject", "note": "no"})
    assert contribution(api, "designer-c") == 250
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_votes_weigh_by_the_voters_contribution_and_keep_the_weight_they_were_cast_with(api, services):
    design_id = public_design(api, "designer-w")
    for user, amount in (("v-100", 100), ("v-1000", 1000), ("v-10000", 10_000)):
        award(api, user, amount)
    award(api, "v-99", 99)
    assert [api.get("/me", user=u).json["vote_weight"] for u in ("v-0", "v-99", "v-100", "v-1000", "v-10000")] == [
        1,
        1,
        2,
        3,
        4,
    ]
    weights = [
        api.post(f"/designs/{design_id}/votes", user=u).json["weight"]
        for u in ("v-0", "v-99", "v-100", "v-1000", "v-10000")
    ]
    assert weights == [1, 1, 2, 3, 4]
    award(api, "v-0", 10_000)  # contributing later does not rewrite a vote already cast
    shown = api.get("/designs?category=car-life").json["items"][0]
    assert (shown["votes"], shown["score"]) == (5, 11)
    assert api.post(f"/designs/{design_id}/votes", user="v-0").error_code == "already_voted"
    assert api.get("/me/designs", user="designer-w").json["items"][0]["score"] == 11
    assert reconcile(services.dynamodb, services.table)[1] == []


def test_the_gallery_sorts_by_score_on_request_and_by_newest_otherwise(api, clock):
    clock.set("2026-06-01T08:00:00Z")
    popular = public_design(api, "designer-g", "Popular")
    clock.set("2026-06-02T08:00:00Z")
    crowded = public_design(api, "designer-g", "Many light votes", category="home")
    clock.set("2026-06-03T08:00:00Z")
    fresh = public_design(api, "designer-g", "Fresh")
    award(api, "heavy", 10_000)
    api.post(f"/designs/{popular}/votes", user="heavy")  # 1 person, score 4
    for i in range(3):
        api.post(f"/designs/{crowded}/votes", user=f"light-{i}")  # 3 people, score 3
    newest = [d["design_id"] for d in api.get("/designs").json["items"]]
    assert newest == [fresh, crowded, popular]
    by_score = api.get("/designs?sort=score").json["items"]
    assert [(d["design_id"], d["votes"], d["score"]) for d in by_score] == [
        (popular, 1, 4),
        (crowded, 3, 3),
        (fresh, 0, 0),
    ]
    assert all(d["designer_id"] is None and d["designer_name"] for d in by_score)  # still no user ids in public
    assert [d["design_id"] for d in api.get("/designs?sort=score&category=car-life").json["items"]] == [popular, fresh]
    first = api.get("/designs?sort=score&limit=2").json
    rest = api.get(f"/designs?sort=score&limit=2&cursor={first['next_cursor']}").json
    assert [d["design_id"] for d in first["items"] + rest["items"]] == [popular, crowded, fresh]
    assert api.get(f"/designs?limit=2&cursor={first['next_cursor']}").status == 400  # not the newest-first listing's
    bad = api.get("/designs?sort=votes")
    assert (bad.status, bad.error_code) == (400, "invalid_request") and "sort" in bad.json["error"]["details"]["fields"]


def test_reconcile_reports_a_score_or_rank_the_votes_do_not_explain_and_old_designs_can_be_ranked(api, services):
    design_id = public_design(api, "designer-r")
    award(api, "v-r2", 100)
    for voter in ("v-r1", "v-r2"):
        api.post(f"/designs/{design_id}/votes", user=voter)
    assert reconcile(services.dynamodb, services.table)[1] == []
    table, client = services.table.name, services.dynamodb
    meta, rank = (
        {"pk": {"S": f"DESIGN#{design_id}"}, "sk": {"S": "META"}},
        {"pk": {"S": f"DESIGN#{design_id}"}, "sk": {"S": "RANK"}},
    )
    client.update_item(
        TableName=table, Key=meta, UpdateExpression="SET score = :x", ExpressionAttributeValues={":x": {"N": "99"}}
    )
    found = reconcile(client, services.table)[1]
    assert [(d.design_id, d.score, d.weights) for d in found] == [(design_id, 99, 3)]
    client.update_item(
        TableName=table, Key=meta, UpdateExpression="SET score = :x", ExpressionAttributeValues={":x": {"N": "3"}}
    )
    client.delete_item(TableName=table, Key=rank)  # a design approved before weighted votes has no rank
    assert [d.rank_score for d in reconcile(client, services.table)[1]] == [None]
    assert api.get("/designs?sort=score").json["items"] == []
    from tools.backfill_ranks import backfill

    assert backfill(services.design_repo) == 1 and backfill(services.design_repo) == 0
    assert [(d["design_id"], d["score"]) for d in api.get("/designs?sort=score").json["items"]] == [(design_id, 3)]
    assert reconcile(client, services.table)[1] == []
