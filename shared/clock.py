"""The one clock every service reads, and the one way a moment is written in events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_ms(moment: str) -> int:
    """Milliseconds since the epoch of an RFC 3339 moment (a Kafka record's timestamp)."""
    return (datetime.fromisoformat(moment) - _EPOCH) // timedelta(milliseconds=1)
