"""Writes docs/events/*.schema.json from the event models (`make schemas`); a test keeps them in sync."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from chalicelib.domain.events import SCHEMA_VERSION, OrderEvent

DOCS = Path(__file__).resolve().parent.parent / "docs" / "events"


def schemas() -> dict[str, str]:
    schema = OrderEvent.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://lifeshop.example/schemas/order-event.v{SCHEMA_VERSION}.json"
    return {
        f"order-event.v{SCHEMA_VERSION}.schema.json": json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True)
        + "\n"
    }


def main() -> int:
    DOCS.mkdir(parents=True, exist_ok=True)
    for name, text in schemas().items():
        (DOCS / name).write_text(text, encoding="utf-8")
        print(f"wrote docs/events/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
