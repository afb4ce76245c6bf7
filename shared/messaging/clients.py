"""The Kafka clients this project builds outside FastStream, configured in one place."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer


def producer(bootstrap: str, client_id: str | None = None) -> AIOKafkaProducer:
    kwargs = {"client_id": client_id} if client_id else {}
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **kwargs
    )


class RawPublisher:
    """Publishes records byte for byte. FastStream's publish takes header values as text; a
    dead letter must keep the headers it arrived with, whatever their bytes or repeats."""

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def __call__(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        client = await self._client()
        await client.send_and_wait(topic, value, key=key, headers=headers)

    async def _client(self) -> AIOKafkaProducer:
        # Started on first use: most services never dead-letter anything.
        async with self._lock:
            if self._producer is None:
                client = producer(self._bootstrap, self._client_id)
                await client.start()  # a failed start leaves nothing behind to reuse
                self._producer = client
            return self._producer

    async def stop(self) -> None:
        async with self._lock:
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None
