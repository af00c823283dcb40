"""Merchandisers' discovery: synonyms the search uses, and what shoppers searched for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.routing import Ctx, route

if TYPE_CHECKING:
    from chalicelib.domain.search import SearchStats, SynonymGroups

bp = Blueprint(__name__)
MERCH = "merchandiser"
SEARCH = "chalicelib.domain.search"


@route(
    bp,
    "/admin/search/synonyms",
    auth=MERCH,
    response=f"{SEARCH}:SynonymGroups",
    tag="discovery",
    summary="The synonym groups the search uses",
)
def synonyms(ctx: Ctx) -> SynonymGroups:
    from chalicelib.domain.search import SynonymGroups

    return SynonymGroups(groups=ctx.services.search.synonyms(fresh=True))


@route(
    bp,
    "/admin/search/synonyms",
    "PUT",
    auth=MERCH,
    body=f"{SEARCH}:Synonyms",
    response=f"{SEARCH}:SynonymGroups",
    tag="discovery",
    summary="Replace the synonym groups (each member finds what the others find; audited; every container uses "
    "them within a minute)",
    errors=("invalid_request",),
)
def put_synonyms(ctx: Ctx) -> SynonymGroups:
    return ctx.services.search.put_synonyms(ctx.user_id, ctx.body)


@route(
    bp,
    "/admin/search/stats",
    auth=MERCH,
    query=f"{SEARCH}:StatsQuery",
    response=f"{SEARCH}:SearchStats",
    tag="discovery",
    summary="The most frequent queries, and the most frequent that found nothing, over the last `days` (1-90)",
    errors=("invalid_request",),
)
def stats(ctx: Ctx) -> SearchStats:
    return ctx.services.search.stats(ctx.query.days)
