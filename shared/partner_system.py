"""A partner system's side of the contract: publish signed events straight to Kafka.

This is what a university's student information system or learning platform does when it
reports to the alliance; the demo loader and the tests use it as partners would. A partner
writing in another language follows contracts/README.md to do the same.
"""

from __future__ import annotations

import secrets
import uuid
from types import TracebackType
from typing import Any, Self

from opentelemetry import propagate
from pydantic import BaseModel

from shared.clock import rfc3339, utc_now
from shared.envelope import CloudEvent, EventSigner
from shared.events import spec_for_model
from shared.messaging.clients import producer
from shared.registry import PARTNER_URN, REPO_ROOT, SERVICE_URN


def demo_signer(partner_id: str) -> EventSigner:
    """The signer of a demo partner (keys in alliance/demo-secrets, for the local alliance only)."""
    return EventSigner.from_pem_file(
        PARTNER_URN + partner_id,
        f"{partner_id}-2026-1",
        REPO_ROOT / "alliance" / "demo-secrets" / f"{partner_id}.pem",
    )


def signed_event(signer: EventSigner, event: BaseModel, event_id: str | None = None) -> CloudEvent:
    spec = spec_for_model(type(event))
    return signer.sign(
        CloudEvent(
            id=event_id or str(uuid.uuid4()),
            source=signer.source,
            type=spec.ce_type,
            subject=spec.subject(event),
            time=rfc3339(utc_now()),
            data=event.model_dump_json(exclude_none=True).encode(),
            key=spec.key(event),
            dataschema=spec.schema_id,
        )
    )


def broker_principal(signer: EventSigner) -> str:
    """The broker principal of whoever signs with `signer`: its partner's, or its service's."""
    for prefix in (PARTNER_URN, SERVICE_URN):
        if signer.source.startswith(prefix):
            return signer.source.removeprefix(prefix)
    raise ValueError(f"{signer.source} is no partner or service of the alliance")


class PartnerSystem:
    """Connects to the broker as the signer's principal (see shared.messaging.clients), so
    the broker lets it write only what the signer may send."""

    def __init__(self, bootstrap_servers: str, signer: EventSigner) -> None:
        self.signer = signer
        self._producer = producer(bootstrap_servers, principal=broker_principal(signer))

    async def __aenter__(self) -> Self:
        try:
            await self._producer.start()
        except BaseException:
            await self._producer.stop()  # releases the half-started client
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._producer.stop()

    async def publish(self, event: BaseModel) -> CloudEvent:
        envelope = signed_event(self.signer, event)
        await self.send(spec_for_model(type(event)).topic, envelope)
        return envelope

    async def send(self, topic: str, envelope: CloudEvent) -> Any:
        """Sends a signed event; returns the broker's record metadata (partition, offset).
        The record carries the caller's trace context, or starts a trace of its own."""
        headers = envelope.headers()
        if "traceparent" not in headers:
            propagate.inject(headers)
        headers.setdefault("traceparent", f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01")
        return await self._producer.send_and_wait(
            topic,
            envelope.data,
            key=envelope.key.encode(),
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
