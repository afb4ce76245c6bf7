"""Requests about the same thing decided together: one transaction and one commit for all the
requests that arrived while the previous ones were being decided (group commit).

Requests for places in one offering all take that offering's lock. One transaction at a time
each held it for its own few round trips and its commit, and the others queued for it inside
PostgreSQL: at capacity a request waited 101-106 ms for the lock (`make bench`,
`pg_stat_statements`). Here the requests queue in the process instead, and the next
transaction takes every request that came meanwhile, each run by its own use case in turn
under the lock the first one took.

A use case run so must make its refusals (domain errors) before it writes anything, as the
transaction goes on to the next request and commits. A lost race, a transient failure or a
bug leaves no answer known: the transaction is rolled back and each of its requests runs
again alone, as `run_committed` runs any request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from opentelemetry import context as otel_context

from shared.db.uow import UnitOfWorkFactory, UowT, run_committed
from shared.errors import DomainError, LostRace

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class _Request(Generic[UowT]):
    use_case: Callable[[UowT], Awaitable[Any]]
    # The caller's trace: the events a request records belong to its own journey.
    trace: otel_context.Context
    answer: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def resolve(self, result: Any = None, error: BaseException | None = None) -> None:
        if self.answer.done():  # the caller went away: nobody waits for it
            return
        if error is None:
            self.answer.set_result(result)
        else:
            self.answer.set_exception(error)


class GroupCommit(Generic[UowT]):
    """Runs use cases keyed alike (an offering's id) in shared transactions, one key's at a
    time in this process."""

    def __init__(self, units_of_work: UnitOfWorkFactory[UowT]) -> None:
        self._units_of_work = units_of_work
        self._queued: dict[str, list[_Request[UowT]]] = {}
        self._deciding: dict[str, asyncio.Task[None]] = {}

    async def run(self, key: str, use_case: Callable[[UowT], Awaitable[T]]) -> T:
        """The use case's result once committed, or its domain error."""
        request: _Request[UowT] = _Request(use_case, otel_context.get_current())
        self._queued.setdefault(key, []).append(request)
        if key not in self._deciding:
            self._deciding[key] = asyncio.create_task(self._decide(key))
        result: T = await request.answer
        return result

    async def _decide(self, key: str) -> None:
        batch: list[_Request[UowT]] = []
        try:
            while batch := self._queued.pop(key, []):
                # One request alone is run as any request is, once.
                await (self._alone(batch[0]) if len(batch) == 1 else self._together(batch))
        finally:
            del self._deciding[key]
            # Left only when this task was cancelled (the process stops): nobody is answered.
            for request in [*batch, *self._queued.pop(key, [])]:
                request.answer.cancel()

    async def _together(self, batch: list[_Request[UowT]]) -> None:
        answers: list[tuple[_Request[UowT], Any, DomainError | None]] = []
        try:
            async with self._units_of_work() as uow:
                for request in batch:
                    try:
                        result = await _in_trace(request, request.use_case(uow))
                    except LostRace:
                        raise
                    except DomainError as refusal:
                        answers.append((request, None, refusal))
                    else:
                        answers.append((request, result, None))
                await uow.commit()
        except Exception as exc:
            log.debug("%d requests decided one by one after %s", len(batch), type(exc).__name__)
            await asyncio.gather(*(self._alone(request) for request in batch))
            return
        for request, result, error in answers:
            request.resolve(result, error)

    async def _alone(self, request: _Request[UowT]) -> None:
        try:
            result = await _in_trace(request, run_committed(self._units_of_work, request.use_case))
        except Exception as exc:
            request.resolve(error=exc)
        else:
            request.resolve(result)


async def _in_trace(request: _Request[Any], work: Awaitable[T]) -> T:
    token = otel_context.attach(request.trace)
    try:
        return await work
    finally:
        otel_context.detach(token)
