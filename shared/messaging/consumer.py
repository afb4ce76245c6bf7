"""The consumer runtime: every event is authenticated, checked and applied at most once.

For each record, in this order: a readable CloudEvent; a type the alliance has a contract
for; a signature by a key of the sender it names; a payload valid against the contract file;
a sender entitled to speak for the partner the event names. Then the handler runs in a unit
of work together with the inbox row, and only after that commit is the offset committed.
Anything refused goes to the dead-letter topic with its reason and the consumer carries on.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from opentelemetry import trace
from opentelemetry.trace import Span as TraceSpan
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from shared.clock import rfc3339, utc_now
from shared.contracts import ContractViolation, validate_payload
from shared.db import deferral, inbox
from shared.db.uow import UnitOfWorkFactory, UowT
from shared.envelope import CloudEvent, EnvelopeError, decode_headers, verify_sender
from shared.errors import DomainError, LostRace, NotYet
from shared.events import spec_for_model, spec_for_type
from shared.events.spec import EventSpec
from shared.messaging.dead_letter import ConsumedRecord, DeadLetterReason, DeadLetters
from shared.metrics import DEAD_LETTERS, EVENT_HANDLING_SECONDS, EVENTS_CONSUMED
from shared.registry import AllianceRegistry, Sender, Unauthorised
from shared.telemetry import annotate_event, process_span
from shared.transient import is_transient

log = logging.getLogger(__name__)

EventT = TypeVar("EventT", bound=BaseModel)


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    DEFERRED = "deferred"
    DEAD_LETTERED = "dead-lettered"


@dataclass(frozen=True)
class EventContext:
    envelope: CloudEvent
    sender: Sender


Handler = Callable[[Any, EventContext, Any], Awaitable[None]]
ReadAhead = Callable[[Sequence[Any], Any], Awaitable[None]]
# What admission yields: the envelope, the event's contract, the event and its sender.
_Admitted = tuple[CloudEvent, EventSpec[Any], BaseModel, Sender]


class _Refused(Exception):
    def __init__(self, reason: DeadLetterReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    initial_backoff_s: float = 0.2
    max_backoff_s: float = 5.0

    def backoff(self, attempt: int) -> float:
        return float(min(self.max_backoff_s, self.initial_backoff_s * 2 ** (attempt - 1)))


class EventConsumer(Generic[UowT]):
    def __init__(
        self,
        name: str,
        registry: AllianceRegistry,
        units_of_work: UnitOfWorkFactory[UowT],
        dead_letters: DeadLetters,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.name = name
        self._registry = registry
        self._units_of_work = units_of_work
        self._dead_letters = dead_letters
        self._retry = retry
        self._sleep = sleep
        self._handlers: dict[str, tuple[EventSpec[Any], Handler]] = {}
        self._read_ahead: ReadAhead | None = None

    def handles(
        self, model: type[EventT]
    ) -> Callable[
        [Callable[[EventT, EventContext, UowT], Awaitable[None]]],
        Callable[[EventT, EventContext, UowT], Awaitable[None]],
    ]:
        spec = spec_for_model(model)

        def register(
            handler: Callable[[EventT, EventContext, UowT], Awaitable[None]],
        ) -> Callable[[EventT, EventContext, UowT], Awaitable[None]]:
            self._handlers[spec.ce_type] = (spec, handler)
            return handler

        return register

    def reads_ahead(self, read: Callable[[Sequence[BaseModel], UowT], Awaitable[None]]) -> None:
        """`read` is given the new events of a run of records, in the run's unit of work,
        before any of them is applied, so that what each handler would read for its own
        event can be read for all of them in one statement."""
        self._read_ahead = read

    @property
    def events(self) -> tuple[EventSpec[Any], ...]:
        """The contracts of the events this consumer handles."""
        return tuple(spec for spec, _ in self._handlers.values())

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(sorted({spec.topic for spec in self.events}))

    async def consume(self, record: ConsumedRecord, deferred: int | None = None) -> Outcome:
        """Applies one record; `deferred` is its position when it comes back from deferral."""
        span = _process_span(record, self.name, "process" if deferred is None else "resume")
        try:
            with trace.use_span(span, end_on_exit=False):
                started = time.perf_counter()
                admitted = await self._admit_or_park(record)
                if isinstance(admitted, Outcome):
                    outcome = admitted
                else:
                    outcome = await self._apply(record, *admitted, deferred)
                if outcome is Outcome.DEAD_LETTERED and deferred is not None:
                    async with self._units_of_work() as uow:
                        await deferral.forget(uow.session, deferred)
                        await uow.commit()
                _count(self.name, admitted, outcome, started, span)
            return outcome
        finally:
            span.end()

    async def consume_in_order(self, records: Sequence[ConsumedRecord]) -> list[Outcome]:
        """Applies records in their order (each partition's kept), in as few transactions
        as possible: one inbox claim, one commit and one relay wake per run of records
        instead of one per record. A record whose handler refuses, defers or fails ends its run: the
        run's transaction is rolled back, the records before it are applied together again,
        it is applied alone (with its own outcome, retries and dead letter), and a new run
        starts after it."""
        spans = [_process_span(record, self.name) for record in records]
        try:
            started = time.perf_counter()
            outcomes: list[Outcome] = []
            admitted: dict[int, _Admitted] = {}
            for index, (record, span) in enumerate(zip(records, spans, strict=True)):
                with trace.use_span(span, end_on_exit=False):
                    found = await self._admit_or_park(record)
                if isinstance(found, Outcome):
                    outcomes.append(found)
                else:
                    outcomes.append(Outcome.APPLIED)
                    admitted[index] = found
            run = list(admitted)
            while run:
                applied, failed = await self._apply_together(run, admitted, spans)
                for index, outcome in applied.items():
                    outcomes[index] = outcome
                if failed is None:
                    break
                if failed not in run:  # the commit failed: no telling which record did it
                    alone, run = run, []
                else:
                    cut = run.index(failed)
                    before, alone, run = run[:cut], [failed], run[cut + 1 :]
                    if before:
                        applied, again = await self._apply_together(before, admitted, spans)
                        for index, outcome in applied.items():
                            outcomes[index] = outcome
                        if again is not None:  # failed again (a transient error?)
                            alone = [*before, failed]
                for index in alone:
                    with trace.use_span(spans[index], end_on_exit=False):
                        outcomes[index] = await self._apply(records[index], *admitted[index], None)
            for index, (span, outcome) in enumerate(zip(spans, outcomes, strict=True)):
                _count(self.name, admitted.get(index), outcome, started, span)
            return outcomes
        finally:
            for span in spans:
                span.end()

    async def _apply_together(
        self, run: Sequence[int], admitted: dict[int, _Admitted], spans: Sequence[TraceSpan]
    ) -> tuple[dict[int, Outcome], int | None]:
        """Applies the admitted records at `run` in one unit of work. Returns their outcomes,
        or no outcomes and the record whose handler failed (-1: the commit failed)."""
        outcomes: dict[int, Outcome] = {}
        current = -1
        try:
            async with self._units_of_work() as uow:
                fresh = await inbox.claim_all(
                    uow.session, self.name, [(admitted[i][0].id, admitted[i][0].type) for i in run]
                )
                if self._read_ahead is not None:
                    await self._read_ahead(
                        [admitted[i][2] for i in run if admitted[i][0].id in fresh], uow
                    )
                for current in run:
                    envelope, _, event, sender = admitted[current]
                    if envelope.id not in fresh:
                        outcomes[current] = Outcome.DUPLICATE
                        continue
                    fresh.discard(envelope.id)  # the same event twice in one batch
                    with trace.use_span(spans[current], end_on_exit=False):
                        annotate_event(envelope.type, envelope.id, event)
                        handler = self._handlers[envelope.type][1]
                        await handler(event, EventContext(envelope, sender), uow)
                    outcomes[current] = Outcome.APPLIED
                current = -1
                await uow.commit()
                released = list(uow.released)
        except Exception as exc:
            log.debug("a run of %d records stopped: %s", len(run), _describe(exc))
            return {}, current
        if released:
            await self._resume(released)
        return outcomes, None

    async def _admit_or_park(self, record: ConsumedRecord) -> _Admitted | Outcome:
        """The record's envelope, contract, event and sender; or what became of it."""
        try:
            admitted = self._admit(record)
        except _Refused as refused:
            return await self._park(record, refused.reason, refused.detail)
        except Exception as exc:
            # A bug met while reading the event must not stall the partition either.
            log.exception("cannot admit %s[%d]@%d", record.topic, record.partition, record.offset)
            return await self._park(record, DeadLetterReason.HANDLER_FAILED, _describe(exc))
        return Outcome.IGNORED if admitted is None else admitted

    def _admit(self, record: ConsumedRecord) -> _Admitted | None:
        try:
            envelope = CloudEvent.from_kafka(
                decode_headers(record.headers), record.key, record.value
            )
        except EnvelopeError as exc:
            raise _Refused(DeadLetterReason.ENVELOPE, str(exc)) from exc
        try:
            spec = spec_for_type(envelope.type)
        except KeyError as exc:
            raise _Refused(
                DeadLetterReason.UNKNOWN_TYPE, f"no contract for {envelope.type}"
            ) from exc
        if record.topic != spec.topic:
            raise _Refused(
                DeadLetterReason.CONTRACT,
                f"{spec.name} travels on {spec.topic}, not on {record.topic}",
            )
        if envelope.type not in self._handlers:
            return None
        try:
            verify_sender(envelope, self._registry)
            sender = self._registry.sender_for(envelope.source)
        except Unauthorised as exc:
            raise _Refused(DeadLetterReason.UNAUTHENTICATED, str(exc)) from exc
        try:
            payload = json.loads(envelope.data)
            validate_payload(envelope.type, payload)
            event = spec.model.model_validate(payload)
        except (ValueError, ContractViolation, ValidationError) as exc:
            raise _Refused(DeadLetterReason.CONTRACT, str(exc)) from exc
        if envelope.key != spec.key(event):
            raise _Refused(
                DeadLetterReason.CONTRACT,
                f"the record key must be {spec.key(event)!r} for {spec.name}, not {envelope.key!r}",
            )
        try:
            self._registry.authorise(envelope.source, spec.name, spec.acting_partner(event))
        except Unauthorised as exc:
            raise _Refused(DeadLetterReason.UNAUTHORISED, str(exc)) from exc
        return envelope, spec, event, sender

    async def _apply(
        self,
        record: ConsumedRecord,
        envelope: CloudEvent,
        spec: EventSpec[Any],
        event: BaseModel,
        sender: Sender,
        deferred: int | None,
    ) -> Outcome:
        handler = self._handlers[envelope.type][1]
        context = EventContext(envelope, sender)
        annotate_event(envelope.type, envelope.id, event)
        last_error = ""
        for attempt in range(1, self._retry.max_attempts + 1):
            try:
                async with self._units_of_work() as uow:
                    if deferred is not None:
                        await deferral.forget(uow.session, deferred)
                    if not await inbox.claim(uow.session, self.name, envelope.id, envelope.type):
                        await uow.commit()
                        return Outcome.DUPLICATE
                    await handler(event, context, uow)
                    await uow.commit()
                    released = list(uow.released)
                if released:
                    await self._resume(released)
                return Outcome.APPLIED
            except NotYet as wait:
                async with self._units_of_work() as uow:
                    if deferred is not None:
                        await deferral.forget(uow.session, deferred)
                    kept = deferral.defer(
                        uow.session, self.name, record, wait.waiting_for, wait.reason
                    )
                    await uow.commit()
                log.info(
                    "deferred event %s until %s: %s", envelope.id, wait.waiting_for, wait.reason
                )
                if deferred is None and kept.position is not None:
                    # The fact may have been committed by a concurrent transaction (another
                    # partition or instance) after the handler looked and before this
                    # deferral was visible to that transaction's release: look once more
                    # (at this event only; the others waiting were looked at in their turn).
                    await self.consume(deferral.as_record(kept), deferred=kept.position)
                return Outcome.DEFERRED
            except LostRace as exc:
                last_error = str(exc)  # a concurrent change came first: apply it again
                if attempt < self._retry.max_attempts:
                    await self._sleep(self._retry.backoff(attempt))
            except DomainError as exc:
                return await self._park(record, DeadLetterReason.REJECTED, str(exc))
            except IntegrityError as exc:
                if await self._already_applied(envelope.id):
                    return Outcome.DUPLICATE
                return await self._park(record, DeadLetterReason.HANDLER_FAILED, _describe(exc))
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("handler for %s failed on event %s", spec.name, envelope.id)
                    return await self._park(record, DeadLetterReason.HANDLER_FAILED, _describe(exc))
                last_error = _describe(exc)
                delay = self._retry.backoff(attempt)
                log.warning(
                    "transient failure on event %s (attempt %d/%d), retrying in %.1fs: %s",
                    envelope.id, attempt, self._retry.max_attempts, delay, last_error,
                )  # fmt: skip
                if attempt < self._retry.max_attempts:
                    await self._sleep(delay)
        return await self._park(
            record,
            DeadLetterReason.RETRIES_EXHAUSTED,
            f"still failing after {self._retry.max_attempts} attempts: {last_error}",
        )

    async def _resume(self, facts: list[str]) -> None:
        """Applies again the events that were waiting for facts just committed; each in the
        trace of the span that deferred it (its saved headers), not of the releasing one."""
        waiting = await deferral.pending(self._units_of_work.engine, self.name, facts)
        for position, record in waiting:
            await self.consume(record, deferred=position)

    async def _already_applied(self, event_id: str) -> bool:
        async with self._units_of_work() as uow:
            return not await inbox.claim(uow.session, self.name, event_id, "")

    async def expire_deferred(self, waited_s: float) -> int:
        """Dead-letters the events that have waited longer than `waited_s` for their fact;
        returns how many. Without a bound, a result for an enrolment that never comes would
        wait unseen for ever."""
        before = utc_now() - timedelta(seconds=waited_s)
        async with self._units_of_work() as uow:
            expired = await deferral.waiting_since(uow.session, self.name, before)
            for waiting in expired:
                await self._park(
                    deferral.as_record(waiting),
                    DeadLetterReason.WAITED_TOO_LONG,
                    f"waited from {rfc3339(waiting.deferred_at)} for {waiting.waiting_for}: "
                    f"{waiting.reason}",
                )
                await deferral.forget(uow.session, int(waiting.position or 0))
            await uow.commit()
        return len(expired)

    async def _park(self, record: ConsumedRecord, reason: DeadLetterReason, detail: str) -> Outcome:
        """Sends the record to the dead-letter topic, once: a redelivered record (offsets
        reset, a rebalance before the commit) that was parked before is not parked again.
        Records are told apart by position, not by event id, which a bad record may forge."""
        async with self._units_of_work() as uow:
            position = f"{record.topic}/{record.partition}/{record.offset}"
            if not await inbox.claim(uow.session, f"{self.name}/parked", position, reason.value):
                return Outcome.DEAD_LETTERED
            log.warning(
                "dead-lettering %s[%d]@%d: %s: %s",
                record.topic,
                record.partition,
                record.offset,
                reason.value,
                detail,
            )
            await self._dead_letters.park(record, reason, detail)
            await uow.commit()
        DEAD_LETTERS.labels(self.name, reason.value).inc()
        return Outcome.DEAD_LETTERED


def _process_span(
    record: ConsumedRecord, consumer_group: str, operation: str = "process"
) -> TraceSpan:
    return process_span(
        record.topic,
        record.partition,
        record.offset,
        record.key,
        record.headers,
        len(record.value or b""),
        consumer_group,
        operation,
    )


def _count(
    consumer: str,
    admitted: _Admitted | Outcome | None,
    outcome: Outcome,
    started: float,
    span: TraceSpan,
) -> None:
    event_type = admitted[0].type if isinstance(admitted, tuple) else "unreadable"
    span.set_attribute("alliance.outcome", outcome.value)
    EVENTS_CONSUMED.labels(consumer, event_type, outcome.value).inc()
    if outcome is Outcome.APPLIED:
        EVENT_HANDLING_SECONDS.labels(consumer, event_type).observe(time.perf_counter() - started)


def _describe(exc: BaseException) -> str:
    # The first line is enough to act on; SQL parameters (possibly personal data) are not kept.
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first_line}"[:500]
