"""The ceilings the system is compared with, measured in the same run on the same machine:
plain aiokafka on the same broker, and raw Ed25519 signing (shared.credentials.bench)."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.credentials import canon, proof
from shared.credentials.bench import ISSUER, _rate, sample_data
from shared.credentials.did import verification_method_id
from shared.credentials.microcredential import build_microcredential
from shared.messaging.clients import kafka_connection

KEY_BYTES = 36  # about a learner id, the key of most alliance records


@dataclass(frozen=True)
class PlainKafka:
    messages: int
    size: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "per_second": self.per_second}


async def plain_kafka(
    bootstrap_servers: str, messages: int, size: int, partitions: int
) -> PlainKafka:
    """`messages` records of `size` bytes sent (acks=all, idempotent, as the services send)
    and received by one consumer; timed from the first send to the last receipt."""
    topic = f"bench.plain-kafka.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **kafka_connection())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        **kafka_connection(),
        bootstrap_servers=bootstrap_servers,
        acks="all",
        enable_idempotence=True,
    )
    consumer = AIOKafkaConsumer(
        **kafka_connection(), bootstrap_servers=bootstrap_servers, enable_auto_commit=False
    )
    await producer.start()
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        value = bytes(max(0, size - KEY_BYTES))
        started = time.perf_counter()
        receiving = asyncio.create_task(_receive(consumer, messages))
        for n in range(messages):
            await producer.send(topic, value, key=f"{n % 1000:0{KEY_BYTES}d}".encode())
        await producer.flush()
        await receiving
        return PlainKafka(messages, size, time.perf_counter() - started)
    finally:
        await producer.stop()
        await consumer.stop()


async def _receive(consumer: AIOKafkaConsumer, messages: int) -> None:
    received = 0
    while received < messages:
        batches = await consumer.getmany(timeout_ms=200)
        received += sum(len(batch) for batch in batches.values())


@dataclass(frozen=True)
class Signing:
    raw_ed25519_per_s: float
    credentials_per_s: float
    """OB 3.0 credentials signed per second on the fast path, by one core, nothing else"""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def signing(seconds: float = 2.0) -> Signing:
    """The signing ceilings on one core, as `python -m shared.credentials.bench` measures."""
    key = Ed25519PrivateKey.generate()
    method = verification_method_id(ISSUER, key.public_key())
    documents = [build_microcredential(sample_data(n)) for n in range(64)]
    canon.canonicalize_fast(documents[0])  # compile the contexts outside the timing
    message = bytes(64)
    raw, _ = _rate(lambda _: key.sign(message), seconds)
    created = "2025-06-30T12:00:01Z"
    fast, _ = _rate(
        lambda i: proof.sign_credential(documents[i % 64], key, method, created), seconds
    )
    return Signing(raw_ed25519_per_s=raw, credentials_per_s=fast)
