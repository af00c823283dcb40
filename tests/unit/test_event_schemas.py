"""docs/events holds exactly the schemas the event models generate."""

from __future__ import annotations

from tools.event_schemas import DOCS, schemas


def test_event_schemas_in_docs_match_the_models():
    for name, text in schemas().items():
        assert (DOCS / name).read_text(encoding="utf-8") == text, f"run `make schemas`: {name} is out of date"
