"""JSON read as RFC 8259 defines it, for signed input (tokens, webhooks) that no model validates first."""

from __future__ import annotations

import json
from typing import Any, Union


class NotStrictJson(ValueError):
    """Valid to Python's json module, but not JSON (NaN, Infinity), or ambiguous (a name twice in one object)."""


def loads(data: Union[str, bytes]) -> Any:
    """Python's json reads NaN and Infinity (an exp of NaN never expires) and keeps the last of repeated names
    (another reader may keep the first): both refused. Other malformed input raises ValueError as json does."""
    return json.loads(data, parse_constant=_not_json, object_pairs_hook=_unique_names)


def _not_json(constant: str) -> None:
    raise NotStrictJson(f"{constant} is not JSON")


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise NotStrictJson(f"the name {name[:40]!r} appears twice in one JSON object")
        seen.add(name)
    return dict(pairs)
