"""A broker for outbox relay tests that acknowledges every record at once."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.envelope import CloudEvent
from shared.messaging.relay import SendRecord


def acknowledging(sent: list[str]) -> SendRecord:
    """A relay's `send` that notes each event id in `sent` and is acknowledged at once."""

    async def send(topic: str, event: CloudEvent, headers: dict[str, str]) -> asyncio.Future[Any]:
        sent.append(event.id)
        acknowledged: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        acknowledged.set_result(None)
        return acknowledged

    return send
