"""The AsyncAPI document lists every event, topic, key, header and party; the README and
the signing rule agree with it."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema import Draft202012Validator

from contracts.tooling.asyncapi import render_asyncapi
from contracts.tooling.files import ASYNCAPI_PATH
from contracts.tooling.routes import PARTIES, PARTNER_SYSTEMS, routes
from shared.contracts import format_checker
from shared.envelope import CloudEvent
from shared.events import EVENT_SPECS, TOPIC_KEY_FIELD, TOPICS, EventSpec
from shared.events.spec import CONTRACTS_DIR
from tests.contracts.examples import example_event

SPEC_IDS = [spec.ce_type for spec in EVENT_SPECS]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ASYNCAPI_PATH.read_text(encoding="utf-8"))
    return loaded


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _message_of(document: dict[str, Any], spec: EventSpec[Any]) -> tuple[str, dict[str, Any]]:
    matches = [
        (message_id, message)
        for message_id, message in document["components"]["messages"].items()
        if message["name"] == spec.ce_type
    ]
    assert len(matches) == 1, f"{spec.ce_type} has {len(matches)} messages"
    return matches[0]


def test_committed_document_is_generated() -> None:
    assert ASYNCAPI_PATH.read_text(encoding="utf-8") == render_asyncapi(), (
        "contracts/asyncapi.yaml drifted: run `python -m contracts.tooling export`"
    )


def test_document_header_and_server(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["servers"]["local"] == {
        "host": "127.0.0.1:9092",
        "protocol": "kafka",
        "description": "Local development broker.",
    }


def test_every_topic_is_a_channel(document: dict[str, Any]) -> None:
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == set(TOPICS)


def test_every_local_ref_resolves(document: dict[str, Any]) -> None:
    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if "$ref" in node else []
            return found + [ref for value in node.values() for ref in refs(value)]
        if isinstance(node, list):
            return [ref for item in node for ref in refs(item)]
        return []

    for ref in refs(document):
        if ref.startswith("#/"):
            _resolve(document, ref)
        else:
            assert (CONTRACTS_DIR / ref).is_file(), ref


@pytest.mark.parametrize("spec", EVENT_SPECS, ids=SPEC_IDS)
def test_every_event_has_a_message_on_its_topic(
    document: dict[str, Any], spec: EventSpec[Any]
) -> None:
    message_id, message = _message_of(document, spec)
    assert message["payload"]["schema"] == {"$ref": f"./schemas/{spec.schema_path.name}"}
    assert message["headers"]["allOf"][1]["properties"]["ce_type"] == {"const": spec.ce_type}
    channel = next(c for c in document["channels"].values() if c["address"] == spec.topic)
    assert channel["messages"][message_id] == {"$ref": f"#/components/messages/{message_id}"}

    key = message["bindings"]["kafka"]["key"]
    example = example_event(spec.name)
    assert TOPIC_KEY_FIELD[spec.topic] in key["description"]
    Draft202012Validator(key).validate(spec.key(example))


@pytest.mark.parametrize("spec", EVENT_SPECS, ids=SPEC_IDS)
def test_every_event_has_senders_and_receivers(
    document: dict[str, Any], spec: EventSpec[Any]
) -> None:
    message_id, _ = _message_of(document, spec)
    parties: dict[str, set[str]] = {"send": set(), "receive": set()}
    for operation in document["operations"].values():
        channel = _resolve(document, operation["channel"]["$ref"])
        messages = [_resolve(document, m["$ref"]) for m in operation["messages"]]
        if {"$ref": f"#/components/messages/{message_id}"} in messages:
            assert channel["address"] == spec.topic
            parties[operation["action"]].add(operation["tags"][0]["name"])
    senders, receivers = routes()[spec.name]
    assert parties == {"send": set(senders), "receive": set(receivers)}
    assert parties["send"]
    assert parties["receive"]
    assert parties["send"] | parties["receive"] <= set(PARTIES)


def test_partner_systems_may_emit_offerings_results_and_pathway_definitions_only() -> None:
    table = routes()
    emitted = {name for name, (senders, _) in table.items() if PARTNER_SYSTEMS in senders}
    assert emitted == {
        "offering.published",
        "offering.updated",
        "offering.withdrawn",
        "assessment.result_submitted",
        "pathway.defined",
    }
    assert set(table) == {spec.name for spec in EVENT_SPECS}


def _unsigned_headers(spec: EventSpec[Any]) -> dict[str, str]:
    return {
        "ce_id": "0b7d3c5e-2f5a-4d8e-9a51-6c1f0e2b7a90",
        "ce_source": "/partners/uni-b/enrolment",
        "ce_type": spec.ce_type,
        "ce_specversion": "1.0",
        "ce_time": "2025-03-03T09:30:00Z",
        "ce_subject": spec.subject(example_event(spec.name)),
        "ce_dataschema": spec.schema_id,
        "content-type": "application/json",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "ce_signingkey": "uni-b#2025-01",
    }


@pytest.mark.parametrize("spec", EVENT_SPECS, ids=SPEC_IDS)
def test_signed_headers_satisfy_the_header_schema(
    document: dict[str, Any], spec: EventSpec[Any]
) -> None:
    value = example_event(spec.name).model_dump_json().encode()
    headers = _unsigned_headers(spec)
    key = Ed25519PrivateKey.generate()
    # What a consumer verifies the signature over, from the headers as sent.
    message = CloudEvent.from_kafka(
        headers, spec.key(example_event(spec.name)), value
    ).signing_input()
    signature = key.sign(message)
    headers["ce_signature"] = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    key.public_key().verify(signature, message)

    _, asyncapi_message = _message_of(document, spec)
    schema = {"components": document["components"], **asyncapi_message["headers"]}
    Draft202012Validator(schema, format_checker=format_checker()).validate(headers)

    wrong_type = headers | {"ce_type": "eu.alliance.something.else.v1"}
    assert not Draft202012Validator(schema).is_valid(wrong_type)


def test_signing_input_is_the_documented_lines() -> None:
    value = b'{"learner_id":"lrn-7f3a9c2e-4b1d"}'
    event = CloudEvent(
        id="id-1",
        source="/partners/uni-a/catalogue",
        type="eu.alliance.offering.published.v1",
        subject="off-nordhavn-x-2025",
        time="2025-03-03T09:30:00Z",
        data=value,
        key="off-nordhavn-x-2025",
    )
    assert (
        event.signing_input()
        == (
            "id-1\n/partners/uni-a/catalogue\neu.alliance.offering.published.v1\n"
            f"off-nordhavn-x-2025\n2025-03-03T09:30:00Z\n{hashlib.sha256(value).hexdigest()}"
        ).encode()
    )


def test_readme_names_every_type_topic_and_dead_letter_header() -> None:
    readme = (CONTRACTS_DIR / "README.md").read_text(encoding="utf-8")
    names = [spec.ce_type for spec in EVENT_SPECS] + list(TOPICS)
    names += ["dlq_reason", "dlq_detail", "dlq_source_topic", "dlq_source_partition"]
    names += ["dlq_source_offset", "dlq_consumer", "<service>.dead-letter"]
    assert [name for name in names if f"`{name}`" not in readme] == []
