"""A request starts no span when traces are not exported: FastAPI's own OpenTelemetry
support is off, and OpenTelemetry's instrumentation is applied only with an exporter."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult


class _CountingSampler(Sampler):
    """Records nothing, and counts the spans it was asked about."""

    def __init__(self) -> None:
        self.asked = 0

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        self.asked += 1
        return SamplingResult(Decision.DROP)

    def get_description(self) -> str:
        return "counting"


@pytest.mark.parametrize("path", ["/health/live", "/offerings"])
async def test_a_request_starts_no_span_without_an_exporter(
    gateway: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    sampler = _CountingSampler()
    # A tracer provider is set in every service (ids reach the logs); this one counts.
    provider = TracerProvider(sampler=sampler)
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    answer = await gateway.get(path)
    assert answer.status_code < 500, answer.text
    assert sampler.asked == 0
