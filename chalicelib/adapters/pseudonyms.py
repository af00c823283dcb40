"""Public display names for user ids: stable per user, unguessable without the server's key."""
from __future__ import annotations

import hashlib
import hmac


class Pseudonyms:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def designer(self, user_id: str) -> str:
        """What the public sees of a designer: the same name on each of their designs, never their user id."""
        code = hmac.new(self._secret, b"designer|" + user_id.encode(), hashlib.sha256).hexdigest()[:6].upper()
        return f"Designer {code}"
