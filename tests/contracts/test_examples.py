"""Example events satisfy their schema files; spec callables pick the right fields."""

from __future__ import annotations

from typing import Any

import pytest

from shared.contracts import ContractViolation, validate_payload
from shared.events import EVENT_SPECS, TOPIC_KEY_FIELD, CredentialIssued, EventSpec
from tests.contracts.examples import example_event, stacked_credential_issued

SPEC_IDS = [spec.ce_type for spec in EVENT_SPECS]

# Which payload field is the CloudEvents subject and the acting partner, per event area.
SUBJECT_FIELD = {
    "offering": "offering_id",
    "enrolment": "enrolment_id",
    "assessment": "result_id",
    "credential": "credential_id",
    "pathway": "pathway_id",
    "recognition": "recognition_id",
}
ACTING_PARTNER_FIELD = {
    "offering": "partner_id",
    "enrolment": "partner_id",
    "assessment": "partner_id",
    "credential": "awarding_partner_id",
    "pathway": "owner_partner_id",
    "recognition": "recognising_partner_id",
}


@pytest.mark.parametrize("spec", EVENT_SPECS, ids=SPEC_IDS)
def test_example_validates_against_schema_file(spec: EventSpec[Any]) -> None:
    event = example_event(spec.name)
    assert isinstance(event, spec.model)
    validate_payload(spec.ce_type, event.model_dump(mode="json"))


@pytest.mark.parametrize("spec", EVENT_SPECS, ids=SPEC_IDS)
def test_example_round_trips_through_json(spec: EventSpec[Any]) -> None:
    event = example_event(spec.name)
    assert spec.model.model_validate_json(event.model_dump_json()) == event


@pytest.mark.parametrize("spec", EVENT_SPECS, ids=SPEC_IDS)
def test_spec_callables(spec: EventSpec[Any]) -> None:
    event = example_event(spec.name)
    area = spec.name.split(".")[0]
    assert spec.key(event) == getattr(event, TOPIC_KEY_FIELD[spec.topic])
    assert spec.subject(event) == getattr(event, SUBJECT_FIELD[area])
    assert spec.acting_partner(event) == getattr(event, ACTING_PARTNER_FIELD[area])


def test_stacked_credential_validates() -> None:
    validate_payload(
        "eu.alliance.credential.issued.v1", stacked_credential_issued().model_dump(mode="json")
    )


def test_credential_needs_exactly_one_basis_in_model_and_schema() -> None:
    both = stacked_credential_issued().model_dump(mode="json") | {
        "offering_id": "off-valdemora-data-ethics-2025"
    }
    with pytest.raises(ValueError, match="exactly one of offering_id and pathway_id"):
        CredentialIssued.model_validate(both)
    with pytest.raises(
        ContractViolation, match=r"\$\.offering_id: 'off-valdemora-data-ethics-2025'"
    ):
        validate_payload("eu.alliance.credential.issued.v1", both)


def test_events_are_frozen() -> None:
    event = example_event("enrolment.accepted")
    with pytest.raises(ValueError, match="frozen"):
        event.learner_id = "lrn-someone-else"  # type: ignore[attr-defined]
