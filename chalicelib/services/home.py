"""The store tab's home (banners, collections, new arrivals, popular) in a bounded number of reads, and the
merchandisers' collections and banners (audited)."""

from __future__ import annotations

from typing import Any, Callable, Optional

from chalicelib.adapters.catalog_repo import CatalogRepository
from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.home_repo import HomeRepository
from chalicelib.adapters.search_repo import SearchRepository
from chalicelib.domain import home as rules
from chalicelib.domain.base import Model
from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.search import indexed
from chalicelib.services.search import Audit, SearchService

_KIND: dict[str, tuple[type[Model], int]] = {
    "collection": (rules.Collection, rules.MAX_COLLECTIONS),
    "banner": (rules.Banner, rules.MAX_BANNERS),
}


def _stored(body: Any, kind: str) -> dict[str, Any]:
    entry = body.model_dump(exclude={f"{kind}_id"})
    for name in ("starts_at", "ends_at"):
        entry[name] = iso(entry[name]) if entry.get(name) else None
    return entry


def _view(kind: str, entry: dict[str, Any]) -> Any:
    model = _KIND[kind][0]
    return model.model_validate({k: v for k, v in entry.items() if k in model.model_fields})


class HomeService:
    def __init__(
        self,
        repo: HomeRepository,
        catalog: CatalogRepository,
        sales: SearchRepository,
        search: SearchService,
        tier_of: Callable[[str], str],
        clock: Clock,
        audit: Audit,
    ) -> None:
        self._repo = repo
        self._catalog = catalog
        self._sales = sales
        self._search = search
        self._tier_of = tier_of
        self._clock = clock
        self._audit = audit

    # -- shoppers -------------------------------------------------------------------------------------
    def home(self, user_id: Optional[str]) -> rules.Home:
        """One Query of the curated entries, one of the newest products (with their SKUs), the sales ranking, and
        the products of the live collections and the popular ones (BatchGetItems of at most 8 × 12 + 24): the
        same number of reads whatever the catalog's size."""
        return self.as_tier(self._tier_of(user_id) if user_id else None)

    def as_tier(self, tier: Optional[str]) -> rules.Home:
        """The home as a caller of `tier` sees it now (None: without a token; merchandisers preview fan and owner)."""
        now = iso(self._clock.now())
        entries = self._repo.entries()
        banners = rules.live([e for e in entries if e["kind"] == "banner"], now, True)
        collections = rules.live([e for e in entries if e["kind"] == "collection"], now, tier == "owner")
        collections = collections[: rules.HOME_COLLECTIONS]
        newest, _ = self._catalog.page("active", None, rules.HOME_ITEMS, None)
        popular = self._sales.popular_top()
        wanted = list(dict.fromkeys([p for c in collections for p in c["product_ids"][: rules.HOME_ITEMS]] + popular))
        products = {p["product_id"]: p for p in self._catalog.get_products(wanted) if indexed(p)}

        def listed(items: list[dict[str, Any]]) -> list[Any]:
            return [self._search.view(p, tier) for p in items if indexed(p)][: rules.HOME_ITEMS]

        return rules.Home(
            banners=[
                rules.HomeBanner.model_validate({k: b[k] for k in rules.HomeBanner.model_fields}) for b in banners
            ],
            collections=[
                rules.HomeCollection(
                    collection_id=c["collection_id"],
                    title=c["title"],
                    title_zh=c["title_zh"],
                    items=listed([products[p] for p in c["product_ids"][: rules.HOME_ITEMS] if p in products]),
                )
                for c in collections
            ],
            new_arrivals=listed(newest),
            popular=listed([products[p] for p in popular if p in products]),
        )

    # -- merchandisers ------------------------------------------------------------------------------------
    def entries(self, kind: str) -> list[Any]:
        found = [e for e in self._repo.entries() if e["kind"] == kind]
        return [_view(kind, e) for e in sorted(found, key=lambda e: (e["position"], e[f"{kind}_id"]))]

    def create(self, actor: str, kind: str, body: Any) -> Any:
        entry_id = getattr(body, f"{kind}_id")
        entry = self._checked(kind, _stored(body, kind))
        now = iso(self._clock.now())
        entry.update({f"{kind}_id": entry_id, "created_at": now, "updated_at": now})
        self._repo.create(
            kind, entry, _KIND[kind][1], self._audited(actor, f"{kind}.create", entry_id, None, entry, now)
        )
        return _view(kind, entry)

    def update(self, actor: str, kind: str, entry_id: str, body: Any) -> Any:
        before = self._repo.get(kind, entry_id)
        now = iso(self._clock.now())
        after = {**self._checked(kind, _stored(body, kind)), f"{kind}_id": entry_id}
        after.update(created_at=before["created_at"], updated_at=now)
        shown = {k: v for k, v in before.items() if k not in ("pk", "sk", "kind", "version")}
        self._repo.replace(
            kind, after, before["version"], self._audited(actor, f"{kind}.update", entry_id, shown, after, now)
        )
        return _view(kind, after)

    def delete(self, actor: str, kind: str, entry_id: str) -> Any:
        before = self._repo.get(kind, entry_id)
        now = iso(self._clock.now())
        shown = {k: v for k, v in before.items() if k not in ("pk", "sk", "kind", "version")}
        self._repo.delete(kind, entry_id, self._audited(actor, f"{kind}.delete", entry_id, shown, None, now))
        return _view(kind, before)

    def _checked(self, kind: str, entry: dict[str, Any]) -> dict[str, Any]:
        """A collection names products that exist (archived ones are kept, and skipped on the home)."""
        if kind == "collection":
            found = self._catalog.existing(entry["product_ids"])
            unknown = [p for p in entry["product_ids"] if p not in found]
            if unknown:
                raise InvalidRequest(
                    f"no such product: {', '.join(unknown[:5])}",
                    {"fields": {"product_ids": f"unknown: {unknown[:20]}"}},
                )
        return entry

    def _audited(self, actor: str, action: str, entity: str, before: Any, after: Any, now: str) -> Any:
        return lambda tx: self._audit(tx, actor, action, entity, before, after, now)
