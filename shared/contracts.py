"""The language-neutral contracts in `contracts/`: generation, checking and validation.

    python -m shared.contracts export   # (re)write schemas/*.schema.json and asyncapi.yaml
    python -m shared.contracts publish  # record digests of schema files not yet published
    python -m shared.contracts check    # exit 1 if files drifted from the models or changed

The schema files, not the Python models, are the authority: `validate_payload` checks an
incoming payload against the file, so a partner's producer and ours are judged alike.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import CoreSchema

from shared.events import EVENT_SPECS, TOPIC_KEY_FIELD, TOPICS, spec_for_type
from shared.events.spec import CONTRACTS_DIR, EventSpec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS_DIR = CONTRACTS_DIR / "schemas"
ASYNCAPI_PATH = CONTRACTS_DIR / "asyncapi.yaml"
PUBLISHED_PATH = CONTRACTS_DIR / "published.json"

PARTNER_SYSTEMS = "partner-systems"
SERVICES = (
    "catalogue",
    "enrolment",
    "assessment",
    "issuance",
    "recognition",
    "gateway",
    PARTNER_SYSTEMS,
)

_OFFERING_ROUTE = (
    ("catalogue", PARTNER_SYSTEMS),
    ("catalogue", "enrolment", "assessment", "issuance", "recognition"),
)
_ENROLMENT_ROUTE = (("enrolment",), ("assessment", PARTNER_SYSTEMS))
_CREDENTIAL_ROUTE = (("issuance",), ("enrolment", "recognition", PARTNER_SYSTEMS))
_RECOGNITION_ROUTE = (("recognition",), (PARTNER_SYSTEMS,))
# Event name -> (who sends it, who receives it). Partner systems (a university's SIS or
# LMS) may publish offerings and submit results themselves; the catalogue also reads the
# offerings topic, so it holds what partners published directly. The gateway reads through
# the services' APIs and consumes no events.
ROUTES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "offering.published": _OFFERING_ROUTE,
    "offering.updated": _OFFERING_ROUTE,
    "offering.withdrawn": _OFFERING_ROUTE,
    "enrolment.requested": _ENROLMENT_ROUTE,
    "enrolment.accepted": _ENROLMENT_ROUTE,
    "enrolment.waitlisted": _ENROLMENT_ROUTE,
    "enrolment.rejected": _ENROLMENT_ROUTE,
    "enrolment.withdrawn": _ENROLMENT_ROUTE,
    "assessment.result_submitted": ((PARTNER_SYSTEMS,), ("assessment",)),
    "assessment.result_recorded": (("assessment",), ("issuance", PARTNER_SYSTEMS)),
    "credential.issued": _CREDENTIAL_ROUTE,
    "credential.revoked": _CREDENTIAL_ROUTE,
    "credential.suspended": _CREDENTIAL_ROUTE,
    "credential.reinstated": _CREDENTIAL_ROUTE,
    "pathway.progressed": (("recognition",), (PARTNER_SYSTEMS,)),
    "pathway.completed": (("recognition",), ("issuance", PARTNER_SYSTEMS)),
    # Partners define pathways from their own systems or through recognition's API, which
    # also reads the topic (as the catalogue does offerings).
    "pathway.defined": ((PARTNER_SYSTEMS, "recognition"), ("recognition",)),
    "pathway.completion_revoked": (("recognition",), ("issuance", PARTNER_SYSTEMS)),
    "recognition.requested": _RECOGNITION_ROUTE,
    "recognition.decided": _RECOGNITION_ROUTE,
    "recognition.withdrawn": _RECOGNITION_ROUTE,
}


# --- JSON Schema generation -------------------------------------------------------------


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


def _dump_json(document: object) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_schema(spec: EventSpec[Any]) -> str:
    """The exact text of the schema file: sorted keys, 2-space indent, trailing newline."""
    return _dump_json(json_schema(spec))


# --- AsyncAPI generation ----------------------------------------------------------------


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
    """The AsyncAPI 3.0 document, derived from `EVENT_SPECS` and `ROUTES`."""
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
    operations: dict[str, Any] = {}
    for service in SERVICES:
        for action, side in (("send", 0), ("receive", 1)):
            for topic in TOPICS:
                specs = [
                    spec
                    for spec in EVENT_SPECS
                    if spec.topic == topic and service in ROUTES[spec.name][side]
                ]
                if not specs:
                    continue
                channel = _channel_id(topic)
                operations[f"{service}.{action}.{channel}"] = {
                    "action": action,
                    "title": f"{service} {action}s {channel} events",
                    "channel": {"$ref": f"#/channels/{channel}"},
                    "messages": [
                        {"$ref": f"#/channels/{channel}/messages/{_message_id(spec)}"}
                        for spec in specs
                    ],
                    "tags": [{"name": service}],
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
    return "# Generated by `python -m shared.contracts export`; do not edit.\n" + body


# --- Files: export, publish, check ------------------------------------------------------


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def published_digests() -> dict[str, str]:
    """Schema file name -> sha256 of the bytes that were published."""
    if not PUBLISHED_PATH.exists():
        return {}
    loaded: dict[str, str] = json.loads(PUBLISHED_PATH.read_text(encoding="utf-8"))
    return loaded


def _generated_files() -> dict[Path, str]:
    files = {spec.schema_path: render_schema(spec) for spec in EVENT_SPECS}
    files[ASYNCAPI_PATH] = render_asyncapi()
    return files


def export() -> list[Path]:
    """Write every generated contract file; returns the files whose content changed."""
    SCHEMAS_DIR.mkdir(parents=True, exist_ok=True)
    changed = []
    for path, text in _generated_files().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def publish() -> list[str]:
    """Record the digest of every schema file not yet published; never alters an entry."""
    digests = published_digests()
    added = [spec.schema_path.name for spec in EVENT_SPECS if spec.schema_path.name not in digests]
    for name in added:
        digests[name] = digest(SCHEMAS_DIR / name)
    PUBLISHED_PATH.write_text(_dump_json(dict(sorted(digests.items()))), encoding="utf-8")
    return added


def check() -> list[str]:
    """Every way the contract files disagree with the models or with what was published."""
    problems = [
        f"{path.relative_to(CONTRACTS_DIR)} is out of date: run `python -m shared.contracts export`"
        for path, text in _generated_files().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    digests = published_digests()
    for name, expected in digests.items():
        path = SCHEMAS_DIR / name
        if not path.exists():
            problems.append(f"published schema {name} was deleted")
        elif digest(path) != expected:
            problems.append(
                f"published schema {name} changed; published versions are immutable, "
                "so add a new version of the event instead"
            )
    problems += [
        f"{spec.schema_path.name} is not published: run `python -m shared.contracts publish`"
        for spec in EVENT_SPECS
        if spec.schema_path.name not in digests
    ]
    return problems


# --- Validation -------------------------------------------------------------------------


class ContractViolation(Exception):
    """A payload does not satisfy the schema of its event type."""

    def __init__(self, ce_type: str, errors: Iterable[str]) -> None:
        self.ce_type = ce_type
        self.errors = tuple(errors)
        super().__init__(f"{ce_type}: {'; '.join(self.errors)}")


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# jsonschema's own date-time and uri checks need optional packages; these cover what the
# contracts use with the standard library alone.
FORMAT_CHECKER = FormatChecker(formats=())


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.match(value):
        return False
    dt.date.fromisoformat(value)
    return True


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme)) and not re.search(
        r"\s", value
    )


# Registered by call: the decorator form is untyped for mypy.
FORMAT_CHECKER.checks("date-time", raises=ValueError)(_is_date_time)
FORMAT_CHECKER.checks("date", raises=ValueError)(_is_date)
FORMAT_CHECKER.checks("uri", raises=ValueError)(_is_uri)


@functools.cache
def _validator(ce_type: str) -> Draft202012Validator:
    try:
        spec = spec_for_type(ce_type)
    except KeyError as exc:
        raise ContractViolation(ce_type, [str(exc.args[0])]) from None
    schema = json.loads(spec.schema_path.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


def _where(path: Iterable[object]) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _describe(error: ValidationError) -> str:
    if error.validator in ("anyOf", "oneOf") and error.context:
        # The default message repeats the whole instance; the branch errors say what is wrong.
        reasons = " or ".join(sorted({_describe(sub) for sub in error.context}))
        return f"{_where(error.absolute_path)}: matches no allowed alternative ({reasons})"
    return f"{_where(error.absolute_path)}: {error.message}"


def validate_payload(ce_type: str, payload: object) -> None:
    """Raise `ContractViolation` unless `payload` (parsed JSON) satisfies the schema file of
    `ce_type`. Each error names the field (`$.eqf_level`) and why."""
    errors = sorted(
        _validator(ce_type).iter_errors(payload), key=lambda e: [str(p) for p in e.absolute_path]
    )
    if errors:
        raise ContractViolation(ce_type, [_describe(error) for error in errors])


def signing_input(
    *, ce_id: str, source: str, ce_type: str, subject: str, time: str, value: bytes
) -> bytes:
    """The bytes the `ce_signature` header signs: header values exactly as sent, then the
    hex SHA-256 of the message value, one per line."""
    lines = (ce_id, source, ce_type, subject, time, hashlib.sha256(value).hexdigest())
    return "\n".join(lines).encode("utf-8")


# --- Compatibility ----------------------------------------------------------------------

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_CHANGED_IS_BREAKING = ("pattern", "format", "multipleOf")
_COMPOSITES = (
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
)


def breaking_changes(old_schema: Mapping[str, Any], new_schema: Mapping[str, Any]) -> list[str]:
    """Ways in which `new_schema` rejects payloads that `old_schema` accepted, so consumers
    using it could no longer read events already in the log. Structural and conservative: a
    change it cannot judge (a new `oneOf`, a changed pattern) is reported for review."""
    problems: list[str] = []
    _Comparison(old_schema, new_schema, problems).compare(old_schema, new_schema, "$", frozenset())
    return problems


class _Comparison:
    def __init__(
        self, old_root: Mapping[str, Any], new_root: Mapping[str, Any], problems: list[str]
    ) -> None:
        self.roots = (old_root, new_root)
        self.problems = problems

    @staticmethod
    def _resolve(node: Any, root: Mapping[str, Any]) -> tuple[Any, str | None]:
        """Follow a local `$ref`; siblings of the `$ref` (descriptions) are kept."""
        if not isinstance(node, dict) or "$ref" not in node:
            return node, None
        ref = node["$ref"]
        target: Any = root
        for part in ref.removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return {**target, **siblings}, ref

    def compare(self, old: Any, new: Any, path: str, expanding: frozenset[object]) -> None:
        old, old_ref = self._resolve(old, self.roots[0])
        new, new_ref = self._resolve(new, self.roots[1])
        if (old_ref, new_ref) in expanding:  # a recursive schema: this pair is being compared
            return
        if old_ref or new_ref:
            expanding = expanding | {(old_ref, new_ref)}
        if old is False or new is True or new == {}:
            return
        if new is False:
            self.problems.append(f"{path}: nothing is accepted any more")
            return
        old = {} if old is True else old
        old_branches, new_branches = _branches(old), _branches(new)
        if old_branches is None and new_branches is None:
            self._compare_node(old, new, path, expanding)
            return
        for branch in old_branches or [old]:
            attempts: list[list[str]] = []
            for candidate in new_branches or [new]:
                found: list[str] = []
                _Comparison(self.roots[0], self.roots[1], found).compare(
                    branch, candidate, path, expanding
                )
                if not found:
                    break
                attempts.append(found)
            else:
                closest = min(attempts, key=len)
                self.problems.extend(closest)

    def _compare_node(
        self, old: dict[str, Any], new: dict[str, Any], path: str, expanding: frozenset[object]
    ) -> None:
        report = self.problems.append
        old_types, new_types = _types(old), _types(new)
        if new_types is not None:
            if "number" in new_types:
                new_types = new_types | {"integer"}
            if old_types is None:
                report(f"{path}: type restricted to {_names(new_types)}")
            elif not old_types <= new_types:
                report(f"{path}: type changed from {_names(old_types)} to {_names(new_types)}")
        if "enum" in new:
            removed = [value for value in old.get("enum", ()) if value not in new["enum"]]
            if "enum" not in old:
                report(f"{path}: values restricted to {new['enum']}")
            elif removed:
                report(f"{path}: enum narrowed, {removed} no longer allowed")
        if "const" in new and old.get("const", object()) != new["const"]:
            report(f"{path}: value fixed to {new['const']!r}")
        for key in _CHANGED_IS_BREAKING:
            if key in new and old.get(key) != new[key]:
                report(f"{path}: {key} changed from {old.get(key)!r} to {new[key]!r}")
        for key in _LOWER_BOUNDS:
            if key in new and (key not in old or new[key] > old[key]):
                report(f"{path}: {key} raised to {new[key]}")
        for key in _UPPER_BOUNDS:
            if key in new and (key not in old or new[key] < old[key]):
                report(f"{path}: {key} lowered to {new[key]}")
        if new.get("uniqueItems") and not old.get("uniqueItems"):
            report(f"{path}: items must now be unique")
        for key in _COMPOSITES:
            if key in new and old.get(key) != new[key]:
                report(f"{path}: `{key}` constraint added or changed (review by hand)")
        for name in sorted(set(new.get("required", ())) - set(old.get("required", ()))):
            report(f"{path}.{name}: newly required")
        self._compare_properties(old, new, path, expanding)
        self.compare(old.get("items", True), new.get("items", True), f"{path}[]", expanding)
        if "propertyNames" in new:
            self.compare(
                old.get("propertyNames", True), new["propertyNames"], f"{path}(keys)", expanding
            )

    def _compare_properties(
        self, old: dict[str, Any], new: dict[str, Any], path: str, expanding: frozenset[object]
    ) -> None:
        old_props: dict[str, Any] = old.get("properties", {})
        new_props: dict[str, Any] = new.get("properties", {})
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        for name, old_prop in old_props.items():
            if name in new_props:
                self.compare(old_prop, new_props[name], f"{path}.{name}", expanding)
            elif new_extra is False and not _matches_pattern(name, new):
                self.problems.append(f"{path}.{name}: property removed")
            else:
                self.compare(old_prop, new_extra, f"{path}.{name}", expanding)
        for pattern, old_prop in old.get("patternProperties", {}).items():
            if pattern in new.get("patternProperties", {}):
                self.compare(
                    old_prop, new["patternProperties"][pattern], f"{path}.<{pattern}>", expanding
                )
        if new_extra is False and old_extra is not False:
            self.problems.append(f"{path}: additionalProperties: false added")
        elif old_extra is not False:
            self.compare(old_extra, new_extra, f"{path}.*", expanding)


def _branches(node: Any) -> list[Any] | None:
    """The alternatives of a pure `anyOf`/`oneOf` node (as pydantic writes `X | None`)."""
    if not isinstance(node, dict) or {"type", "properties", "enum", "const"} & node.keys():
        return None
    for key in ("anyOf", "oneOf"):
        if key in node:
            branches: list[Any] = node[key]
            return branches
    return None


def _types(node: dict[str, Any]) -> set[str] | None:
    declared = node.get("type")
    if declared is None:
        return None
    return {declared} if isinstance(declared, str) else set(declared)


def _names(types: set[str]) -> str:
    return "/".join(sorted(types))


def _matches_pattern(name: str, node: dict[str, Any]) -> bool:
    return any(re.search(pattern, name) for pattern in node.get("patternProperties", {}))


def main(argv: list[str]) -> int:
    commands = ("export", "publish", "check")
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: python -m shared.contracts {{{'|'.join(commands)}}}", file=sys.stderr)
        return 2
    if argv[0] == "export":
        for path in export():
            print(f"wrote {path.relative_to(CONTRACTS_DIR.parent)}")
    elif argv[0] == "publish":
        for name in publish():
            print(f"published {name}")
    else:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
