"""Whether a new schema version still accepts every payload the old one did."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

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
