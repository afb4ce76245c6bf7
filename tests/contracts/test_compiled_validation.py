"""The compiled validator that answers for valid payloads never accepts a payload the
`jsonschema` validator (the authority, which words the errors) refuses."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from shared.contracts import _compiled, _validator
from shared.events import EVENT_SPECS, EventSpec
from tests.contracts.examples import example_event, stacked_credential_issued

# Values that the two implementations could read differently: Unicode digits and a trailing
# newline against patterns, dates and URIs near the format rules, control characters, types.
TRICKY: tuple[object, ...] = (
    "",
    "x" * 5000,
    "\u0663\u0663\u0663\u0663-\u0660\u0661-\u0660\u0661",  # Arabic-Indic digits
    "abc\n",
    "ABC",
    "a b",
    "\u0000",
    "2026-02-30",
    "2026-13-01",
    "2026-01-01T25:00:00Z",
    "2026-01-01t10:00:00z",
    "2026-01-01T10:00:00",
    "2026-01-01 10:00:00Z",
    "2026-01-01",
    "not a uri",
    "https://example.org/a b",
    "1http://x",
    "urn:x",
    "é",
    0,
    -1,
    1.5,
    True,
    None,
    [],
    {},
)


def _paths(node: object, path: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _changed(payload: Any, path: tuple[object, ...], value: object) -> Any:
    """`payload` with the value at `path` replaced, or removed when `value` is _GONE."""
    changed = copy.deepcopy(payload)
    node = changed
    for part in path[:-1]:
        node = node[part]
    if value is _GONE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return changed


_GONE = object()


def _variants(payload: dict[str, Any]) -> Iterator[Any]:
    yield payload
    yield {**payload, "unexpected": 1}
    for path in _paths(payload):
        if not path:
            continue
        if isinstance(path[-1], str):
            yield _changed(payload, path, _GONE)
        for value in TRICKY:
            yield _changed(payload, path, value)


@pytest.mark.parametrize("spec", EVENT_SPECS, ids=[spec.ce_type for spec in EVENT_SPECS])
def test_the_compiled_validator_accepts_nothing_jsonschema_refuses(spec: EventSpec[Any]) -> None:
    examples = [example_event(spec.name).model_dump(mode="json")]
    if spec.name == "credential.issued":
        examples.append(stacked_credential_issued().model_dump(mode="json"))
    checked = agreed = 0
    for example in examples:
        for payload in _variants(example):
            accepted = _compiled(spec.ce_type).is_valid(payload)
            refused = next(_validator(spec.ce_type).iter_errors(payload), None) is not None
            assert not (accepted and refused), payload
            checked += 1
            agreed += accepted != refused
    # The fast path is only worth it if it mostly agrees (a refusal re-checks with jsonschema).
    assert agreed / checked > 0.95
