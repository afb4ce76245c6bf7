"""Prometheus metrics every service exposes at /metrics.

Labels name consumers, event types, topics and routes only: never an id, so the number of
series stays bounded and no learner appears in a metric.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
DEPENDENCY_UP = Gauge(
    "alliance_dependency_up",
    "1 while the service reaches the dependency (broker, database), 0 during an outage",
    ["dependency"],
)
OUTBOX_BACKLOG = Gauge("alliance_outbox_backlog", "Outbox rows not yet published")
OUTBOX_OLDEST_AGE_SECONDS = Gauge(
    "alliance_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row"
)
CONSUMER_LAG = Gauge(
    "alliance_consumer_lag",
    "Records on a partition assigned to this consumer that it has not reached yet",
    ["consumer", "topic", "partition"],
)
HTTP_REQUESTS = Counter(
    "alliance_http_requests_total",
    "HTTP requests answered, by method, route template and status code",
    ["method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "alliance_http_request_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
)

# Requests that matched no route are counted together: raw paths would be unbounded labels.
UNMATCHED_ROUTE = "(unmatched)"
_NOT_COUNTED = ("/metrics", "/health/live", "/health/ready")


class HttpMetricsMiddleware:
    """Counts and times every HTTP request by its route template (`/offerings/{offering_id}`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _NOT_COUNTED:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            method = scope["method"]
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_REQUEST_SECONDS.labels(method, route).observe(time.perf_counter() - started)
