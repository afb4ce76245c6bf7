"""Bad payloads are rejected by `validate_payload` with a message naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from shared.contracts import ContractViolation, validate_payload
from tests.contracts.examples import example_event

OFFERING = "eu.alliance.offering.published.v1"
RESULT = "eu.alliance.assessment.result_recorded.v1"


def _payload(name: str) -> dict[str, Any]:
    return example_event(name).model_dump(mode="json")


def _violation(ce_type: str, payload: object) -> ContractViolation:
    with pytest.raises(ContractViolation) as caught:
        validate_payload(ce_type, payload)
    assert caught.value.ce_type == ce_type
    return caught.value


@pytest.mark.parametrize(
    "element",
    [
        "title",
        "awarding_bodies",
        "countries",
        "learning_outcomes",
        "workload",
        "eqf_level",
        "assessment_types",
        "participation_mode",
        "quality_assurance",
    ],
)
def test_missing_mandatory_eu_element(element: str) -> None:
    payload = _payload("offering.published")
    del payload[element]
    assert f"'{element}' is a required property" in str(_violation(OFFERING, payload))


def test_eqf_level_above_eight() -> None:
    payload = _payload("offering.published") | {"eqf_level": 9}
    assert "$.eqf_level: 9 is greater than the maximum of 8" in str(_violation(OFFERING, payload))


@pytest.mark.parametrize("learner_id", ["jane.doe@example.org", "lrn-AB", "Jane Doe", ""])
def test_bad_learner_id(learner_id: str) -> None:
    payload = _payload("assessment.result_recorded") | {"learner_id": learner_id}
    assert "$.learner_id: " in str(_violation(RESULT, payload))


def test_extra_field_such_as_personal_data() -> None:
    payload = _payload("assessment.result_recorded") | {"email": "jane@example.org"}
    assert "'email' was unexpected" in str(_violation(RESULT, payload))


def test_nested_errors_name_the_path() -> None:
    payload = _payload("offering.published")
    payload["workload"]["ects"] = 0
    payload["awarding_bodies"][0]["country"] = "Germany"
    payload["title"]["English"] = "Data Ethics"
    errors = _violation(OFFERING, payload).errors
    assert any(e.startswith("$.workload.ects: 0 is less than or equal") for e in errors)
    assert any(e.startswith("$.awarding_bodies[0].country: 'Germany'") for e in errors)
    assert any(e.startswith("$.title: 'English' does not match") for e in errors)


def test_value_outside_value_set() -> None:
    payload = _payload("offering.published") | {"participation_mode": "Online"}
    assert "$.participation_mode: 'Online' is not one of" in str(_violation(OFFERING, payload))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("recorded_at", "2025-03-03 09:30"),
        ("recorded_at", "2025-03-03T09:30:00"),  # no offset: ambiguous instant
        ("recorded_at", "2025-02-30T09:30:00Z"),
        ("assessed_on", "27/06/2025"),
        ("assessed_on", "2025-13-01"),
    ],
)
def test_dates_and_times_are_format_checked(field: str, value: str) -> None:
    payload = _payload("assessment.result_recorded") | {field: value}
    assert f"$.{field}: '{value}' is not a '" in str(_violation(RESULT, payload))


def test_superseding_result_id_must_be_a_result_id() -> None:
    payload = _payload("assessment.result_recorded") | {"supersedes_result_id": "enr-2025-1"}
    message = str(_violation(RESULT, payload))
    assert "$.supersedes_result_id: matches no allowed alternative" in message
    assert "'enr-2025-1' does not match '^res-" in message


def test_not_an_object() -> None:
    assert "is not of type 'object'" in str(_violation(RESULT, ["not", "an", "object"]))


def test_unknown_event_type() -> None:
    violation = _violation("eu.alliance.offering.deleted.v1", {})
    assert "unknown event type 'eu.alliance.offering.deleted.v1'" in str(violation)


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f"])
@pytest.mark.parametrize(
    ("ce_type", "name", "path"),
    [
        (OFFERING, "offering.published", ("title", "en")),
        (OFFERING, "offering.published", ("awarding_bodies", 0, "legal_name")),
        (
            "eu.alliance.assessment.result_submitted.v1",
            "assessment.result_submitted",
            ("grade", "value"),
        ),
    ],
)
def test_free_text_refuses_control_characters(
    control: str, ce_type: str, name: str, path: tuple[str | int, ...]
) -> None:
    """The schema itself says it, so a partner in any language learns it from the contract."""
    payload: Any = _payload(name)
    node = payload
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = f"1{control}2"
    errors = _violation(ce_type, payload).errors
    assert any("does not match" in e for e in errors), errors


def test_free_text_keeps_tabs_line_ends_and_any_script() -> None:
    payload = _payload("offering.published")
    payload["title"]["en"] = "Ethik\tder Daten\r\n數據 😀"
    validate_payload(OFFERING, payload)
