"""Bearer-token verification with the standard library: HS256 with a shared secret (stage local) or RS256 against
the user pool's JWKS (RFC 7515, 7517, 7518, 7519).

Two algorithms need no JWT library: HS256 is `hmac`, RS256 (RSASSA-PKCS1-v1_5 with SHA-256) is one `pow()` and a
comparison of the whole encoded message (RFC 8017 §8.2.2, which leaves no parsing to fool). PyJWT with cryptography
cost about 30 ms of every cold start and a native wheel per architecture (docs/decisions.md); the tests still mint
and cross-check tokens with PyJWT and keys from cryptography, so this code is checked against an independent
implementation. It is stricter than PyJWT where a lenient reading could be abused: time claims are whole seconds in
a sane range, JSON names appear once, base64url is canonical, and a `crit` header is refused."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from chalicelib.adapters import strict_json
from chalicelib.domain.auth import GROUPS, MERCHANT_ID, PARTNER_ID, Principal
from chalicelib.domain.errors import Unauthorized, Unavailable
from chalicelib.domain.points import is_user_id

MAX_TOKEN_CHARS = 8192  # Cognito's tokens are about 1-2 KB
MIN_RSA_BITS = 2048
CLOCK_SKEW_S = 5  # a token issued "in the future" by a pool whose clock runs slightly ahead is still good
TIME_CLAIMS = ("exp", "nbf", "iat")
MAX_TIME_S = 2**40  # a time claim beyond this (the year 36812) is no time a pool issues: never "valid forever"
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")  # RFC 8017 §9.2, note 1


class InvalidToken(ValueError):
    pass


@dataclass(frozen=True)
class RsaKey:
    n: int
    e: int

    def verifies(self, message: bytes, signature: bytes) -> bool:
        """RSASSA-PKCS1-v1_5 with SHA-256: the signature, raised to e, must be exactly the encoding of the digest."""
        k = (self.n.bit_length() + 7) // 8
        if len(signature) != k:
            return False
        s = int.from_bytes(signature, "big")
        if s >= self.n:
            return False
        t = _SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
        expected = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
        return hmac.compare_digest(pow(s, self.e, self.n).to_bytes(k, "big"), expected)


def rsa_key_from_jwk(jwk: Any) -> Optional[RsaKey]:
    """An RSA signing key of at least 2048 bits for RS256, else None (other keys in the set are not ours to use)."""
    if (
        not isinstance(jwk, dict)
        or jwk.get("kty") != "RSA"
        or jwk.get("use", "sig") != "sig"
        or jwk.get("alg", "RS256") != "RS256"
    ):
        return None
    try:
        n, e = (int.from_bytes(_b64url(jwk[name]), "big") for name in ("n", "e"))
    except (KeyError, TypeError, InvalidToken):
        return None
    if n.bit_length() < MIN_RSA_BITS or e < 3 or e % 2 == 0 or e >= n:
        return None
    return RsaKey(n, e)


class Jwks:
    """The user pool's public keys by `kid`, fetched on first use and kept for `max_age_s`. A token with an unknown
    `kid` (a rotated key) refetches at most once per `min_refetch_s`, so random kids cannot hammer the key server.
    A key server that cannot be reached is 503 until the keys were fetched once; after that the last keys serve."""

    def __init__(
        self,
        url: str,
        fetch: Optional[Callable[[str], Any]] = None,
        clock: Callable[[], float] = time.monotonic,
        max_age_s: float = 3600,
        min_refetch_s: float = 60,
    ) -> None:
        self._url = url
        self._fetch = fetch or _fetch_json
        self._clock = clock
        self._max_age_s = max_age_s
        self._min_refetch_s = min_refetch_s
        self._keys: dict[str, RsaKey] = {}
        self._fetched_at: Optional[float] = None
        self._tried_at: Optional[float] = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> Optional[RsaKey]:
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self._max_age_s
            may_try = self._tried_at is None or now - self._tried_at >= self._min_refetch_s
            if (stale or kid not in self._keys) and may_try:
                self._tried_at = now
                try:
                    self._keys = self._parse(self._fetch(self._url))
                    self._fetched_at = now
                except Exception as exc:  # unreachable, slow, or not a key set: keep what we had
                    if self._fetched_at is None:
                        raise Unavailable("the sign-in keys cannot be fetched; retry in a moment") from exc
            elif self._fetched_at is None:
                raise Unavailable("the sign-in keys cannot be fetched; retry in a moment")
            return self._keys.get(kid)

    @staticmethod
    def _parse(document: Any) -> dict[str, RsaKey]:
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JWK set")
        keys = {}
        for jwk in document["keys"]:
            key = rsa_key_from_jwk(jwk)
            if key is not None and isinstance(jwk.get("kid"), str):
                keys[jwk["kid"]] = key
        return keys


def _fetch_json(url: str) -> Any:
    import urllib.request  # only when the keys are (re)fetched

    with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 (Settings: an https URL)
        return json.loads(response.read(1_000_000))


VERIFIED_MAX = 1024  # tokens whose signature a container remembers (then it starts over)
CACHED_TOKEN_CHARS = 4096  # a longer token is verified every time (a container's memory is not a token store)


class TokenVerifier:
    """Checks a bearer token's signature (the one algorithm configured), then exp/nbf/iat, iss and aud."""

    def __init__(
        self,
        algorithm: str,
        key: Callable[[dict[str, Any]], Any],
        issuer: Optional[str] = None,
        audience: Optional[str] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._algorithm = algorithm
        self._key = key  # the header -> the HS256 secret, or the RS256 key (None: unknown)
        # token -> (claims, header, the key that verified it, its principal), once it verified and named a principal
        self._verified: dict[str, tuple[dict[str, Any], dict[str, Any], Any, Principal]] = {}
        self._issuer = issuer
        self._audience = audience
        self._clock = clock

    def verify(self, authorization: Optional[str]) -> Principal:
        if not authorization:
            raise Unauthorized("an Authorization: Bearer <token> header is required")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        try:
            return self._principal_of(token.strip())
        except InvalidToken as exc:
            raise Unauthorized(f"the token is not valid: {exc}") from None

    def _principal_of(self, token: str) -> Principal:
        """Who the token names: its signature checked and its principal read once per container (an app sends the
        same token for an hour), its times, issuer and audience on every request."""
        seen = self._verified.get(token)
        # a key the issuer has since withdrawn (a JWKS refresh without it) no longer vouches for its tokens
        if seen is not None and self._key(seen[1]) is seen[2]:
            self._check_claims(seen[0])
            return seen[3]
        claims, header, key = self._signed(token)
        self._check_claims(claims)
        principal = _principal(claims)  # immutable: the remembered one is handed out as is
        if len(self._verified) >= VERIFIED_MAX:
            self._verified.clear()
        if len(token) <= CACHED_TOKEN_CHARS:
            self._verified[token] = (claims, header, key, principal)
        return principal

    def _signed(self, token: str) -> tuple[dict[str, Any], dict[str, Any], Any]:
        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise InvalidToken("not a signed JWT")
        header_b64, payload_b64, signature_b64 = token.split(".")
        header, claims = _json_object(header_b64, "header"), _json_object(payload_b64, "payload")
        if header.get("alg") != self._algorithm:
            raise InvalidToken(f"the algorithm must be {self._algorithm}")
        if "crit" in header:  # RFC 7515 §4.1.11: extensions it must understand; this verifier understands none
            raise InvalidToken("the header's crit names extensions this verifier does not support")
        signing_input = f"{header_b64}.{payload_b64}".encode()
        signature = _b64url(signature_b64)
        key = self._key(header)
        if isinstance(key, bytes):
            good = hmac.compare_digest(hmac.new(key, signing_input, hashlib.sha256).digest(), signature)
        else:
            good = isinstance(key, RsaKey) and key.verifies(signing_input, signature)
        if not good:
            raise InvalidToken("the signature does not verify")
        return claims, header, key

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = self._clock()
        for name in TIME_CLAIMS:  # whole seconds: a bool is an int to Python, a float may be infinite
            if name in claims and not (type(claims[name]) is int and 0 < claims[name] < MAX_TIME_S):
                raise InvalidToken(f"{name} must be a whole number of seconds since 1970")
        if "exp" not in claims:
            raise InvalidToken("the token has no exp")
        if now >= claims["exp"]:
            raise InvalidToken("the token has expired")
        if now + CLOCK_SKEW_S < max(claims.get("nbf", now), claims.get("iat", now)):
            raise InvalidToken("the token is not valid yet")
        if self._issuer is not None and claims.get("iss") != self._issuer:
            raise InvalidToken("the issuer is not this shop's")
        if self._audience is not None:
            aud = claims.get("aud")
            audiences = aud if isinstance(aud, list) else [aud]
            if self._audience not in audiences:
                raise InvalidToken("the audience is not this shop")


def _principal(claims: dict[str, Any]) -> Principal:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not is_user_id(sub):
        raise Unauthorized("the token's sub is not a valid user id")
    groups = claims.get("groups", claims.get("cognito:groups", []))
    if not isinstance(groups, list):
        raise Unauthorized("the token's groups must be a list")
    partner_id = claims.get("partner_id", claims.get("custom:partner_id"))
    if partner_id is not None and not (isinstance(partner_id, str) and PARTNER_ID.fullmatch(partner_id)):
        raise Unauthorized("the token's partner_id is not a valid partner id")
    merchant_id = claims.get("merchant_id", claims.get("custom:merchant_id"))
    if merchant_id is not None and not (isinstance(merchant_id, str) and MERCHANT_ID.fullmatch(merchant_id)):
        raise Unauthorized("the token's merchant_id is not a valid merchant id")
    return Principal(
        user_id=sub,
        groups=frozenset(g for g in groups if g in GROUPS),
        partner_id=partner_id,
        merchant_id=merchant_id,
    )


def _b64url(segment: Any) -> bytes:
    """The bytes of an unpadded base64url segment, in its one canonical spelling: a segment whose unused last bits
    are set decodes to the same bytes, and would let one token be sent under many spellings."""
    if not isinstance(segment, str) or not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        raise InvalidToken("a segment is not base64url")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("a segment is not base64url") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != segment:
        raise InvalidToken("a segment is not canonical base64url")
    return raw


def _json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        value = strict_json.loads(_b64url(segment))
    except strict_json.NotStrictJson as exc:
        raise InvalidToken(f"the {what} is not JSON: {exc}") from None
    except (UnicodeDecodeError, ValueError):
        raise InvalidToken(f"the {what} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidToken(f"the {what} is not a JSON object")
    return value


def hs256_verifier(secret: str) -> TokenVerifier:
    key = secret.encode()
    return TokenVerifier("HS256", lambda _header: key)


def jwks_verifier(jwks_url: str, issuer: str, audience: str, jwks: Optional[Jwks] = None) -> TokenVerifier:
    keys = jwks or Jwks(jwks_url)

    def key(header: dict[str, Any]) -> Optional[RsaKey]:
        kid = header.get("kid")
        return keys.key(kid) if isinstance(kid, str) else None

    return TokenVerifier("RS256", key, issuer, audience)


def mint_local_token(
    secret: str,
    user_id: str,
    groups: list[str],
    lifetime_s: int,
    now_s: int,
    partner_id: Optional[str] = None,
    merchant_id: Optional[str] = None,
) -> str:
    """A stage-local demo/test token (never used by the server itself to authenticate)."""
    claims: dict[str, Any] = {"sub": user_id, "groups": groups, "iat": now_s, "exp": now_s + lifetime_s}
    if partner_id:
        claims["partner_id"] = partner_id
    if merchant_id:
        claims["merchant_id"] = merchant_id
    signing_input = f"{_b64encode({'alg': 'HS256', 'typ': 'JWT'})}.{_b64encode(claims)}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def _b64encode(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=").decode()
