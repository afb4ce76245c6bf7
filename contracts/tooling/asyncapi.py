"""The AsyncAPI 3.0 document: topics, messages, headers, keys, and who sends and receives
what (contracts.tooling.routes)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from contracts.tooling.routes import PARTIES, routes
from contracts.tooling.schemas import json_schema
from shared.events import EVENT_SPECS, TOPIC_KEY_FIELD, TOPICS
from shared.events.spec import EventSpec


def _channel_id(topic: str) -> str:
    return topic.removeprefix("alliance.")


def _message_id(spec: EventSpec[Any]) -> str:
    head, *rest = re.split(r"[._]", spec.name)
    return head + "".join(word.capitalize() for word in rest) + f"V{spec.version}"


def _headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": (
            "CloudEvents 1.0 Kafka protocol binding, binary mode, plus W3C trace context "
            "and the alliance signature extension. Header values are UTF-8 strings; each "
            "of these headers appears once."
        ),
        "required": [
            "ce_id",
            "ce_source",
            "ce_type",
            "ce_specversion",
            "ce_time",
            "ce_subject",
            "ce_dataschema",
            "content-type",
            "ce_signingkey",
            "ce_signature",
        ],
        "properties": {
            "ce_id": {
                "type": "string",
                "pattern": "^[!-~]{1,64}$",
                "description": (
                    "Unique per source; consumers de-duplicate on (source, id). 1-64 visible "
                    "ASCII characters."
                ),
            },
            "ce_source": {
                "type": "string",
                "format": "uri-reference",
                "pattern": "^[!-~]{1,128}$",
                "description": (
                    "The sender as named in the alliance registry, "
                    "e.g. `urn:alliance:partner:nordhavn`."
                ),
            },
            "ce_type": {
                "type": "string",
                "pattern": r"^eu\.alliance\.[a-z_]+\.[a-z_]+\.v[0-9]+$",
                "description": "Event type and version, e.g. `eu.alliance.offering.published.v1`.",
            },
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_time": {
                "type": "string",
                "format": "date-time",
                "description": "When the event happened (RFC 3339).",
            },
            "ce_subject": {
                "type": "string",
                "pattern": "^[!-~]{1,128}$",
                "description": "Id of the entity the event is about (offering, enrolment, ...).",
            },
            "ce_dataschema": {
                "type": "string",
                "format": "uri",
                "description": "The `$id` of the payload's JSON Schema.",
            },
            "content-type": {"type": "string", "const": "application/json"},
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C trace context; alliance services always send it.",
            },
            "tracestate": {"type": "string", "description": "W3C trace context vendor data."},
            "ce_signingkey": {
                "type": "string",
                "minLength": 1,
                "description": "Id of the producer's Ed25519 key in the alliance registry.",
            },
            "ce_signature": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]{86}$",
                "description": (
                    "Unpadded base64url Ed25519 signature over the signing input (see "
                    "contracts/README.md): id, source, type, subject, time and the hex "
                    "SHA-256 of the value, joined with newlines."
                ),
            },
        },
    }


def _message(spec: EventSpec[Any]) -> dict[str, Any]:
    key_field = TOPIC_KEY_FIELD[spec.topic]
    key_schema = json_schema(spec)["properties"][key_field]
    return {
        "name": spec.ce_type,
        "title": spec.model.__name__,
        "summary": spec.summary,
        "contentType": "application/json",
        "headers": {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEventsHeaders"},
                {
                    "type": "object",
                    "properties": {
                        "ce_type": {"const": spec.ce_type},
                        "ce_dataschema": {"const": spec.schema_id},
                    },
                },
            ]
        },
        "payload": {
            "schemaFormat": "application/schema+json;version=draft-2020-12",
            "schema": {"$ref": f"./schemas/{spec.schema_path.name}"},
        },
        "bindings": {
            "kafka": {
                "bindingVersion": "0.5.0",
                "key": {
                    "type": "string",
                    "pattern": key_schema["pattern"],
                    "description": f"The payload's `{key_field}`, so its events stay in order.",
                },
            }
        },
    }


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document, derived from `EVENT_SPECS` and the routes."""
    channels: dict[str, Any] = {}
    for topic in TOPICS:
        specs = [spec for spec in EVENT_SPECS if spec.topic == topic]
        channels[_channel_id(topic)] = {
            "address": topic,
            "description": f"Keyed by `{TOPIC_KEY_FIELD[topic]}`.",
            "messages": {
                _message_id(spec): {"$ref": f"#/components/messages/{_message_id(spec)}"}
                for spec in specs
            },
            "bindings": {"kafka": {"bindingVersion": "0.5.0", "topic": topic}},
        }
    table = routes()
    operations: dict[str, Any] = {}
    for party in PARTIES:
        for action, side in (("send", 0), ("receive", 1)):
            for topic in TOPICS:
                specs = [
                    spec
                    for spec in EVENT_SPECS
                    if spec.topic == topic and party in table[spec.name][side]
                ]
                if not specs:
                    continue
                channel = _channel_id(topic)
                operations[f"{party}.{action}.{channel}"] = {
                    "action": action,
                    "title": f"{party} {action}s {channel} events",
                    "channel": {"$ref": f"#/channels/{channel}"},
                    "messages": [
                        {"$ref": f"#/channels/{channel}/messages/{_message_id(spec)}"}
                        for spec in specs
                    ],
                    "tags": [{"name": party}],
                }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Alliance micro-credential events",
            "version": "1.0.0",
            "description": (
                "Events exchanged by the alliance services and partner systems. Payload "
                "schemas are in ./schemas; envelope, signing and versioning rules in "
                "README.md."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "Local development broker.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {"CloudEventsHeaders": _headers_schema()},
            "messages": {_message_id(spec): _message(spec) for spec in EVENT_SPECS},
        },
    }


def render_asyncapi() -> str:
    body = yaml.safe_dump(asyncapi_document(), sort_keys=False, allow_unicode=True, width=100)
    return "# Generated by `python -m contracts.tooling export`; do not edit.\n" + body
