"""The trace backend of the test profile (Jaeger, as `make run` has it) and how to query it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from infra.local import jaeger_process, start_jaeger
from infra.processes import InfraError
from infra.profiles import PROFILES

PROFILE = PROFILES["test"]


@dataclass(frozen=True)
class TraceBackend:
    otlp_endpoint: str
    url: str

    async def traces(self, service: str, tags: dict[str, str]) -> list[dict[str, Any]]:
        """Jaeger's own query API: the traces with a span of `service` carrying `tags`."""
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            response = await client.get(
                "/api/traces",
                params={
                    "service": service,
                    "tags": json.dumps(tags),
                    "lookback": "1h",
                    "limit": "2000",  # a replaying service makes thousands of traces a minute
                },
            )
        if response.status_code == 404:  # Jaeger has no span of this service yet
            return []
        response.raise_for_status()
        data: list[dict[str, Any]] = response.json()["data"] or []
        return data

    async def wait_for_trace_id(
        self, trace_id: str, complete: Callable[[dict[str, Any]], bool], timeout_s: float = 120
    ) -> dict[str, Any]:
        """Polls Jaeger for one trace by its id until it is `complete`."""
        deadline = time.monotonic() + timeout_s
        found: list[dict[str, Any]] = []
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                response = await client.get(f"/api/traces/{trace_id}")
                found = response.json().get("data") or [] if response.status_code == 200 else []
                if found and complete(found[0]):
                    return dict(found[0])
                await asyncio.sleep(0.3)
        seen = sorted(
            {(t["processes"][s["processID"]]["serviceName"], s["operationName"])
             for t in found for s in t["spans"]}
        )  # fmt: skip
        raise AssertionError(f"trace {trace_id} incomplete after {timeout_s}s; it has {seen}")

    async def wait_for_trace(
        self,
        service: str,
        tags: dict[str, str],
        complete: Callable[[dict[str, Any]], bool],
        timeout_s: float = 60.0,
    ) -> dict[str, Any]:
        """Polls until a matching trace is `complete` (spans arrive in batches)."""
        deadline = time.monotonic() + timeout_s
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            seen = await self.traces(service, tags)
            for found in seen:
                if complete(found):
                    return found
            await asyncio.sleep(0.3)
        summary = [sorted({s["operationName"] for s in t["spans"]}) for t in seen]
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as api:
            known = (await api.get("/api/services")).json().get("data")
        raise AssertionError(
            f"no complete trace for {service} {tags}; saw {summary}; Jaeger knows {known}"
        )


@pytest.fixture(scope="session")
def trace_backend() -> Iterator[TraceBackend]:
    """Jaeger of the test profile, started (built by `make setup`) unless it already runs."""
    already_running = jaeger_process(PROFILE).pid() is not None
    try:
        start_jaeger(PROFILE)
    except InfraError as exc:
        pytest.fail(f"no trace backend for this test: {exc}", pytrace=False)
    yield TraceBackend(PROFILE.otlp_endpoint, PROFILE.traces_url)
    if not already_running:
        jaeger_process(PROFILE).stop()
