"""Loads catalog/*.yaml with the API's own models and seeds it idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from chalicelib.api.errors import field_errors
from chalicelib.domain.catalog import CATEGORIES, ProductInput
from chalicelib.domain.errors import AlreadyExists

CATALOG_DIR = Path(__file__).resolve().parent.parent / "catalog"
SEED_ACTOR = "catalog-seed"


class CatalogFileError(ValueError):
    """A catalog file is wrong: the message names the file, the product and the field."""


def load(directory: Path = CATALOG_DIR) -> list[ProductInput]:
    products: list[ProductInput] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        category = doc.get("category")
        if category not in CATEGORIES or path.stem != category:
            raise CatalogFileError(f"{path.name}: category must be one of {sorted(CATEGORIES)} and match the file name")
        for index, raw in enumerate(doc.get("products") or []):
            where = f"{path.name}: products[{index}] ({raw.get('product_id', '?')})"
            try:
                product = ProductInput.model_validate({"category": category, **raw})
            except ValidationError as exc:
                problems = "; ".join(f"{k}: {v}" for k, v in field_errors(exc).items())
                raise CatalogFileError(f"{where}: {problems}") from None
            if not product.product_id:
                raise CatalogFileError(f"{where}: product_id is required in catalog files")
            for key in [product.product_id] + [s.sku for s in product.skus]:
                if key in seen:
                    raise CatalogFileError(f"{where}: {key!r} is already used in {seen[key]}")
                seen[key] = path.name
            products.append(product)
    return products


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def seed(catalog_service: Any, products: list[ProductInput]) -> SeedReport:
    """Creates missing products; an existing one is kept as it is (merchandisers may have edited it)."""
    report = SeedReport()
    for product in products:
        try:
            catalog_service.create(SEED_ACTOR, product)
            report.created.append(product.product_id)
        except AlreadyExists as exc:
            if "product_id" not in exc.details:
                raise CatalogFileError(f"{product.product_id}: {exc.message}") from None
            report.kept.append(product.product_id)
    return report
