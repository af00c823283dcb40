"""Token verification without any server: HS256 for stage local, RS256 + JWKS with iss/aud for prod."""
from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.adapters.tokens import TokenVerifier, hs256_verifier
from chalicelib.domain.errors import Unauthorized

ISS, AUD = "https://cognito-idp.example/pool", "lifeshop-app"


@pytest.fixture(scope="module")
def keys():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    jwks = jwt.PyJWKSet.from_dict({"keys": [jwk]})
    return private, jwks


def rs256_verifier(jwks) -> TokenVerifier:
    # The same resolver shape jwks_verifier builds around PyJWKClient, fed from a local key set.
    return TokenVerifier(lambda token: jwks[jwt.get_unverified_header(token)["kid"]].key, ["RS256"], ISS, AUD)


def sign(private, **claims) -> str:
    base = {"sub": "u-1", "exp": int(time.time()) + 60, "iss": ISS, "aud": AUD}
    return "Bearer " + jwt.encode({**base, **claims}, private, algorithm="RS256", headers={"kid": "k1"})


def test_rs256_token_from_the_pool_is_accepted_with_cognito_groups(keys):
    private, jwks = keys
    principal = rs256_verifier(jwks).verify(sign(private, **{"cognito:groups": ["merchandiser", "admins"]}))
    assert principal.user_id == "u-1" and principal.groups == {"merchandiser"}


@pytest.mark.parametrize("claims", [{"iss": "https://evil.example"}, {"aud": "other-app"}, {"exp": 1}])
def test_rs256_wrong_issuer_audience_or_expiry_is_refused(keys, claims):
    private, jwks = keys
    with pytest.raises(Unauthorized):
        rs256_verifier(jwks).verify(sign(private, **claims))


def test_rs256_verifier_refuses_hs256_tokens(keys):
    _, jwks = keys
    forged = jwt.encode({"sub": "u-1", "exp": int(time.time()) + 60, "iss": ISS, "aud": AUD}, "secret" * 8,
                        algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(Unauthorized):
        rs256_verifier(jwks).verify("Bearer " + forged)


def test_hs256_local_tokens_carry_groups():
    secret = "a-local-secret-long-enough-for-hs256"
    token = jwt.encode({"sub": "m", "exp": int(time.time()) + 60, "groups": ["partner", "root"]}, secret, "HS256")
    assert hs256_verifier(secret).verify(f"Bearer {token}").groups == {"partner"}


@pytest.mark.parametrize(("claim", "value", "partner_id"), [
    ("partner_id", "warehouse", "warehouse"), ("custom:partner_id", "fresh", "fresh"), (None, None, None)])
def test_a_partner_token_names_its_partner(claim, value, partner_id):
    secret = "a-local-secret-long-enough-for-hs256"
    claims = {"sub": "p", "exp": int(time.time()) + 60, "groups": ["partner"], **({claim: value} if claim else {})}
    assert hs256_verifier(secret).verify(f"Bearer {jwt.encode(claims, secret, 'HS256')}").partner_id == partner_id


@pytest.mark.parametrize("value", ["Warehouse", "", "a" * 33, 7, ["warehouse"], "../x", "warehouse\n",
                                   "warehouse-dlq"])
def test_a_malformed_partner_id_is_401(value):
    secret = "a-local-secret-long-enough-for-hs256"
    claims = {"sub": "p", "exp": int(time.time()) + 60, "groups": ["partner"], "partner_id": value}
    with pytest.raises(Unauthorized, match="partner_id"):
        hs256_verifier(secret).verify(f"Bearer {jwt.encode(claims, secret, 'HS256')}")


@pytest.mark.parametrize("sub", ["user\n", "user\r\n", ""])
def test_a_sub_with_a_trailing_newline_is_not_a_user_id(sub):
    secret = "a-local-secret-long-enough-for-hs256"
    token = jwt.encode({"sub": sub, "exp": int(time.time()) + 60}, secret, "HS256")
    with pytest.raises(Unauthorized, match="sub"):
        hs256_verifier(secret).verify(f"Bearer {token}")
