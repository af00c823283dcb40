"""Text and URL types for what people type: no control or bidirectional-override characters, https without userinfo.

A title with a NUL, a CR/LF or U+202E (which flips how the rest of a line reads) can forge log lines, spoof file
names and prices in an app that shows it; a URL like `https://shop.example@evil.example/` points somewhere else
than it reads. Each is a 400 naming the field.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, StringConstraints, ValidationInfo

# Marks and overrides that change the direction text is shown in (LRM, RLM, ALM, LRE..RLO, LRI..PDI).
BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
JOINERS = "\u200c\u200d"  # zero-width (non-)joiners: emoji sequences, Persian and Indic scripts need them
# Validating what the shop stored itself (context {"stored": True}) skips these checks: data written before a
# rule existed must stay readable.
STORED = {"stored": True}
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _refuse_hidden(value: str, allowed: str, refused: tuple[str, ...]) -> str:
    if value.isprintable():  # no Cc, Cf, Cs, Co, Cn, Zl, Zp, nor Zs but the space: nothing to refuse (most text)
        return value
    for ch in value:
        if ch in allowed:
            continue
        if ch in BIDI_CONTROLS or unicodedata.category(ch) in refused:
            raise ValueError(f"must not contain control or direction-changing characters (found U+{ord(ch):04X})")
    return value


def _trusted(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("stored"))


def _line(value: str, info: ValidationInfo) -> str:
    # Line and paragraph separators (Zl, Zp) break a line as surely as CR/LF. Printable text (most) has none of what
    # is refused: it passes at once (every address line of every order comes here).
    if value.isprintable() or _trusted(info):
        return value
    return _refuse_hidden(value, JOINERS, ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))


def _prose(value: str, info: ValidationInfo) -> str:
    return value if _trusted(info) else _refuse_hidden(value, JOINERS + "\n\t", ("Cc", "Cf", "Cs", "Co"))


def _https_url(value: str, info: ValidationInfo) -> str:
    if _trusted(info):
        return value
    _refuse_hidden(value, "", ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError("must be an https:// URL")
    if "@" in parts.netloc:
        raise ValueError("must not contain a user name or password before the host")
    host = (parts.hostname or "").rstrip(".")
    if not _HOST.fullmatch(host) or any(c.isspace() for c in value):
        raise ValueError("must name a host such as img.example.com, with no spaces")
    return value


# Add to a str's Annotated metadata: `Annotated[str, StringConstraints(...), OneLine]`.
OneLine = AfterValidator(_line)
Paragraphs = AfterValidator(_prose)
HttpsUrl = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_https_url)]
