"""Prometheus metrics every service exposes at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter(
    "alliance_events_consumed_total",
    "Events consumed, by consumer, event type and outcome",
    ["consumer", "event_type", "outcome"],
)
EVENT_HANDLING_SECONDS = Histogram(
    "alliance_event_handling_seconds",
    "Time from receiving an event to its effect committed",
    ["consumer", "event_type"],
)
DEAD_LETTERS = Counter(
    "alliance_dead_letters_total", "Events parked in a dead-letter topic", ["consumer", "reason"]
)
EVENTS_PUBLISHED = Counter(
    "alliance_events_published_total", "Events published by the outbox relay", ["event_type"]
)
OUTBOX_BACKLOG = Gauge("alliance_outbox_backlog", "Outbox rows not yet published")
OUTBOX_OLDEST_AGE_SECONDS = Gauge(
    "alliance_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row"
)
