"""Published schema versions are immutable, and the compatibility checker catches breaks."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from contracts.tooling.compatibility import breaking_changes
from contracts.tooling.files import SCHEMAS_DIR, digest, published_digests
from shared.events import EVENT_SPECS, EventSpec, OfferingPublished, spec_for_model

SPEC_IDS = [spec.ce_type for spec in EVENT_SPECS]


def test_published_schema_files_are_unchanged() -> None:
    published = published_digests()
    assert published, "contracts/published.json lists no schema"
    for name, expected in published.items():
        path = SCHEMAS_DIR / name
        assert path.exists(), f"published schema {name} was deleted"
        assert digest(path) == expected, (
            f"published schema {name} changed: published versions are immutable, "
            "add a new version of the event instead"
        )


def test_every_event_type_is_published() -> None:
    assert {spec.schema_path.name for spec in EVENT_SPECS} <= set(published_digests())


def _offering_schema() -> dict[str, Any]:
    path = spec_for_model(OfferingPublished).schema_path
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("spec", EVENT_SPECS, ids=SPEC_IDS)
def test_unchanged_schema_has_no_breaking_change(spec: EventSpec[Any]) -> None:
    schema = json.loads(spec.schema_path.read_text(encoding="utf-8"))
    assert breaking_changes(schema, copy.deepcopy(schema)) == []


def test_removed_property_is_breaking() -> None:
    old = _offering_schema()
    new = copy.deepcopy(old)
    del new["properties"]["eqf_level"]
    new["required"].remove("eqf_level")
    assert breaking_changes(old, new) == ["$.eqf_level: property removed"]


def test_required_property_missing_from_properties_is_breaking() -> None:
    old = _offering_schema()
    new = copy.deepcopy(old)
    del new["properties"]["title"]
    assert "$.title: property removed" in breaking_changes(old, new)


def test_newly_required_property_is_breaking() -> None:
    old = _offering_schema()
    new = copy.deepcopy(old)
    new["required"].append("description")
    assert breaking_changes(old, new) == ["$.description: newly required"]


def test_changed_type_is_breaking() -> None:
    old = _offering_schema()
    new = copy.deepcopy(old)
    new["properties"]["capacity"]["type"] = "string"
    assert "$.capacity: type changed from integer to string" in breaking_changes(old, new)


def test_nullable_made_mandatory_is_breaking() -> None:
    old = _offering_schema()
    new = copy.deepcopy(old)
    new["properties"]["stackability"] = {"$ref": "#/$defs/Stackability"}
    assert "$.stackability: type changed from null to string" in breaking_changes(old, new)


def test_narrowed_enum_is_breaking_through_refs() -> None:
    old = _offering_schema()
    new = copy.deepcopy(old)
    new["$defs"]["ParticipationMode"]["enum"].remove("blended")
    assert breaking_changes(old, new) == [
        "$.participation_mode: enum narrowed, ['blended'] no longer allowed"
    ]


def test_tightened_constraints_are_breaking() -> None:
    old = _offering_schema()
    new = copy.deepcopy(old)
    new["properties"]["eqf_level"]["maximum"] = 7
    new["$defs"]["AwardingBody"]["properties"]["country"]["pattern"] = "^[A-Z]{3}$"
    assert breaking_changes(old, new) == [
        "$.awarding_bodies[].country: pattern changed from '^[A-Z]{2}$' to '^[A-Z]{3}$'",
        "$.eqf_level: maximum lowered to 7",
    ]


def test_closing_an_open_object_is_breaking() -> None:
    old = {"type": "object", "properties": {"a": {"type": "string"}}}
    new = {**old, "additionalProperties": False}
    assert breaking_changes(old, new) == ["$: additionalProperties: false added"]


def test_compatible_changes_are_accepted() -> None:
    old = _offering_schema()
    new = copy.deepcopy(old)
    new["properties"]["teaching_hours"] = {"type": "integer"}
    new["$defs"]["ParticipationMode"]["enum"].append("hybrid_flexible")
    new["properties"]["capacity"]["minimum"] = 0
    new["properties"]["eqf_level"]["type"] = ["integer", "string"]
    assert breaking_changes(old, new) == []


def test_recursive_schema_terminates() -> None:
    schema = {
        "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
        "$ref": "#/$defs/Node",
    }
    assert breaking_changes(schema, copy.deepcopy(schema)) == []
