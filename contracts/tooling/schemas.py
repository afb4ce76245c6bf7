"""Each event's JSON Schema, generated from its reference model."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import CoreSchema

from shared.events.spec import EventSpec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _SchemaGenerator(GenerateJsonSchema):
    # Titles like "Learner Id" repeat the property name and only add noise for partners.
    def field_title_should_be_set(self, schema: CoreSchema) -> bool:
        return False


def _tidy(node: Any) -> Any:
    """Join docstring line wraps in descriptions, so schema text reads as prose."""
    if isinstance(node, dict):
        return {
            key: re.sub(r"(?<!\n)\n(?!\n)", " ", value)
            if key == "description" and isinstance(value, str)
            else _tidy(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    return node


def json_schema(spec: EventSpec[Any]) -> dict[str, Any]:
    """The JSON Schema of one event type, as generated from its model."""
    generated = spec.model.model_json_schema(schema_generator=_SchemaGenerator, mode="validation")
    schema: dict[str, Any] = _tidy(generated)
    schema["$schema"] = SCHEMA_DIALECT
    schema["$id"] = spec.schema_id
    description = schema.get("description", spec.summary)
    schema["description"] = f"{description} CloudEvents type `{spec.ce_type}`."
    return schema


def dump_json(document: object) -> str:
    """Contract JSON as committed: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_schema(spec: EventSpec[Any]) -> str:
    """The exact text of the schema file."""
    return dump_json(json_schema(spec))
