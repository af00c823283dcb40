"""Bearer-token verification: HS256 with a shared secret (stage local) or RS256 against a JWKS."""
from __future__ import annotations

import warnings
from typing import Any, Callable, Optional

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from chalicelib.domain.auth import GROUPS, PARTNER_ID, Principal
from chalicelib.domain.errors import Unauthorized
from chalicelib.domain.points import is_user_id


class TokenVerifier:
    """`key_for(token)` returns the key that must have signed it (a secret or a JWKS public key)."""

    def __init__(self, key_for: Callable[[str], Any], algorithms: list[str],
                 issuer: Optional[str] = None, audience: Optional[str] = None) -> None:
        self._key_for = key_for
        self._algorithms = algorithms
        self._issuer = issuer
        self._audience = audience

    def verify(self, authorization: Optional[str]) -> Principal:
        if not authorization:
            raise Unauthorized("an Authorization: Bearer <token> header is required")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        try:
            claims = jwt.decode(
                token.strip(), self._key_for(token.strip()), algorithms=self._algorithms,
                issuer=self._issuer, audience=self._audience,
                options={"require": ["exp", "sub"], "verify_aud": self._audience is not None})
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise Unauthorized(f"the token is not valid: {exc}") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not is_user_id(sub):
            raise Unauthorized("the token's sub is not a valid user id")
        groups = claims.get("groups", claims.get("cognito:groups", []))
        if not isinstance(groups, list):
            raise Unauthorized("the token's groups must be a list")
        partner_id = claims.get("partner_id", claims.get("custom:partner_id"))
        if partner_id is not None and not (isinstance(partner_id, str) and PARTNER_ID.fullmatch(partner_id)):
            raise Unauthorized("the token's partner_id is not a valid partner id")
        return Principal(user_id=sub, groups=frozenset(g for g in groups if g in GROUPS), partner_id=partner_id)


def hs256_verifier(secret: str) -> TokenVerifier:
    # Stage local's documented default secret is short on purpose; other stages use RS256.
    warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)
    return TokenVerifier(lambda _token: secret, ["HS256"])


def jwks_verifier(jwks_url: str, issuer: str, audience: str) -> TokenVerifier:
    client = jwt.PyJWKClient(jwks_url, cache_keys=True)
    return TokenVerifier(lambda token: client.get_signing_key_from_jwt(token).key, ["RS256"], issuer, audience)


def mint_local_token(secret: str, user_id: str, groups: list[str], lifetime_s: int, now_s: int,
                     partner_id: Optional[str] = None) -> str:
    """A stage-local demo/test token (never used by the server itself to authenticate)."""
    warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)
    claims: dict[str, Any] = {"sub": user_id, "groups": groups, "iat": now_s, "exp": now_s + lifetime_s}
    if partner_id:
        claims["partner_id"] = partner_id
    return jwt.encode(claims, secret, algorithm="HS256")
