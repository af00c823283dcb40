"""The fast path of the hidden-character check (str.isprintable) refuses and accepts exactly what the
character-by-character rule does."""

import sys
import unicodedata

import pytest

from chalicelib.domain import text

LINE = (text.JOINERS, ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))
PROSE = (text.JOINERS + "\n\t", ("Cc", "Cf", "Cs", "Co"))
URL = ("", LINE[1])  # what an https URL is checked with


def _by_rule(ch: str, allowed: str, refused: tuple[str, ...]) -> bool:
    """True when the rule refuses `ch`: the check as it was before the fast path."""
    return ch not in allowed and (ch in text.BIDI_CONTROLS or unicodedata.category(ch) in refused)


@pytest.mark.parametrize(("allowed", "refused"), [LINE, PROSE, URL], ids=["line", "prose", "url"])
def test_no_printable_code_point_is_one_the_rule_refuses(allowed: str, refused: tuple[str, ...]) -> None:
    """So a printable value may skip the character-by-character check, which the others still take."""
    printable_but_refused = [
        f"U+{cp:04X}"
        for cp in range(sys.maxunicode + 1)
        if chr(cp).isprintable() and _by_rule(chr(cp), allowed, refused)
    ]
    assert printable_but_refused == []


def test_ordinary_text_passes_and_a_hidden_override_in_it_does_not() -> None:
    assert text._refuse_hidden("上海市 嘉定区 1 Road", *LINE) == "上海市 嘉定区 1 Road"
    assert text._refuse_hidden("全角　空格 and 👨\u200d👩\u200d👧", *LINE)  # ideographic space, joiners: kept
    with pytest.raises(ValueError, match="U\\+202E"):
        text._refuse_hidden("price 100\u202e001", *LINE)
    with pytest.raises(ValueError, match="U\\+2028"):
        text._refuse_hidden("one\u2028two", *LINE)
    assert text._refuse_hidden("one\ntwo", *PROSE) == "one\ntwo"
