"""The committed schema files are exactly what the models generate, and are sound."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from contracts.tooling.files import SCHEMAS_DIR
from contracts.tooling.schemas import SCHEMA_DIALECT, render_schema
from shared.events import (
    EVENT_SPECS,
    TOPIC_KEY_FIELD,
    TOPICS,
    EventSpec,
    OfferingPublished,
    OfferingSnapshot,
    spec_for_model,
    spec_for_type,
)

SPEC_IDS = [spec.ce_type for spec in EVENT_SPECS]


def _committed(spec: EventSpec[Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(spec.schema_path.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("spec", EVENT_SPECS, ids=SPEC_IDS)
def test_committed_schema_is_what_the_model_generates(spec: EventSpec[Any]) -> None:
    assert spec.schema_path.read_text(encoding="utf-8") == render_schema(spec), (
        f"{spec.schema_path.name} drifted from {spec.model.__name__}: "
        "run `python -m contracts.tooling export` (and version the event if it was published)"
    )


def test_every_schema_file_belongs_to_a_spec() -> None:
    expected = {spec.schema_path.name for spec in EVENT_SPECS}
    assert {path.name for path in SCHEMAS_DIR.glob("*.json")} == expected


@pytest.mark.parametrize("spec", EVENT_SPECS, ids=SPEC_IDS)
def test_schema_is_a_closed_draft_2020_12_schema(spec: EventSpec[Any]) -> None:
    schema = _committed(spec)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == SCHEMA_DIALECT
    assert schema["$id"] == spec.schema_id
    assert schema["title"] == spec.model.__name__
    assert spec.ce_type in schema["description"]
    assert schema["additionalProperties"] is False
    closed = [
        d.get("additionalProperties")
        for d in schema.get("$defs", {}).values()
        if d.get("type") == "object"
    ]
    assert all(value is False for value in closed)


@pytest.mark.parametrize("spec", EVENT_SPECS, ids=SPEC_IDS)
def test_key_field_is_required_and_no_personal_data_fields(spec: EventSpec[Any]) -> None:
    schema = _committed(spec)
    assert TOPIC_KEY_FIELD[spec.topic] in schema["required"]
    forbidden = {"name", "email", "first_name", "last_name", "birth_date", "student_number"}
    assert not forbidden & set(schema["properties"])


def test_offering_snapshot_carries_every_mandatory_eu_element() -> None:
    required = set(_committed(spec_for_model(OfferingPublished))["required"])
    mandatory = {
        "title",
        "countries",
        "awarding_bodies",
        "learning_outcomes",
        "workload",
        "eqf_level",
        "assessment_types",
        "participation_mode",
        "quality_assurance",
    }
    assert mandatory <= required
    optional = {
        "prerequisites",
        "supervision_and_identity_verification",
        "stackability",
        "further_information_url",
    }
    assert optional <= set(OfferingSnapshot.model_fields) - required


def test_specs_are_unique_and_topics_listed() -> None:
    assert len({spec.ce_type for spec in EVENT_SPECS}) == len(EVENT_SPECS)
    assert len({spec.model for spec in EVENT_SPECS}) == len(EVENT_SPECS)
    assert set(TOPICS) == {spec.topic for spec in EVENT_SPECS} == set(TOPIC_KEY_FIELD)
    assert all(spec.version >= 1 for spec in EVENT_SPECS)


def test_spec_lookup() -> None:
    spec = spec_for_type("eu.alliance.offering.published.v1")
    assert spec.model is OfferingPublished
    assert spec_for_model(OfferingPublished) is spec
    with pytest.raises(
        KeyError, match=r"unknown event type 'eu\.alliance\.offering\.published\.v9'"
    ):
        spec_for_type("eu.alliance.offering.published.v9")
    with pytest.raises(KeyError, match="OfferingSnapshot is not an event payload model"):
        spec_for_model(OfferingSnapshot)
