"""Schemathesis over a service's own OpenAPI document: what every fuzz test checks, and how.

Every answer to a generated request (valid and invalid) must be no 5xx and must be what
the document promises: a documented status, its content type, headers and body schema.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.auth import Role
from tests.support.identities import token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# A few examples per operation keeps each fuzz run to seconds; no shrinking, since a failure
# is reported with the request that caused it.
BOUNDED = settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
# The shared runtime's routes (health, AsyncAPI page, development token issuer), not these
# services' APIs; the AsyncAPI page answers HTML where its OpenAPI entry promises JSON.
NOT_FUZZED = r"^/(health|asyncapi|dev-idp)"

# The partner whose staff and systems call the services in the fuzz tests: it teaches,
# awards and holds a credential key, so its calls get past the role checks.
PARTNER = "lindeveld"
LEARNER = "fuzzer"  # the learner's token subject
CallerRole = Role | None  # None: no token at all


def caller(role: CallerRole) -> dict[str, str]:
    """The headers a caller in `role` sends: a development token, or none when anonymous."""
    if role is None:
        return {}
    if role == "learner":
        return token(LEARNER)
    return token(f"fuzzer-{role}", role, PARTNER)


# Every role, and no token: a route that needs another role must say so (401, 403).
CALLERS: list[CallerRole] = ["learner", "partner_staff", "partner_system", None]
CALLER_IDS = ["learner", "partner_staff", "partner_system", "anonymous"]


def keeps_its_promises(base_url: str, headers: dict[str, str], examples: int = 10) -> None:
    """Fuzzes every operation of the service at `base_url` with `examples` valid and
    `examples` invalid requests; fails listing every operation that broke a promise.

    Ten of each keep a service's run for one caller to a few seconds (2 cores)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json").exclude(
        path_regex=NOT_FUZZED
    )
    broken: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the service's own document is invalid
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _exchange(operation, mode, headers, examples)
            except Unsatisfiable:
                continue  # nothing in the operation's request to make invalid
            except (Failure, FailureGroup) as exc:  # reported with the other operations'
                broken.append(f"{operation.label} ({mode.value}):\n{exc}")
    assert not broken, "\n\n".join(broken)


def _exchange(
    operation: APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    headers: dict[str, str],
    examples: int,
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(parent=BOUNDED, max_examples=examples)
    def exchange(case: schemathesis.Case[Any]) -> None:
        if mode is GenerationMode.POSITIVE:
            _as_the_callers_partner(case)
        case.call_and_validate(headers=headers, checks=CHECKS)

    exchange()


def _as_the_callers_partner(case: schemathesis.Case[Any]) -> None:
    """Names the caller's partner where a valid request's path names a partner, so some
    requests get past the ownership checks. Bodies keep their generated partners: owned
    there, an offering or a pathway would be announced on the broker the other tests share."""
    if case.path_parameters and "partner_id" in case.path_parameters:
        case.path_parameters["partner_id"] = PARTNER
