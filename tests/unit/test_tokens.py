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
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chalicelib.adapters.tokens import Jwks, hs256_verifier, jwks_verifier, mint_local_token
from chalicelib.domain.auth import GROUPS
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
    assert check.verify(sign(private, **{claim: int(time.time()) + 2})).user_id == "u-1"
    with pytest.raises(Unauthorized, match="not valid yet"):
        check.verify(sign(private, **{claim: int(time.time()) + 600}))


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
    # (a token it has not seen: one it verified before is not checked against the keys again)
    assert check.verify(sign(private, jti="another")).user_id == "u-1" and server.fetches == 3


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


@pytest.mark.parametrize(
    ("claim", "value", "merchant_id"),
    [("merchant_id", "nio-house-sh", "nio-house-sh"), ("custom:merchant_id", "swap-9", "swap-9"), (None, None, None)],
)
def test_a_merchant_token_names_its_merchant(claim, value, merchant_id):
    claims = {"sub": "m", "exp": int(time.time()) + 60, "groups": ["merchant"], **({claim: value} if claim else {})}
    principal = hs256_verifier(SECRET).verify(f"Bearer {jwt.encode(claims, SECRET, 'HS256')}")
    assert principal.merchant_id == merchant_id and principal.groups == frozenset({"merchant"})


@pytest.mark.parametrize("value", ["NIO-house", "ab", "a" * 33, 7, ["nio-house-sh"], "-house", "house\n", "../x"])
def test_a_malformed_merchant_id_is_401(value):
    claims = {"sub": "m", "exp": int(time.time()) + 60, "groups": ["merchant"], "merchant_id": value}
    with pytest.raises(Unauthorized, match="merchant_id"):
        hs256_verifier(SECRET).verify(f"Bearer {jwt.encode(claims, SECRET, 'HS256')}")


@pytest.mark.parametrize("sub", ["user\n", "user\r\n", ""])
def test_a_sub_with_a_trailing_newline_is_not_a_user_id(sub):
    token = jwt.encode({"sub": sub, "exp": int(time.time()) + 60}, SECRET, "HS256")
    with pytest.raises(Unauthorized, match="sub"):
        hs256_verifier(SECRET).verify(f"Bearer {token}")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def hs256_raw(header: str, payload: str, secret: str = SECRET) -> str:
    """A token whose header and payload are exactly the JSON texts given, correctly signed."""
    signing_input = f"{b64(header.encode())}.{b64(payload.encode())}"
    return f"{signing_input}.{b64(hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest())}"


FUTURE = int(time.time()) + 3600
HS256 = '{"alg": "HS256"}'


@pytest.mark.parametrize(
    "payload",
    [
        '{"sub": "u-1", "exp": 1e400}',  # json reads infinity: it would never expire
        '{"sub": "u-1", "exp": 1000000000000000000000000000000}',
        '{"sub": "u-1", "exp": 1099511627776}',  # 2**40: beyond any token's lifetime
        f'{{"sub": "u-1", "exp": {FUTURE}.5}}',
        f'{{"sub": "u-1", "exp": {FUTURE}.0}}',
        f'{{"sub": "u-1", "exp": {FUTURE}e0}}',
        f'{{"sub": "u-1", "exp": {FUTURE}, "iat": 0}}',
        f'{{"sub": "u-1", "exp": {FUTURE}, "nbf": -1}}',
        f'{{"sub": "u-1", "exp": {FUTURE}, "iat": 1e400}}',
        f'{{"sub": "u-1", "exp": {FUTURE}, "nbf": false}}',
        f'{{"sub": "u-1", "exp": {FUTURE}, "iat": 1.5}}',
    ],
)
def test_time_claims_are_whole_seconds_in_a_sane_range(payload):
    with pytest.raises(Unauthorized):
        hs256_verifier(SECRET).verify(f"Bearer {hs256_raw(HS256, payload)}")


def test_a_token_with_integer_times_in_range_is_accepted():
    now = int(time.time())
    payload = f'{{"sub": "u-1", "exp": {now + 60}, "iat": {now}, "nbf": {now}}}'
    assert hs256_verifier(SECRET).verify(f"Bearer {hs256_raw(HS256, payload)}").user_id == "u-1"


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        ('{"alg": "HS256"}', f'{{"sub": "u-1", "exp": 1, "exp": {FUTURE}}}'),
        ('{"alg": "HS256"}', f'{{"sub": "intruder", "sub": "u-1", "exp": {FUTURE}}}'),
        ('{"alg": "none", "alg": "HS256"}', f'{{"sub": "u-1", "exp": {FUTURE}}}'),
    ],
)
def test_duplicate_json_keys_are_refused(header, payload):
    with pytest.raises(Unauthorized, match="twice"):
        hs256_verifier(SECRET).verify(f"Bearer {hs256_raw(header, payload)}")


@pytest.mark.parametrize("crit", ['["exp"]', '["b64"]', "[]", '"exp"'])
def test_any_crit_header_is_refused(crit):
    token = hs256_raw(f'{{"alg": "HS256", "crit": {crit}, "exp": 1}}', f'{{"sub": "u-1", "exp": {FUTURE}}}')
    with pytest.raises(Unauthorized, match="crit"):
        hs256_verifier(SECRET).verify(f"Bearer {token}")


def test_a_signature_in_non_canonical_base64url_is_refused():
    token = hs256_raw('{"alg": "HS256"}', f'{{"sub": "u-1", "exp": {FUTURE}}}')
    head, payload, signature = token.split(".")
    assert hs256_verifier(SECRET).verify(f"Bearer {token}").user_id == "u-1"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])  # 32 bytes: the last of 43 characters carries 4 bits and 2 unused ones
    twins = [alphabet[last | low] for low in range(1, 4)]
    assert len(twins) == 3 and signature[-1] not in twins
    for twin in twins:
        same_bytes = signature[:-1] + twin
        assert base64.urlsafe_b64decode(same_bytes + "=") == base64.urlsafe_b64decode(signature + "=")
        with pytest.raises(Unauthorized, match="base64url"):
            hs256_verifier(SECRET).verify(f"Bearer {head}.{payload}.{same_bytes}")
    with pytest.raises(Unauthorized, match="base64url"):
        hs256_verifier(SECRET).verify(f"Bearer {head}.{payload}.{signature}=")


TIME_CLAIMS = ("exp", "nbf", "iat")
MAX_TIME = 2**40  # the verifier's bound on a time claim (year 36812)
_around_now = st.integers(-(10**8), 10**8).filter(lambda d: abs(d) > 30).map(lambda d: int(time.time()) + d)
_time_value = st.one_of(
    _around_now,  # the tokens people send: a little before or after now
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    _around_now.map(float),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    _around_now.map(str),
)


def _whole_second_in_range(value: object) -> bool:
    return type(value) is int and 0 < value < MAX_TIME


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=st.text(st.characters(blacklist_categories=("Cs",)), min_size=32, max_size=64),
    sub=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    groups=st.lists(st.sampled_from([*GROUPS, "admins", "root"]), max_size=4),
    times=st.dictionaries(st.sampled_from(TIME_CLAIMS), _time_value),
    signed_with_another_secret=st.booleans(),
)
def test_the_verifier_agrees_with_pyjwt_on_generated_tokens(secret, sub, groups, times, signed_with_another_secret):
    """PyJWT, an independent implementation, mints the token and verifies it too. Both accept or both refuse, and
    agree on the claims, except where this verifier is stricter by design: a time claim must be a whole number of
    seconds (an int, not a bool, a float or a numeric string, which PyJWT coerces) in 0 < t < 2**40."""
    now = time.time()
    assume(all(abs(v - now) > 30 for v in times.values() if isinstance(v, (int, float)) and not isinstance(v, bool)))
    claims = {"sub": sub, "groups": groups, **times}
    token = jwt.encode(claims, secret + "!" if signed_with_another_secret else secret, algorithm="HS256")
    try:
        theirs = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.InvalidTokenError:
        theirs = None
    try:
        ours = hs256_verifier(secret).verify(f"Bearer {token}")
    except Unauthorized:
        ours = None
    stricter = all(_whole_second_in_range(v) for v in times.values())
    assert (ours is not None) == (theirs is not None and stricter), (claims, theirs, ours)
    if ours is not None and theirs is not None:
        assert (ours.user_id, ours.groups) == (theirs["sub"], frozenset(theirs["groups"]) & frozenset(GROUPS))


def test_a_tokens_signature_is_checked_once_but_its_expiry_and_its_key_on_every_request():
    from chalicelib.adapters.tokens import TokenVerifier

    now = [1_800_000_000.0]
    keys = [SECRET.encode()]
    verifier = TokenVerifier("HS256", lambda header: keys[0], clock=lambda: now[0])
    checked: list[str] = []
    signed = verifier._signed
    verifier._signed = lambda token: checked.append(token) or signed(token)  # type: ignore[method-assign]
    token = jwt.encode({"sub": "u-1", "exp": 1_800_000_060}, SECRET, "HS256")
    first = verifier.verify(f"Bearer {token}")
    assert first.user_id == verifier.verify(f"Bearer {token}").user_id == "u-1"
    assert len(checked) == 1, "the signature is verified once per container"
    keys[0] = b"another-secret-of-the-same-length!!!!"  # the issuer's key changed: nothing seen before is trusted
    with pytest.raises(Unauthorized, match="signature"):
        verifier.verify(f"Bearer {token}")
    keys[0] = SECRET.encode()
    assert verifier.verify(f"Bearer {token}").user_id == "u-1"
    now[0] = 1_800_000_060.0
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(f"Bearer {token}")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(2):  # a bad signature is never remembered as good
        with pytest.raises(Unauthorized):
            verifier.verify(f"Bearer {forged}")
    nobody = jwt.encode({"sub": "not a user id", "exp": 1_800_000_600}, SECRET, "HS256")
    checked.clear()
    for _ in range(2):  # a good signature naming no valid user is refused every time, never remembered
        with pytest.raises(Unauthorized, match="sub"):
            verifier.verify(f"Bearer {nobody}")
    assert len(checked) == 2
