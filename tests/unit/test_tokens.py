"""Token verification without any server: HS256 for stage local, RS256 + JWKS with iss/aud for prod. Tokens and
keys come from PyJWT and cryptography, an implementation independent of the verifier's standard-library code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.adapters.tokens import Jwks, hs256_verifier, jwks_verifier, mint_local_token
from chalicelib.domain.errors import Unauthorized, Unavailable

ISS, AUD = "https://cognito-idp.example/pool", "lifeshop-app"
SECRET = "a-local-secret-long-enough-for-hs256"


def public_jwk(private, kid: str) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


@pytest.fixture(scope="module")
def private():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class KeyServer:
    """The user pool's JWKS endpoint: serves `keys`, counts fetches, can be down."""

    def __init__(self, *jwks: dict) -> None:
        self.keys = list(jwks)
        self.fetches = 0
        self.down = False

    def __call__(self, url: str) -> dict:
        self.fetches += 1
        if self.down:
            raise OSError("connection refused")
        return {"keys": self.keys}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier(server: KeyServer, clock: Clock | None = None):
    return jwks_verifier("https://pool/jwks", ISS, AUD, Jwks("https://pool/jwks", server, clock or Clock()))


def sign(private, kid: str = "k1", **claims) -> str:
    base = {"sub": "u-1", "exp": int(time.time()) + 60, "iss": ISS, "aud": AUD}
    claims = {name: value for name, value in {**base, **claims}.items() if value is not None}  # None: left out
    return "Bearer " + jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


def test_rs256_token_from_the_pool_is_accepted_with_cognito_groups(private):
    principal = verifier(KeyServer(public_jwk(private, "k1"))).verify(
        sign(private, **{"cognito:groups": ["merchandiser", "admins"]})
    )
    assert principal.user_id == "u-1" and principal.groups == {"merchandiser"}


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://evil.example"},
        {"iss": None},
        {"aud": "other-app"},
        {"aud": ["other-app"]},
        {"aud": None},
        {"exp": 1},
        {"exp": None},
        {"exp": "9999999999"},
        {"exp": True},
        {"iat": "yesterday"},
    ],
)
def test_rs256_wrong_issuer_audience_or_times_are_refused(private, claims):
    with pytest.raises(Unauthorized):
        verifier(KeyServer(public_jwk(private, "k1"))).verify(sign(private, **claims))


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_a_token_not_valid_yet_is_refused_beyond_a_few_seconds_of_clock_skew(private, claim):
    check = verifier(KeyServer(public_jwk(private, "k1")))
    assert check.verify(sign(private, **{claim: time.time() + 2})).user_id == "u-1"
    with pytest.raises(Unauthorized, match="not valid yet"):
        check.verify(sign(private, **{claim: time.time() + 600}))


def test_an_audience_list_naming_the_shop_is_accepted(private):
    assert verifier(KeyServer(public_jwk(private, "k1"))).verify(sign(private, aud=["other", AUD])).user_id == "u-1"


def test_rs256_verifier_refuses_hs256_none_and_a_tampered_or_foreign_signature(private):
    jwk = public_jwk(private, "k1")
    good = sign(private)[len("Bearer ") :]
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    elevated = base64.urlsafe_b64encode(json.dumps({**claims, "cognito:groups": ["merchandiser"]}).encode())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = {
        # HS256 signed with the public key's modulus: the classic algorithm-confusion forgery
        "hs256 with the public key": jwt.encode(claims, jwk["n"] * 2, algorithm="HS256", headers={"kid": "k1"}),
        "alg none": jwt.encode(claims, None, algorithm="none", headers={"kid": "k1"}),
        "payload changed": f"{header}.{elevated.decode().rstrip('=')}.{signature}",
        "another key, same kid": sign(other)[len("Bearer ") :],
        "signature cut": f"{header}.{payload}.{signature[:-4]}",
        "signature zero": f"{header}.{payload}.{base64.urlsafe_b64encode(bytes(256)).decode().rstrip('=')}",
        "no kid": jwt.encode(claims, private, algorithm="RS256"),
    }
    check = verifier(KeyServer(jwk))
    for name, token in forged.items():
        with pytest.raises(Unauthorized):
            check.verify("Bearer " + token)
            pytest.fail(name)


def test_a_rotated_key_is_fetched_once_and_random_kids_do_not_hammer_the_key_server(private):
    server, clock = KeyServer(public_jwk(private, "k1")), Clock()
    check = verifier(server, clock)
    assert check.verify(sign(private)).user_id == "u-1" and server.fetches == 1
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for kid in ("x1", "x2", "x3"):
        with pytest.raises(Unauthorized):
            check.verify(sign(private, kid=kid))
    assert server.fetches == 1  # the first fetch was just now: unknown kids wait a minute
    server.keys.append(public_jwk(rotated, "k2"))
    clock.now += 61
    assert check.verify(sign(rotated, kid="k2")).user_id == "u-1" and server.fetches == 2
    assert check.verify(sign(private)).user_id == "u-1" and server.fetches == 2


def test_a_key_server_that_is_down_is_503_until_the_keys_were_fetched_then_the_last_keys_serve(private):
    server, clock = KeyServer(public_jwk(private, "k1")), Clock()
    check = verifier(server, clock)
    server.down = True
    with pytest.raises(Unavailable):
        check.verify(sign(private))
    with pytest.raises(Unavailable):  # not retried at once either
        check.verify(sign(private))
    server.down, clock.now = False, clock.now + 61
    assert check.verify(sign(private)).user_id == "u-1"
    server.down, clock.now = True, clock.now + 7200  # an hour later the refresh fails: the keys it had still serve
    assert check.verify(sign(private)).user_id == "u-1" and server.fetches == 3


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the weak key is the point
def test_keys_too_short_or_not_for_signing_are_ignored(private):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    server = KeyServer(
        public_jwk(weak, "weak"),
        {**public_jwk(private, "enc"), "use": "enc"},
        {"kty": "EC", "kid": "ec"},
        {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
    )
    check = verifier(server)
    for kid, key in (("weak", weak), ("enc", private), ("ec", private), ("broken", private)):
        with pytest.raises(Unauthorized):
            check.verify(sign(key, kid=kid))


def test_hs256_local_tokens_carry_groups():
    token = jwt.encode({"sub": "m", "exp": int(time.time()) + 60, "groups": ["partner", "root"]}, SECRET, "HS256")
    assert hs256_verifier(SECRET).verify(f"Bearer {token}").groups == {"partner"}


def test_minted_local_tokens_are_standard_jwts():
    token = mint_local_token(SECRET, "u-7", ["merchandiser"], 60, int(time.time()), "fresh")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    assert (claims["sub"], claims["groups"], claims["partner_id"]) == ("u-7", ["merchandiser"], "fresh")
    assert hs256_verifier(SECRET).verify(f"Bearer {token}").groups == {"merchandiser"}
    with pytest.raises(Unauthorized):
        hs256_verifier("another-secret-of-the-same-length!!!").verify(f"Bearer {token}")


@pytest.mark.parametrize("constant", ["NaN", "Infinity"])
def test_a_signed_exp_that_is_not_a_json_number_is_refused(constant):
    payload = base64.urlsafe_b64encode(f'{{"sub": "u-1", "exp": {constant}}}'.encode()).decode().rstrip("=")
    header = base64.urlsafe_b64encode(b'{"alg": "HS256"}').decode().rstrip("=")
    signature = (
        base64.urlsafe_b64encode(hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
        .decode()
        .rstrip("=")
    )
    with pytest.raises(Unauthorized, match="not JSON"):
        hs256_verifier(SECRET).verify(f"Bearer {header}.{payload}.{signature}")


@pytest.mark.parametrize(
    "token",
    [
        "a.b",
        "a.b.c.d",
        "!!!.e30.",
        "e30.e30.",
        "W10.e30.",
        "bm90IGpzb24.e30.",
        "e30.W10.",
        "é.e30.",
        "a" * 9000,
        "eyJhbGciOiJIUzI1NiJ9.e30.===",
    ],
)
def test_malformed_tokens_are_401(token):
    with pytest.raises(Unauthorized):
        hs256_verifier(SECRET).verify(f"Bearer {token}")


@pytest.mark.parametrize(
    ("claim", "value", "partner_id"),
    [("partner_id", "warehouse", "warehouse"), ("custom:partner_id", "fresh", "fresh"), (None, None, None)],
)
def test_a_partner_token_names_its_partner(claim, value, partner_id):
    claims = {"sub": "p", "exp": int(time.time()) + 60, "groups": ["partner"], **({claim: value} if claim else {})}
    assert hs256_verifier(SECRET).verify(f"Bearer {jwt.encode(claims, SECRET, 'HS256')}").partner_id == partner_id


@pytest.mark.parametrize("value", ["Warehouse", "", "a" * 33, 7, ["warehouse"], "../x", "warehouse\n", "warehouse-dlq"])
def test_a_malformed_partner_id_is_401(value):
    claims = {"sub": "p", "exp": int(time.time()) + 60, "groups": ["partner"], "partner_id": value}
    with pytest.raises(Unauthorized, match="partner_id"):
        hs256_verifier(SECRET).verify(f"Bearer {jwt.encode(claims, SECRET, 'HS256')}")


@pytest.mark.parametrize("sub", ["user\n", "user\r\n", ""])
def test_a_sub_with_a_trailing_newline_is_not_a_user_id(sub):
    token = jwt.encode({"sub": sub, "exp": int(time.time()) + 60}, SECRET, "HS256")
    with pytest.raises(Unauthorized, match="sub"):
        hs256_verifier(SECRET).verify(f"Bearer {token}")
