"""Validating event payloads against the contract's schema files (contracts/schemas).

The schema files, not the Python models, are the authority: a partner's producer and ours are
judged alike. Generating and checking those files is `contracts.tooling`'s job.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jsonschema_rs

from shared.events import spec_for_type

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, FormatChecker, ValidationError


class ContractViolation(Exception):
    """A payload does not satisfy the schema of its event type."""

    def __init__(self, ce_type: str, errors: Iterable[str]) -> None:
        self.ce_type = ce_type
        self.errors = tuple(errors)
        super().__init__(f"{ce_type}: {'; '.join(self.errors)}")


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


@functools.cache
def format_checker() -> FormatChecker:
    """jsonschema's checker with the contracts' three formats: its own date-time and uri
    checks need optional packages; these cover what the contracts use with the standard
    library alone."""
    # jsonschema is imported only once a payload fails the compiled validator (or a tool
    # asks): every consuming process would otherwise hold it, about 3 MiB, for refusals.
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    # Registered by call: the decorator form is untyped for mypy.
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    checker.checks("date", raises=ValueError)(_is_date)
    checker.checks("uri", raises=ValueError)(_is_uri)
    return checker


def _passes(check: Callable[[object], bool]) -> Callable[[str], bool]:
    def passes(value: str) -> bool:
        try:
            return check(value)
        except ValueError:
            return False

    return passes


# The same three format checks, for the compiled validator.
_FORMATS = {"date-time": _passes(_is_date_time), "date": _passes(_is_date), "uri": _passes(_is_uri)}


@functools.cache
def _schema(ce_type: str) -> dict[str, Any]:
    try:
        spec = spec_for_type(ce_type)
    except KeyError as exc:
        raise ContractViolation(ce_type, [str(exc.args[0])]) from None
    schema: dict[str, Any] = json.loads(spec.schema_path.read_text(encoding="utf-8"))
    return schema


@functools.cache
def _validator(ce_type: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_schema(ce_type), format_checker=format_checker())


@functools.cache
def _compiled(ce_type: str) -> jsonschema_rs.Validator:
    """The schema compiled (jsonschema-rs): about a hundredth of the interpreting validator's
    time per payload, which every consumed event pays."""
    return jsonschema_rs.Draft202012Validator(
        _schema(ce_type), formats=_FORMATS, validate_formats=True
    )


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
    `ce_type`. Each error names the field (`$.eqf_level`) and why.

    The compiled validator answers for a valid payload; `jsonschema` still has the last word
    on any other (and words its errors): where the two read a pattern differently, a payload
    is refused only if `jsonschema` refuses it, as before."""
    if _compiled(ce_type).is_valid(payload):
        return
    errors = sorted(
        _validator(ce_type).iter_errors(payload), key=lambda e: [str(p) for p in e.absolute_path]
    )
    if errors:
        raise ContractViolation(ce_type, [_describe(error) for error in errors])
