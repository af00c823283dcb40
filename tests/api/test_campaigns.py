"""The points central bank: campaigns, budget-bounded grants, referrals."""

from __future__ import annotations


def create(api, campaign_id: str = "summer", budget: int = 1000):
    return api.merch(
        "POST", "/admin/campaigns", {"campaign_id": campaign_id, "name": "Summer", "budget_points": budget}
    )


def grant(api, points: int, ref: str, user: str = "fan-1", campaign: str = "summer"):
    return api.merch(
        "POST",
        f"/admin/campaigns/{campaign}/grants",
        {"user_id": user, "points": points, "reason": "thanks", "ref": ref},
    )


def test_grants_draw_from_the_budget_until_it_is_exhausted(api):
    assert create(api).status == 201
    assert create(api).error_code == "already_exists"
    first = grant(api, 600, "g1")
    assert first.status == 201 and first.json["points"] == 600
    over = grant(api, 500, "g2")
    assert over.status == 409 and over.error_code == "budget_exhausted"
    assert over.json["error"]["details"]["remaining_points"] == 400
    assert grant(api, 400, "g3").status == 201
    c = api.merch("GET", "/admin/campaigns/summer").json
    assert (c["budget_points"], c["issued_points"], c["remaining_points"]) == (1000, 1000, 0)
    assert api.get("/me", user="fan-1").json["points"]["available"] == 1000


def test_a_repeated_ref_returns_the_first_grant_and_pays_once(api):
    create(api)
    first = grant(api, 100, "same-ref")
    again = grant(api, 100, "same-ref")
    assert again.status == 201 and again.json == first.json
    assert api.merch("GET", "/admin/campaigns/summer").json["issued_points"] == 100
    assert api.get("/me", user="fan-1").json["points"]["available"] == 100


def test_a_retried_grant_that_spent_the_last_of_the_budget_returns_the_first_grant(api):
    create(api, budget=100)
    first = grant(api, 100, "last-of-it")
    again = grant(api, 100, "last-of-it")  # e.g. the merchandiser's client timed out and retried
    assert (again.status, again.json) == (201, first.json)
    assert api.get("/me", user="fan-1").json["points"]["available"] == 100


def test_bad_grants_are_clear_4xx(api):
    create(api)
    for points in (0, -5, "100", 10**12):
        r = grant(api, points, "r")
        assert r.status == 400 and "points" in r.json["error"]["details"]["fields"]
    r = grant(api, 10, "r", user="not a user!")
    assert r.status == 400 and "user_id" in r.json["error"]["details"]["fields"]
    assert grant(api, 10, "r", campaign="nope-campaign").status == 404
    assert api.merch("GET", "/admin/campaigns/nope-campaign").status == 404
    r = api.merch("POST", "/admin/campaigns", {"campaign_id": "x", "name": "", "budget_points": 0})
    assert set(r.json["error"]["details"]["fields"]) == {"campaign_id", "name", "budget_points"}
    assert api.merch("GET", "/admin/campaigns/summer").json["issued_points"] == 0


def test_grants_are_audited(api):
    create(api)
    grant(api, 50, "aud")
    actions = [e["action"] for e in api.merch("GET", "/admin/audit").json["items"]]
    assert actions == ["campaign.grant", "campaign.create"]


def test_referrals_pay_the_referrer_once_per_referee_and_kind(api):
    r = api.merch("POST", "/admin/referrals", {"referrer_id": "fan-r", "referee_id": "new-1", "kind": "test_drive"})
    assert r.status == 201 and r.json["points"] == 200
    assert (
        api.merch(
            "POST", "/admin/referrals", {"referrer_id": "fan-r", "referee_id": "new-1", "kind": "test_drive"}
        ).json
        == r.json
    )
    other = api.merch("POST", "/admin/referrals", {"referrer_id": "fan-s", "referee_id": "new-1", "kind": "test_drive"})
    assert other.status == 409 and other.error_code == "already_referred"
    assert (
        api.merch("POST", "/admin/referrals", {"referrer_id": "fan-r", "referee_id": "new-1", "kind": "purchase"}).json[
            "points"
        ]
        == 12_000
    )
    assert api.get("/me", user="fan-r").json["points"]["available"] == 12_200
    assert api.get("/me", user="fan-s").json["points"]["available"] == 0
    kinds = {e["kind"] for e in api.get("/me/points/ledger", user="fan-r").json["items"]}
    assert kinds == {"referral"}
    assert api.merch("GET", "/admin/campaigns/referral").json["issued_points"] == 12_200


def test_self_referral_and_bad_kinds_are_refused(api):
    r = api.merch("POST", "/admin/referrals", {"referrer_id": "fan-t", "referee_id": "fan-t", "kind": "purchase"})
    assert r.status == 422 and r.error_code == "self_referral"
    r = api.merch("POST", "/admin/referrals", {"referrer_id": "fan-t", "referee_id": "x", "kind": "signup"})
    assert r.status == 400
