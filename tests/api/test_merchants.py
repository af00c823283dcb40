"""Merchants beyond the shop: merchandisers register them (audited); their staff's tokens act for them only."""

from __future__ import annotations

import pytest

from tests.helpers import uid

HOUSE = {"merchant_id": "nio-house-sh", "name": "NIO House Shanghai", "name_zh": "蔚来中心上海", "kind": "nio_house"}


def staff(api, merchant_id: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.tokens(uid('staff'), 'merchant', merchant_id=merchant_id)}"}


def test_a_merchandiser_registers_a_merchant_once_and_it_is_audited(api):
    r = api.merch("POST", "/admin/merchants", HOUSE)
    assert r.status == 201, r.json
    assert {k: r.json[k] for k in HOUSE} == HOUSE
    again = api.merch("POST", "/admin/merchants", {**HOUSE, "name": "Another"})
    assert again.status == 409 and again.json["error"]["code"] == "already_exists"
    listed = api.merch("GET", "/admin/merchants").json["items"]
    assert [m["merchant_id"] for m in listed] == ["nio-house-sh"] and listed[0]["name"] == "NIO House Shanghai"
    audit = api.merch("GET", "/admin/audit?limit=1").json["items"][0]
    assert (audit["action"], audit["entity_id"]) == ("merchant.create", "nio-house-sh")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"kind": "bakery"}, "kind"),
        ({"merchant_id": "NIO House"}, "merchant_id"),
        ({"name": ""}, "name"),
        ({"name_zh": "a\nb"}, "name_zh"),
    ],
)
def test_a_bad_merchant_is_400_naming_the_field_and_nothing_is_stored(api, change, field):
    r = api.merch("POST", "/admin/merchants", {**HOUSE, **change})
    assert r.status == 400 and field in r.json["error"]["details"]["fields"]
    assert api.merch("GET", "/admin/merchants").json["items"] == []


def test_only_merchandisers_register_merchants(api):
    assert api.post("/admin/merchants", HOUSE, user=uid("fan")).status == 403
    assert api.post("/admin/merchants", HOUSE, headers=staff(api, "nio-house-sh")).status == 403
    assert api.get("/admin/merchants").status == 401


def test_a_staff_token_acts_for_its_registered_merchant_only(api):
    assert api.get("/merchant/me", headers=staff(api, "nio-house-sh")).status == 403  # not registered yet
    api.merch("POST", "/admin/merchants", HOUSE)
    me = api.get("/merchant/me", headers=staff(api, "nio-house-sh"))
    assert me.status == 200 and me.json["merchant_id"] == "nio-house-sh" and me.json["created_by"] is None
    no_claim = api.get("/merchant/me", headers=staff(api, None))
    assert no_claim.status == 403 and "merchant_id" in no_claim.json["error"]["message"]
    assert api.get("/merchant/me", user=uid("fan")).status == 403  # a shopper's token
    assert api.get("/merchant/me", headers=staff(api, "swap-station-9")).status == 403
