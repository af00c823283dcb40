"""Public display names for user ids: stable per user, unguessable without the server's key."""

from __future__ import annotations

import hashlib
import hmac


class Pseudonyms:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def designer(self, user_id: str) -> str:
        """What the public sees of a designer: the same name on each of their designs, never their user id."""
        return f"Designer {self._code(b'designer|', user_id)}"

    def reviewer(self, user_id: str) -> str:
        """What the public sees of a reviewer: the same name on each of their reviews, never their user id."""
        return f"Buyer {self._code(b'reviewer|', user_id)}"

    def member(self, envelope_id: str, user_id: str) -> str:
        """What other members see of someone who claimed a red envelope: a name of its own on each envelope, so a
        sender who sees who claimed theirs cannot recognise the same people on other envelopes."""
        return f"Member {self._code(f'member|{envelope_id}|'.encode(), user_id)}"

    def _code(self, purpose: bytes, user_id: str) -> str:
        return hmac.new(self._secret, purpose + user_id.encode(), hashlib.sha256).hexdigest()[:6].upper()
