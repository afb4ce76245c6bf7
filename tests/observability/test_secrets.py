"""No bearer secret reaches a span or a log line: after a learner shares a credential and
the link is opened, verified and withdrawn, neither Jaeger nor the gateway's log holds the
share token. Real processes, broker, PostgreSQL and trace backend."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.conftest import ServiceFactory
from tests.gateway.test_wallet_with_issuance import hold_a_credential
from tests.issuance.conftest import token as bearer
from tests.observability.conftest import TraceBackend
from tests.observability.test_traces import tracing
from tests.support.infra import Infrastructure


async def test_a_share_token_reaches_no_span_and_no_log_line(
    infra: Infrastructure, service_process: ServiceFactory, trace_backend: TraceBackend
) -> None:
    holder = await hold_a_credential(infra, service_process, **tracing(trace_backend))
    async with httpx.AsyncClient(base_url=holder.gateway.url, timeout=15) as wallet:
        made = await wallet.post(
            f"/me/credentials/{holder.credential_id}/share", headers=bearer(holder.subject)
        )
        assert made.status_code == 201, made.text
        secret = made.json()["token"]
        for path in (f"/shared/{secret}", f"/shared/{secret}/page", f"/verify/{secret}"):
            assert (await wallet.get(path)).status_code == 200, path
        withdrawn = await wallet.delete(f"/me/shares/{secret}", headers=bearer(holder.subject))
        assert withdrawn.status_code == 200
        assert (await wallet.get(f"/shared/{secret}")).status_code == 410

    def opened_and_withdrawn(found: dict[str, object]) -> bool:
        routes = {
            tag["value"]
            for span in found["spans"]  # type: ignore[attr-defined]
            for tag in span["tags"]
            if tag["key"] == "http.route"
        }
        return "/shared/{token}" in routes or "/me/shares/{token}" in routes

    await trace_backend.wait_for_trace(
        "gateway", {"http.route": "/shared/{token}"}, opened_and_withdrawn
    )
    await trace_backend.wait_for_trace(
        "gateway", {"http.route": "/me/shares/{token}"}, opened_and_withdrawn
    )
    exported = json.dumps(await trace_backend.traces("gateway", {}))
    targets = {
        t["value"]
        for t in _tags(
            await trace_backend.traces("gateway", {"http.route": "/shared/{token}"}), "http.target"
        )
    }
    assert targets, "the spans are there"
    assert "/shared/[secret]" in str(targets), targets
    assert secret not in exported
    assert secret not in holder.gateway.log_path.read_text(errors="replace")


def _tags(traces: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [t for found in traces for s in found["spans"] for t in s["tags"] if t["key"] == key]
