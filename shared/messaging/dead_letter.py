"""Dead letters: a record a consumer cannot apply is parked, whole, with the reason why."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.clock import rfc3339, utc_now

REASON_HEADER = "dlq_reason"
DETAIL_HEADER = "dlq_detail"


class DeadLetterReason(enum.StrEnum):
    ENVELOPE = "envelope"  # not a readable CloudEvent
    UNAUTHENTICATED = "unauthenticated"  # unknown sender or signature does not verify
    UNKNOWN_TYPE = "unknown-type"  # no contract for this ce_type
    CONTRACT = "contract"  # payload does not validate against its schema
    UNAUTHORISED = "unauthorised"  # a real sender, not entitled to send this
    REJECTED = "rejected"  # the domain refuses it (e.g. result for a learner not enrolled)
    HANDLER_FAILED = "handler-failed"  # a bug: unexpected error in the handler
    RETRIES_EXHAUSTED = "retries-exhausted"  # transient failures outlasted the retry budget
    WAITED_TOO_LONG = "waited-too-long"  # the fact it was deferred for never came


def dead_letter_topic(consumer: str) -> str:
    return f"{consumer}.dead-letter"


@dataclass(frozen=True)
class ConsumedRecord:
    """A Kafka record as consumed, independent of the client library."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


# (topic, key, value, headers) -> awaits the broker's acknowledgement
RawPublish = Callable[[str, bytes | None, bytes | None, list[tuple[str, bytes]]], Awaitable[None]]


class DeadLetters:
    def __init__(self, consumer: str, publish: RawPublish) -> None:
        self.consumer = consumer
        self.topic = dead_letter_topic(consumer)
        self._publish = publish

    async def park(self, record: ConsumedRecord, reason: DeadLetterReason, detail: str) -> None:
        # The original headers travel unchanged so a replay is the same event.
        extra = {
            REASON_HEADER: reason.value,
            DETAIL_HEADER: detail[:1000],
            "dlq_consumer": self.consumer,
            "dlq_source_topic": record.topic,
            "dlq_source_partition": str(record.partition),
            "dlq_source_offset": str(record.offset),
            "dlq_time": rfc3339(utc_now()),
        }
        original = [(k, v) for k, v in record.headers if not k.startswith("dlq_")]
        headers = original + [(k, v.encode()) for k, v in extra.items()]
        await self._publish(self.topic, record.key, record.value, headers)
