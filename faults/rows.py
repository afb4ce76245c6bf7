"""The faults, one row each: drive the row's events through the stack, strike while they are
in flight, wait (bounded) until every effect is applied, then count from the databases."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bench.journeys import make_learners
from bench.stack import Instance, Stack, plan_instances
from faults.count import Figures, lost_and_duplicated
from faults.drive import Population, enrol, open_offering, populate, submit_results
from faults.system import Databases, dead_letters, groups, lag, recorded_twice, wait_for
from infra import local
from infra.processes import http_ok
from shared.ops.views import rewind

# The fault strikes once this share of the row's results has its credential.
TRIGGER_SHARE = 0.2
# After the last effect, the consumer groups get this long to commit everything, so a late
# duplicate would still be counted.
SETTLE_S = 60.0
# Results a second in the rebalance row: the stream outlasts a second process's start-up.
REBALANCE_RATE = 10.0
# How long an outage may take to show on a service's readiness.
OUTAGE_NOTICED_S = 30.0


def log(message: str) -> None:
    print(f"[faults] {message}", file=sys.stderr, flush=True)


@dataclass
class Suite:
    stack: Stack
    databases: Databases
    results: int
    timeout_s: float
    history: list[Population] = field(default_factory=list)
    """every result row's population on the current stack (redelivery recounts them all)"""

    @property
    def bootstrap(self) -> str:
        return self.stack.profile.bootstrap_servers

    def instance(self, service: str, index: int = 0) -> Instance:
        return next(
            i
            for i in plan_instances(self.stack.profile, index + 1)
            if i.service.name == service and i.index == index
        )

    async def credentialed(self, population: Population) -> int:
        return len(await self.databases.credentials(population.offering.offering_id))

    async def mid_stream(self, population: Population) -> int:
        """Waits until TRIGGER_SHARE of the results are credentialed; how many are not yet."""
        target = max(1, int(len(population.learners) * TRIGGER_SHARE))

        async def reached() -> bool:
            return await self.credentialed(population) >= target

        await wait_for(reached, self.timeout_s)
        return len(population.learners) - await self.credentialed(population)

    async def restart(self, instance: Instance, extra_env: dict[str, str] | None = None) -> None:
        """Stops one process if it runs and starts it again (with `extra_env`), until ready."""
        await asyncio.to_thread(self.stack.managed(instance).stop, signal.SIGTERM, 20)
        self.stack.spawn(instance, extra_env)
        await asyncio.to_thread(self.stack.wait_ready, [instance])


@dataclass(frozen=True)
class Struck:
    in_flight: int
    at: float
    """time.monotonic() when the fault struck: the backlog's drain is timed from there"""
    note: str = ""


Strike = Callable[[Suite, Population], Awaitable[Struck]]


async def result_row(
    suite: Suite,
    fault: str,
    title: str,
    strike: Strike,
    prepare: Callable[[Suite], Awaitable[None]] | None = None,
    recount_history: bool = False,
    per_second: float | None = None,
) -> Figures:
    """N results in flight, struck by `strike`; one credential each is the goal. Results
    go in one burst before the strike, or `per_second` while it strikes."""
    enrolment_url = suite.stack.url("enrolment")
    population = await populate(
        suite.bootstrap, enrolment_url, suite.databases, f"{fault}-{uuid.uuid4().hex[:6]}",
        suite.results,
    )  # fmt: skip
    suite.history.append(population)
    if prepare is not None:
        await prepare(suite)
    before = await dead_letters(suite.bootstrap)
    log(f"{fault}: submitting {suite.results} results")
    submitting = asyncio.create_task(submit_results(suite.bootstrap, population, per_second))
    if per_second is None:
        await submitting
    struck = await strike(suite, population)
    await submitting
    counted = suite.history if recount_history else [population]
    drain_s = await drain(suite, counted, struck.at)
    repeats = await recorded_twice(suite.bootstrap, population.offering.offering_id)
    lost = duplicated = 0
    for each in counted:
        credentials = await suite.databases.credentials(each.offering.offering_id)
        missing, extra = lost_and_duplicated(each.learner_ids, credentials)
        lost, duplicated = lost + missing, duplicated + extra
    return Figures(
        fault=fault,
        title=title,
        expected=sum(len(each.learners) for each in counted),
        in_flight=struck.in_flight,
        lost=lost,
        duplicated=duplicated,
        dead_letters=await dead_letters(suite.bootstrap) - before,
        drain_s=drain_s,
        note=f"{struck.note}; {repeats} result_recorded records on the log twice",
    )


async def drain(suite: Suite, populations: Sequence[Population], since: float) -> float | None:
    """Seconds from `since` until every population's results are credentialed (None: not
    within the timeout); then waits for the consumer groups to commit everything."""

    async def applied() -> bool:
        for population in populations:
            if await suite.credentialed(population) < len(population.learners):
                return False
        return True

    done = await wait_for(applied, suite.timeout_s)
    drain_s = time.monotonic() - since if done else None

    async def committed() -> bool:
        return await lag(suite.bootstrap) == 0

    if not await wait_for(committed, SETTLE_S):
        log(f"consumer groups still lag {await lag(suite.bootstrap)} records")
    return drain_s


# --- the strikes ------------------------------------------------------------------------


def relay_kill(moment: str) -> tuple[Callable[[Suite], Awaitable[None]], Strike]:
    """Assessment's relay kills its process at `moment` once a fifth of the results went
    out; the suite starts it again without the setting."""

    async def prepare(suite: Suite) -> None:
        after = str(max(1, int(suite.results * TRIGGER_SHARE)))
        env = {"FAULT_INJECTION": moment, "FAULT_AFTER_PUBLISHED": after}
        await suite.restart(suite.instance("assessment"), env)

    async def strike(suite: Suite, population: Population) -> Struck:
        instance = suite.instance("assessment")
        managed = suite.stack.managed(instance)

        async def died() -> bool:
            return managed.exited()

        if not await wait_for(died, suite.timeout_s):
            await suite.restart(instance)
            return Struck(0, time.monotonic(), "the fault never struck")
        at = time.monotonic()
        in_flight = len(population.learners) - await suite.credentialed(population)
        killed = "fault injection: SIGKILL" in managed.log_tail()
        await suite.restart(instance)
        back = time.monotonic() - at
        note = f"assessment killed by its relay (SIGKILL), ready again in {back:.0f} s"
        return Struck(in_flight, at, note if killed else "assessment died by itself")

    return prepare, strike


async def broker_restart(suite: Suite, population: Population) -> Struck:
    in_flight = await suite.mid_stream(population)
    down = time.monotonic()
    await asyncio.to_thread(local.stop_kafka, suite.stack.profile)
    await asyncio.to_thread(local.start_kafka, suite.stack.profile)
    outage = time.monotonic() - down
    return Struck(in_flight, down, f"broker stopped (SIGTERM) and back in {outage:.0f} s")


async def postgres_restart(suite: Suite, population: Population) -> Struck:
    """PostgreSQL stopped, kept down until issuance reports it is not ready (so the services
    have met the outage, not just a blink), then started again."""
    in_flight = await suite.mid_stream(population)
    down = time.monotonic()
    # SIGINT: PostgreSQL's fast shutdown, which ends the services' sessions.
    await asyncio.to_thread(local.find_postgres(suite.stack.profile).stop, signal.SIGINT)
    ready = suite.stack.url("issuance") + local.SERVICE_READY_PATH

    async def noticed() -> bool:
        return not await asyncio.to_thread(http_ok, ready)

    seen = await wait_for(noticed, OUTAGE_NOTICED_S)
    await asyncio.to_thread(local.start_postgres, suite.stack.profile)
    outage = time.monotonic() - down
    how = "issuance reported not ready" if seen else "issuance never reported not ready"
    return Struck(in_flight, down, f"PostgreSQL stopped, {how}, back in {outage:.0f} s")


async def redelivery(suite: Suite, population: Population) -> Struck:
    """Every service stopped, every consumer group rewound to the earliest offsets, every
    service started again: the whole log is delivered once more."""
    in_flight = await suite.mid_stream(population)
    at = time.monotonic()
    await asyncio.to_thread(suite.stack.stop_services)
    rewound = [await rewind(suite.bootstrap, group) for group in await groups(suite.bootstrap)]
    await asyncio.to_thread(suite.stack.start_services, 1)
    note = (
        f"{len(rewound)} consumer groups ({sum(rewound)} partitions) rewound; the results of "
        f"every earlier row are redelivered and counted too"
    )
    return Struck(in_flight, at, note)


async def rebalance(suite: Suite, population: Population) -> Struck:
    """A second issuance process joins the consumer group while the results stream in (at
    REBALANCE_RATE a second, longer than a process takes to start), and leaves (SIGTERM)
    when three quarters of them are credentialed."""
    second = suite.instance("issuance", 1)
    at = time.monotonic()
    suite.stack.plan.append(second)
    suite.stack.spawn(second)
    await asyncio.to_thread(suite.stack.wait_ready, [second])
    at_join = len(population.learners) - await suite.credentialed(population)
    most = len(population.learners) * 3 // 4

    async def three_quarters() -> bool:
        return await suite.credentialed(population) >= most

    await wait_for(three_quarters, suite.timeout_s)
    at_leave = len(population.learners) - await suite.credentialed(population)
    await asyncio.to_thread(suite.stack.managed(second).stop, signal.SIGTERM, 20)
    suite.stack.plan.remove(second)
    note = f"issuance-1 joined with {at_join} and left with {at_leave} results uncredentialed"
    return Struck(at_join, at, note)


async def broker_kill(suite: Suite, population: Population) -> Struck:
    """Node 1 of the three-node cluster (the first bootstrap address, often the active
    controller) killed with SIGKILL and left down."""
    pids = suite.stack.service_pids()
    in_flight = await suite.mid_stream(population)
    node = local.kafka_process(suite.stack.profile, 0)
    pid = node.pid()
    if pid is None:
        return Struck(in_flight, time.monotonic(), "node 1 was not running: no fault")
    os.kill(pid, signal.SIGKILL)
    over = time.monotonic()
    await drain(suite, [population], over)
    same = suite.stack.service_pids() == pids
    note = "node 1 of 3 killed (SIGKILL), left down; services " + (
        "not restarted" if same else "RESTARTED"
    )
    return Struck(in_flight, over, note)


# --- rows that are not a stream of results ----------------------------------------------


async def seats(suite: Suite) -> Figures:
    """Two enrolment processes take the last seats of one offering: N learners ask at once,
    in turn at each process, for a quarter as many seats."""
    capacity = max(1, suite.results // 4)
    run = f"seats-{uuid.uuid4().hex[:6]}"
    offering = await open_offering(suite.bootstrap, suite.stack.url("enrolment"), run, capacity)
    second = suite.instance("enrolment", 1)
    suite.stack.plan.append(second)
    suite.stack.spawn(second)
    await asyncio.to_thread(suite.stack.wait_ready, [second])
    learners = make_learners(run, "s", suite.results, [offering], 1)
    before = await dead_letters(suite.bootstrap)
    started = time.monotonic()
    answers = await enrol(
        [suite.stack.url("enrolment"), second.url], learners, offering.offering_id
    )
    answered_s = time.monotonic() - started
    await asyncio.to_thread(suite.stack.managed(second).stop, signal.SIGTERM, 20)
    suite.stack.plan.remove(second)
    accepted = await suite.databases.enrolments(offering.offering_id, "accepted")
    waiting = await suite.databases.enrolments(offering.offering_id, "waitlisted")
    held = accepted + waiting
    ids = [learner.learner_id for learner in learners]
    lost, twice = lost_and_duplicated(ids, held)
    unanswered = sum(1 for a in answers if a.status_code != 201)
    seated = sum(accepted.values())
    note = (
        f"{capacity} seats, {len(ids)} requests over 2 processes: {seated} accepted, "
        f"{sum(waiting.values())} waitlisted, {unanswered} without a 201"
    )
    return Figures(
        fault="seats",
        title="two enrolment processes take the last seats of one offering",
        expected=len(ids),
        in_flight=len(ids),
        lost=max(lost, unanswered),
        duplicated=twice + max(0, seated - capacity),
        dead_letters=await dead_letters(suite.bootstrap) - before,
        drain_s=answered_s,
        note=note,
    )


async def three_brokers(suite: Suite) -> Figures:
    """The same stream on a fresh stack with a three-node KRaft cluster, one node killed."""
    stack = suite.stack
    await asyncio.to_thread(stack.stop_infra)
    stack.profile = dataclasses.replace(stack.profile, kafka_brokers=3)
    await asyncio.to_thread(stack.start_infra)
    await asyncio.to_thread(stack.start_services, 1)
    suite.history.clear()
    return await result_row(
        suite,
        "three-brokers",
        "three-node KRaft cluster (RF 3, min ISR 2), one node killed",
        broker_kill,
    )


# --- the table's rows, in the order they run ----------------------------------------------

Row = Callable[[Suite], Awaitable[Figures]]


def _kill(moment: str, title: str) -> Row:
    prepare, strike = relay_kill(moment)
    return lambda suite: result_row(suite, f"kill-{moment}", title, strike, prepare)


ROWS: dict[str, Row] = {
    "kill-after-commit-before-publish": _kill(
        "after-commit-before-publish",
        "assessment SIGKILLed after its commit, before the relay publishes",
    ),
    "kill-after-ack-before-mark": _kill(
        "after-ack-before-mark",
        "assessment SIGKILLed after the broker's ack, before the row is marked published",
    ),
    "broker-restart": lambda suite: result_row(
        suite, "broker-restart", "broker stopped and restarted mid-stream", broker_restart
    ),
    "postgres-restart": lambda suite: result_row(
        suite, "postgres-restart", "PostgreSQL stopped and restarted mid-stream", postgres_restart
    ),
    "rebalance": lambda suite: result_row(
        suite,
        "rebalance",
        "a second issuance process joins, then leaves (rebalance)",
        rebalance,
        per_second=REBALANCE_RATE,
    ),
    "seats": seats,
    "redelivery": lambda suite: result_row(
        suite,
        "redelivery",
        "every consumer group's offsets reset to the earliest (full redelivery)",
        redelivery,
        recount_history=True,
    ),
    "three-brokers": three_brokers,
}
