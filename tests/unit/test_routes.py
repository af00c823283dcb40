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


def test_an_answer_is_written_as_model_dump_json_writes_it():
    """The route writes a model's answer from its serializer: the same text, in each view, for a model whose schema
    is built by this first use and for a quote whose lines hide their designer from shoppers."""
    from chalicelib.api.routing import _MERCHANDISER, _SHOPPER, _json_text
    from chalicelib.domain.base import Model
    from chalicelib.domain.checkout import PricedLine, split

    class Fresh(Model):
        name: str
        tags: list[str] = []

    quote = split([PricedLine("S-1", "p-1", "Lamp 灯", "home", 2, 999, True, True, False, "designer-1")], 0, 0)
    fresh = Fresh.model_construct(name="a\u202eb", tags=["x"])  # its schema is not built yet
    assert not Fresh.__pydantic_complete__
    assert _json_text(fresh, _SHOPPER) == '{"name":"a\u202eb","tags":["x"]}'
    for model in (fresh, quote):
        for view in (_SHOPPER, _MERCHANDISER):
            assert _json_text(model, view) == model.model_dump_json(context=view)
    assert '"designer_id":null' in _json_text(quote, _SHOPPER)
    assert '"designer_id":"designer-1"' in _json_text(quote, _MERCHANDISER)
