"""Who may call what: 401 for no or bad tokens, 403 for the wrong role, profiles on first call."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.helpers import product_body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not.a.jwt",
        "Bearer abc",
        "Token x.y.z",
        "Bearer " + "A" * 5000,
    ],
)
def test_missing_or_malformed_authorization_is_401(api, header):
    headers = {} if header is None else {"Authorization": header}
    r = api.get("/me", headers=headers)
    assert r.status == 401 and r.error_code == "unauthorized"


def test_expired_wrong_key_and_bad_claims_are_401(api, tokens):
    now = int(time.time())
    secret = tokens.secret
    cases = {
        "expired": jwt.encode({"sub": "u1", "exp": now - 10}, secret, algorithm="HS256"),
        "wrong key": jwt.encode(
            {"sub": "u1", "exp": now + 60}, "another-secret-that-is-long-enough!!", algorithm="HS256"
        ),
        "no exp": jwt.encode({"sub": "u1"}, secret, algorithm="HS256"),
        "no sub": jwt.encode({"exp": now + 60}, secret, algorithm="HS256"),
        "bad sub": jwt.encode({"sub": "a b/c", "exp": now + 60}, secret, algorithm="HS256"),
        "alg none": jwt.encode({"sub": "u1", "exp": now + 60}, None, algorithm="none"),
        "groups not a list": jwt.encode(
            {"sub": "u1", "exp": now + 60, "groups": "merchandiser"}, secret, algorithm="HS256"
        ),
    }
    for name, token in cases.items():
        r = api.get("/me", headers=bearer(token))
        assert (r.status, r.error_code) == (401, "unauthorized"), name


@pytest.mark.parametrize("groups", [(), ("partner",), ("service",)])
def test_admin_endpoints_are_403_without_the_merchandiser_group(api, groups):
    r = api.post("/admin/products", product_body(), user="someone", groups=groups)
    assert r.status == 403 and r.error_code == "forbidden"
    assert api.get("/admin/audit", user="someone", groups=groups).status == 403


def test_admin_endpoints_are_401_without_a_token(api):
    assert api.post("/admin/products", product_body()).status == 401
    assert api.get("/admin/products").status == 401


def test_cognito_groups_claim_is_honoured(api, tokens):
    token = jwt.encode(
        {"sub": "m2", "exp": int(time.time()) + 60, "cognito:groups": ["merchandiser"]},
        tokens.secret,
        algorithm="HS256",
    )
    assert api.get("/admin/products", headers=bearer(token)).status == 200


def test_public_endpoints_need_no_token(api):
    for path in ("/categories", "/products", "/openapi.json"):
        assert api.get(path).status == 200, path


def test_profile_is_created_on_first_call_as_a_fan_with_zero_points(api, services):
    assert services.users._repo.get("newcomer") is None
    r = api.get("/me", user="newcomer")
    assert r.status == 200
    assert r.json == {
        "user_id": "newcomer",
        "tier": "fan",
        "points": {"available": 0, "held": 0},
        "earned_today": 0,
        "daily_cap": 3,
        "contribution": 0,
        "vote_weight": 1,
        "expiring": None,  # points do not expire: no lots are kept
    }
    assert services.users._repo.get("newcomer").tier == "fan"
