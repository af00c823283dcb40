"""Every route's models: a class, or a "module:Name" reference imported when first needed, which must name a
pydantic model (a typo would otherwise surface only at the first request that needs it)."""

from __future__ import annotations

from pydantic import BaseModel

import app  # noqa: F401  (importing it registers every route)
from chalicelib.api.routing import ROUTES


def test_every_model_a_route_names_is_a_pydantic_model():
    named = [(spec.method, spec.path, getattr(spec, part)) for spec in ROUTES for part in ("body", "query", "response")]
    assert [(m, p, model) for m, p, model in named if model is not None and not issubclass(model, BaseModel)] == []


def test_the_routes_off_the_order_path_name_their_models_lazily():
    lazy = {spec.path for spec in ROUTES if isinstance(spec.response_ref or spec.body_ref, str)}
    assert {"/admin/policy", "/envelopes", "/admin/points/report", "/admin/audit"} <= lazy
