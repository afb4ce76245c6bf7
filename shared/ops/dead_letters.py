"""Dead letters: see why each one failed, and replay them to their source topic after a fix.

A replay re-publishes the original record (key, value and headers, without the `dlq_`
ones) to the topic it came from, so the consumer meets the very same event again. Every
other consumer of that topic has applied or parked it already and drops it by event id.
Each replay is written to `<consumer>.dead-letter.replayed`, keyed by the dead letter's
position, so the same dead letter is not replayed twice by accident.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence
from dataclasses import dataclass

from shared.clock import rfc3339, utc_now
from shared.messaging.clients import producer
from shared.messaging.dead_letter import DETAIL_HEADER, REASON_HEADER, dead_letter_topic
from shared.ops.kafka import Record, read_topic


def replay_log_topic(consumer: str) -> str:
    return f"{dead_letter_topic(consumer)}.replayed"


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    @classmethod
    def from_record(cls, record: Record) -> DeadLetter:
        headers = tuple((k, bytes(v)) for k, v in record.headers)
        return cls(record.partition, record.offset, record.key, record.value, headers)

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", errors="replace")
        return ""

    @property
    def position(self) -> str:
        """Where it sits in the dead-letter topic: what a replay is recorded against."""
        return f"{self.partition}@{self.offset}"

    @property
    def event_id(self) -> str:
        return self.header("ce_id")

    @property
    def source_topic(self) -> str:
        return self.header("dlq_source_topic")

    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in self.headers if not k.startswith("dlq_")]

    def describe(self, replayed_at: str | None, show_payload: bool) -> str:
        lines = [
            f"dead letter {self.position}   reason: {self.header(REASON_HEADER) or '?'}"
            f"   parked: {self.header('dlq_time') or '?'}",
            f"  event:    {self.header('ce_type') or '(no ce_type)'}"
            f"   id: {self.event_id or '(none)'}",
            f"  from:     {self.source_topic}[{self.header('dlq_source_partition')}]"
            f"@{self.header('dlq_source_offset')}   consumer: {self.header('dlq_consumer')}",
            f"  detail:   {self.header(DETAIL_HEADER)}",
        ]
        if replayed_at:
            lines.append(f"  replayed: {replayed_at}")
        if show_payload:
            payload = (self.value or b"").decode("utf-8", errors="replace")
            lines.append(f"  payload:  {payload}")
        return "\n".join(lines)


async def dead_letters(bootstrap: str, consumer: str) -> list[DeadLetter]:
    records = await read_topic(bootstrap, dead_letter_topic(consumer))
    return [DeadLetter.from_record(record) for record in records]


async def replays(bootstrap: str, consumer: str) -> dict[str, str]:
    """Dead-letter position -> when it was replayed (the latest replay)."""
    done: dict[str, str] = {}
    for record in await read_topic(bootstrap, replay_log_topic(consumer)):
        entry = json.loads(record.value)
        done[record.key.decode()] = entry["replayed_at"]
    return done


async def list_dead_letters(bootstrap: str, consumer: str, show_payload: bool) -> str:
    parked = await dead_letters(bootstrap, consumer)
    if not parked:
        return f"no dead letters in {dead_letter_topic(consumer)}"
    done = await replays(bootstrap, consumer)
    blocks = [letter.describe(done.get(letter.position), show_payload) for letter in parked]
    summary = f"{len(parked)} dead letter(s) in {dead_letter_topic(consumer)}, {len(done)} replayed"
    return "\n\n".join([*blocks, summary])


class NothingToReplay(Exception):
    pass


def choose(
    parked: Sequence[DeadLetter], done: dict[str, str], event_id: str | None, again: bool
) -> list[DeadLetter]:
    """The dead letters a replay request names: one event's, or all; not those already
    replayed unless `again`."""
    named = [p for p in parked if event_id is None or p.event_id == event_id]
    if not named:
        raise NothingToReplay(f"no dead letter with event id {event_id}")
    chosen = [p for p in named if again or p.position not in done]
    if not chosen:
        raise NothingToReplay(
            "already replayed: "
            + ", ".join(f"{p.position} at {done[p.position]}" for p in named)
            + " (use --again to replay once more)"
        )
    return chosen


async def replay(
    bootstrap: str, consumer: str, event_id: str | None, again: bool
) -> list[DeadLetter]:
    chosen = choose(
        await dead_letters(bootstrap, consumer), await replays(bootstrap, consumer), event_id, again
    )
    client = producer(bootstrap)
    await client.start()
    try:
        for letter in chosen:
            if not letter.source_topic:
                raise NothingToReplay(f"dead letter {letter.position} names no source topic")
            await client.send_and_wait(
                letter.source_topic,
                letter.value,
                key=letter.key,
                headers=letter.original_headers(),
            )
            entry = {
                "event_id": letter.event_id,
                "source_topic": letter.source_topic,
                "replayed_at": rfc3339(utc_now()),
                "by": getpass.getuser(),
            }
            await client.send_and_wait(
                replay_log_topic(consumer),
                json.dumps(entry).encode(),
                key=letter.position.encode(),
            )
    finally:
        await client.stop()
    return chosen
