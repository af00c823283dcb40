"""Discovery's pure rules: how a product's text becomes index tokens, how a query becomes index lookups, and how the
matches are ranked, filtered and paged. Nothing here reads the store or loads a tokeniser: the index consumer
passes its pinyin function in (docs/decisions.md: the search index)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Callable, Iterable, Literal, NamedTuple, Optional

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from chalicelib.domain.base import Model, Strict
from chalicelib.domain.catalog import CATEGORIES, CategoryId, Product

Sort = Literal["relevance", "new", "popular", "points_asc", "points_desc"]
Pay = Literal["points", "points_cash", "cash"]
MAX_QUERY = 64
MAX_LOOKUPS = 16  # index lookups one query may make (one DynamoDB Query each): later words are not looked up
MAX_EXAMINED = 150  # products one page reads at most (skipping sold-out and just-archived ones)

# How much a query word matching a field is worth; a query is ranked by the sum over its words of the best field
# each matched, plus EXACT when the whole query is a product's whole title.
WEIGHT = {"title": 10, "pinyin": 8, "sku": 6, "tag": 4, "description": 1}
EXACT = 100
ALL = "*"  # the token every active product has: GET /products sorted
PREFIX_MAX = 20  # word prefixes indexed up to this length
PINYIN_SPAN = 4  # pinyin of up to this many characters in a row is one token ("xingkong", "xingkongsan")
INITIALS_SPAN = (2, 4)  # initials of 2..4 characters in a row ("xks")
DESCRIPTION_TOKENS = 100  # a description adds at most this many tokens

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TERM = re.compile(f"[{_CJK}]+|[a-z0-9]+")
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORD = re.compile("[a-z0-9]+")


def normalise(text: str) -> str:
    """Full-width to half-width, one case (NFKC then casefold): 'ＵＭＢＲ' and 'umbr' are the same query."""
    return unicodedata.normalize("NFKC", text).casefold()


def terms(text: str) -> list[str]:
    """The searchable parts of a text, in order, each once: runs of Chinese characters and runs of ASCII letters
    and digits (punctuation, emoji and spaces only separate them)."""
    return list(dict.fromkeys(_TERM.findall(normalise(text))))


def exact_key(text: str) -> str:
    """What an exact title match compares: the title's terms run together ('Starry-Sky umbrella' ~ 'starry sky
    umbrella'), cut to the longest query."""
    return "".join(_TERM.findall(normalise(text)))[:MAX_QUERY]


# -- the query --------------------------------------------------------------------------------------
def _has_term(q: str) -> str:
    if not terms(q):
        raise ValueError("needs a letter, a digit or a Chinese character")
    return q


def _no_controls(q: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in q):
        raise ValueError("must not contain control or formatting characters")
    return q


Query = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_QUERY), AfterValidator(_no_controls), AfterValidator(_has_term)
]


class _Params(Model):
    """Query parameters: an unknown one is 400 (a typo is told, and a made-up one cannot bypass a CDN's cache)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class SearchQuery(_Params):
    q: Query
    category: Optional[CategoryId] = None
    sort: Sort = "relevance"
    pay: Optional[Pay] = None
    in_stock: bool = False
    limit: int = Field(default=20, ge=1, le=50)
    cursor: Optional[str] = Field(default=None, max_length=2048)


class ListQuery(_Params):
    """GET /products: without `sort` newest-created first (as before); with it, ranked from the index."""

    category: Optional[CategoryId] = None
    sort: Optional[Literal["new", "popular", "points_asc", "points_desc"]] = None
    pay: Optional[Pay] = None
    in_stock: bool = False
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Optional[str] = Field(default=None, max_length=2048)


@dataclass(frozen=True)
class Term:
    """One part of the query: it matches a product through any of its alternatives, each a set of tokens the
    product must all have (a Chinese run's bigrams; a word as English, as pinyin, or as initials)."""

    text: str
    alternatives: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Plan:
    terms: tuple[Term, ...]
    exact: str  # the exact-title token
    ignored: tuple[str, ...] = ()  # terms past the lookup budget

    @property
    def tokens(self) -> list[str]:
        """Every token to look up, each once: one Query each (the exact title's first)."""
        out = [self.exact]
        for term in self.terms:
            for alternative in term.alternatives:
                out += [t for t in alternative if t not in out]
        return out


def _cjk_tokens(run: str) -> tuple[str, ...]:
    """A run of Chinese characters as index tokens: itself if one character, else bigrams covering it (every
    other one, and the last: 双镜头行车记录仪 → 双镜 头行 车记 录仪). A product with them all almost always has the
    run itself; the few that only have its pieces apart rank below those with the whole title."""
    if len(run) == 1:
        return (f"z:{run}",)
    grams = [run[i : i + 2] for i in range(0, len(run) - 1, 2)]
    if len(run) % 2:
        grams.append(run[-2:])
    return tuple(dict.fromkeys(f"z:{g}" for g in grams))


def _word_alternatives(word: str) -> tuple[tuple[str, ...], ...]:
    alternatives: list[tuple[str, ...]] = [(f"w:{word[:PREFIX_MAX]}",)]
    if word.isalpha():
        alternatives.append((f"y:{word}",))
        if INITIALS_SPAN[0] <= len(word) <= INITIALS_SPAN[1]:
            alternatives.append((f"i:{word}",))
    return tuple(alternatives)


def _term(text: str) -> Term:
    if _CJK_RUN.fullmatch(text):
        return Term(text, (_cjk_tokens(text),))
    return Term(text, _word_alternatives(text))


def _as_synonym(member: str) -> tuple[str, ...]:
    """A synonym as one alternative: its Chinese runs' tokens and its words as English, all required."""
    tokens: list[str] = []
    for part in terms(member):
        tokens += _cjk_tokens(part) if _CJK_RUN.fullmatch(part) else [f"w:{part[:PREFIX_MAX]}"]
    return tuple(dict.fromkeys(tokens))


def plan(q: str, synonyms: Iterable[Iterable[str]] = ()) -> Plan:
    """The lookups that answer `q`: one Term per query term (or for the whole query, when it is a synonym as a
    whole), within MAX_LOOKUPS. The first term is always looked up (a long Chinese run by its beginning); a later
    term that does not fit is listed in `ignored`; a term's synonyms are added only while they fit."""
    groups = [[normalise(m) for m in group] for group in synonyms]
    whole = " ".join(terms(q))
    parts = [whole] if any(whole in g for g in groups) else terms(q)
    chosen: list[Term] = []
    seen: list[str] = []
    ignored: list[str] = []
    for part in parts:
        base = _term(part) if " " not in part else Term(part, (_as_synonym(part),))
        new = [t for a in base.alternatives for t in a if t not in seen]
        if len(seen) + len(set(new)) > MAX_LOOKUPS:
            if chosen:
                ignored.append(part)
                continue
            base = Term(part, tuple(a[:MAX_LOOKUPS] for a in base.alternatives))  # its beginning
        alternatives = list(base.alternatives)
        seen += [t for a in alternatives for t in a if t not in seen]
        for member in (m for g in groups if part in g for m in g if m != part):
            extra = _as_synonym(member)
            fresh = [t for t in extra if t not in seen]
            if extra and extra not in alternatives and len(seen) + len(fresh) <= MAX_LOOKUPS:
                alternatives.append(extra)
                seen += fresh
        chosen.append(Term(part, tuple(alternatives)))
    return Plan(tuple(chosen), f"x:{exact_key(q)}", tuple(ignored))


# -- a product's tokens ---------------------------------------------------------------------------------
Pinyin = Callable[[str], list[str]]  # a run of Chinese characters → one syllable per character, lower case ASCII


def _prefixes(word: str) -> list[str]:
    """A word and its beginnings from two letters ('um', 'umb', ...): one letter alone is found as a whole word."""
    return list(dict.fromkeys([word[:n] for n in range(2, min(len(word), PREFIX_MAX) + 1)] + [word[:PREFIX_MAX]]))


def product_tokens(product: dict[str, Any], pinyin: Pinyin) -> dict[str, int]:
    """Every token an active product is found by, with the weight of the best field it comes from."""
    out: dict[str, int] = {ALL: 0}

    def add(tokens: Iterable[str], weight: int) -> None:
        for token in tokens:
            if out.get(token, -1) < weight:
                out[token] = weight

    for title in (product.get("title", ""), product.get("title_zh", "")):
        add([f"x:{exact_key(title)}"], EXACT)
        for part in terms(title):
            if _CJK_RUN.fullmatch(part):
                add((f"z:{part[i : i + n]}" for n in (1, 2) for i in range(len(part) - n + 1)), WEIGHT["title"])
                add(_pinyin_tokens(pinyin(part)), WEIGHT["pinyin"])
            else:
                add((f"w:{p}" for p in _prefixes(part)), WEIGHT["title"])
    for tag in product.get("tags") or []:  # its words and their beginnings, and the tag run together
        add([f"w:{p}" for part in terms(tag) for p in _prefixes(part)] + [f"w:{exact_key(tag)}"], WEIGHT["tag"])
    for sku in product.get("skus") or []:
        code = sku["sku"] if isinstance(sku, dict) else str(sku)
        add([f"w:{p}" for part in terms(code) for p in _prefixes(part)] + [f"w:{exact_key(code)}"], WEIGHT["sku"])
    described: list[str] = []
    for part in terms(product.get("description", "")):
        if _CJK_RUN.fullmatch(part):
            described += [f"z:{part[i : i + n]}" for n in (1, 2) for i in range(len(part) - n + 1)]
        else:
            described.append(f"w:{part[:PREFIX_MAX]}")
    add([t for t in dict.fromkeys(described) if t not in out][:DESCRIPTION_TOKENS], WEIGHT["description"])
    return out


def _pinyin_tokens(syllables: list[str]) -> list[str]:
    syllables = [s for s in syllables if s.isascii() and s.isalpha()]
    tokens = []
    for i in range(len(syllables)):
        for n in range(1, PINYIN_SPAN + 1):
            if i + n <= len(syllables):
                tokens.append("y:" + "".join(syllables[i : i + n]))
        for n in range(INITIALS_SPAN[0], INITIALS_SPAN[1] + 1):
            if i + n <= len(syllables):
                tokens.append("i:" + "".join(s[0] for s in syllables[i : i + n]))
    return tokens


# -- what a posting carries: everything a result list filters and sorts on but stock and sales --------------
class Facts(NamedTuple):  # a tuple: a listing decodes thousands of them
    product_id: str
    category: str
    published: int  # epoch seconds
    points: int  # the lowest SKU points price
    pay: str  # "p" (points), "c" (cash), "pc" (both)
    owner_only: bool


def facts(product: dict[str, Any]) -> Facts:
    accepts = product.get("accepts") or {}
    published = product.get("published_at") or product["created_at"]
    moment = dt.datetime.fromisoformat(published.replace("Z", "+00:00"))
    return Facts(
        product_id=product["product_id"],
        category=product["category"],
        published=int(moment.timestamp()),
        points=min(s["price_fen"] // 10 for s in product["skus"]),
        pay=("p" if accepts.get("points", True) else "") + ("c" if accepts.get("cash", True) else ""),
        owner_only=bool(product.get("owner_only")),
    )


def indexed(product: dict[str, Any]) -> bool:
    """Only active products of the shop's eight categories are found (not drafts, archived ones or event tickets)."""
    return product.get("status") == "active" and product.get("category") in CATEGORIES


def pays(f: Facts, pay: Optional[str]) -> bool:
    if pay is None:
        return True
    if pay == "points":
        return "p" in f.pay
    if pay == "cash":
        return "c" in f.pay
    return f.pay == "pc"


# -- ranking -------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Match:
    facts: Facts
    score: int = 0
    units: int = 0


def matches(plan_: Plan, postings: dict[str, dict[str, tuple[int, Facts]]]) -> list[Match]:
    """The products that match every term of the plan, each with its score. `postings[token][product_id]` is
    (weight, facts) for each token looked up."""
    found: Optional[dict[str, Match]] = None
    for term in plan_.terms:
        best: dict[str, tuple[int, Facts]] = {}
        for alternative in term.alternatives:
            lists = [postings.get(t, {}) for t in alternative]
            common = set(lists[0]).intersection(*lists[1:]) if lists else set()
            for pid in common:
                weight = min(lst[pid][0] for lst in lists)
                if pid not in best or best[pid][0] < weight:
                    best[pid] = (weight, lists[0][pid][1])
        if found is None:
            found = {pid: Match(f, w) for pid, (w, f) in best.items()}
        else:
            found = {pid: m for pid, m in found.items() if pid in best}
            for pid, m in found.items():
                m.score += best[pid][0]
    exact = postings.get(plan_.exact, {})
    out = list((found or {}).values())
    for m in out:
        if m.facts.product_id in exact:
            m.score += EXACT
    return out


def sort_key(m: Match, sort: str) -> tuple[int, int, str]:
    """Ascending order of results: ties broken by newer first, then product id, so every page is stable."""
    f = m.facts
    if sort == "relevance":
        first = -m.score
    elif sort == "new":
        first = -f.published
    elif sort == "popular":
        first = -m.units
    elif sort == "points_asc":
        first = f.points
    else:
        first = -f.points
    return (first, -f.published, f.product_id)


def ranked(found: list[Match], sort: str, after: Optional[tuple[int, int, str]]) -> list[Match]:
    keyed = [(sort_key(m, sort), m) for m in found]
    keyed.sort(key=lambda pair: pair[0])
    return [m for k, m in keyed if after is None or k > after]


# -- what the API answers -------------------------------------------------------------------------------
class Rating(Model):
    average: Optional[float] = Field(description="1 decimal; null until the product has a review")
    count: int


class Listed(Product):
    """A product in a result list: with its rating and, for a caller with a token, whether they may buy it."""

    rating: Rating
    eligible: Optional[bool] = Field(
        default=None, description="with a token: false for an owner-only product and a caller who is not an owner"
    )


class SearchPage(Model):
    items: list[Listed]
    next_cursor: Optional[str]


def rating(product: dict[str, Any]) -> Rating:
    return rating_of(int(product.get("rating_sum") or 0), int(product.get("rating_count") or 0))


def rating_of(total: int, count: int) -> Rating:
    """`count` ratings adding up to `total`: their average to one decimal, rounded half up (exactly, in Decimal)."""
    if not count:
        return Rating(average=None, count=0)
    average = (Decimal(total) / Decimal(count)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Rating(average=float(average), count=count)


# -- sales counted for `popular`, and what the merchandisers see of searches --------------------------------
POPULAR_DAYS = 30
SALES_SHARDS = 8  # a day's units sold are spread over this many partitions (a launch-day bestseller)
STATS_SHARDS = 16  # searches are counted on this many partitions (a popular query)


def stats_shard(seed: int) -> int:
    return seed % STATS_SHARDS


class StatsQuery(Model):
    days: int = Field(default=7, ge=1, le=90)


class QueryCount(Model):
    q: str
    count: int


class SearchStats(Model):
    days: int
    searches: int
    top: list[QueryCount] = Field(description="the most frequent queries (up to 20)")
    zero_results: list[QueryCount] = Field(description="the most frequent queries that found nothing (up to 20)")
    complete: bool = Field(
        description="false when so many distinct queries were searched that only the first 1 MB of counts per "
        "shard was read (a flood of made-up queries): the figures are a lower bound"
    )


def top_queries(rows: Iterable[tuple[str, int, int]], n: int = 20) -> tuple[int, list[QueryCount], list[QueryCount]]:
    """(searches, top, zero-result top) from (query, count, zero-result count) rows of any shards and days."""
    counts: dict[str, list[int]] = {}
    for q, count, zero in rows:
        c = counts.setdefault(q, [0, 0])
        c[0] += count
        c[1] += zero

    def best(i: int) -> list[QueryCount]:
        order = sorted((q for q in counts if counts[q][i]), key=lambda q: (-counts[q][i], q))
        return [QueryCount(q=q, count=counts[q][i]) for q in order[:n]]

    return sum(c[0] for c in counts.values()), best(0), best(1)


SynonymText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUERY)]


MAX_SYNONYM_CHARACTERS = 16_000  # all members together: the audit entry keeps the groups before and after


class Synonyms(Strict):
    groups: list[Annotated[list[SynonymText], Field(min_length=2, max_length=10)]] = Field(max_length=100)


class SynonymGroups(Model):
    groups: list[list[str]] = Field(description="as stored: each member's terms in one case, run together by spaces")


def synonym_groups(body: Synonyms) -> list[list[str]]:
    """The groups as stored: each member normalised to its terms (so '雨伞' and ' 雨伞 ' are one), each once; a member
    with nothing searchable, or longer than a query once normalised, is refused."""
    out: list[list[str]] = []
    for n, group in enumerate(body.groups):
        members = []
        for member in group:
            joined = " ".join(terms(member))
            if not joined:
                raise ValueError(f"groups[{n}]: {member!r} has no letter, digit or Chinese character")
            if len(joined) > MAX_QUERY:
                raise ValueError(f"groups[{n}]: {member[:20]!r}… is longer than {MAX_QUERY} characters once normalised")
            members.append(joined)
        members = list(dict.fromkeys(members))
        if len(members) < 2:
            raise ValueError(f"groups[{n}] names one thing only")
        out.append(members)
    if sum(len(m) for g in out for m in g) > MAX_SYNONYM_CHARACTERS:
        raise ValueError(f"at most {MAX_SYNONYM_CHARACTERS} characters of synonyms in all")
    return out


def calls_formula(plan_: Plan, sort: str, found: bool) -> int:
    """DynamoDB calls of a search's first page whose token lists each fit one Query page and whose page has no
    sharded SKU and no out-of-stock product skipped: a Query per token, a GetItem of the sales ranking for
    `popular`, a BatchGetItem of the page's products and one of their SKUs (when it found any), and the search's
    count."""
    return len(plan_.tokens) + (sort == "popular") + 2 * found + 1
