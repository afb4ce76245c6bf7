"""What the journeys took and whether the system kept its promises under load: pure functions
over what the driver did (`Tally`) and what the observer saw (`Seen` events).

A record seen twice with the same event id is one event delivered twice (at least once, by
design); two events with different ids for the same fact are a duplicated effect.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.journeys import (
    CREDENTIAL_ISSUED,
    ENROLMENT_ACCEPTED,
    PATHWAY_COMPLETED,
    RESULT_RECORDED,
    Tally,
)
from bench.observe import Seen

EXAMPLES = 5  # problems listed by name in the report, per kind


def distinct(seen: Iterable[Seen], event_type: str) -> list[Seen]:
    """The events of one type, each event id once (the first delivery)."""
    firsts: dict[str, Seen] = {}
    for event in seen:
        if event.event_type == event_type and event.event_id not in firsts:
            firsts[event.event_id] = event
    return list(firsts.values())


@dataclass(frozen=True)
class Credentials:
    """The credentials issued for this run's learners, from the credential.issued events."""

    components: dict[tuple[str, str], list[Seen]]
    """(learner id, offering id) -> the credential.issued events for it"""
    stacked: dict[str, list[Seen]]
    """learner id -> the stacked credential.issued events of the run's pathway"""

    @classmethod
    def of(cls, seen: Iterable[Seen], learners: set[str], pathway_id: str) -> Credentials:
        components: dict[tuple[str, str], list[Seen]] = defaultdict(list)
        stacked: dict[str, list[Seen]] = defaultdict(list)
        for event in distinct(seen, CREDENTIAL_ISSUED):
            learner = event.payload["learner_id"]
            if learner not in learners:
                continue
            if event.payload.get("offering_id"):
                components[(learner, event.payload["offering_id"])].append(event)
            elif event.payload.get("pathway_id") == pathway_id:
                stacked[learner].append(event)
        return cls(dict(components), dict(stacked))

    def ids(self) -> dict[str, set[str]]:
        """learner id -> every credential id issued to them."""
        held: dict[str, set[str]] = defaultdict(set)
        for (learner, _), events in self.components.items():
            held[learner].update(e.payload["credential_id"] for e in events)
        for learner, events in self.stacked.items():
            held[learner].update(e.payload["credential_id"] for e in events)
        return dict(held)


def assessment_to_credential(
    submitted: Mapping[tuple[str, str], float], credentials: Credentials
) -> list[tuple[float, float]]:
    """(moment issued, ms) from a result's submission to its credential's publication."""
    samples = []
    for key, moment in submitted.items():
        events = credentials.components.get(key)
        if events:
            issued = min(e.moment for e in events)
            samples.append((issued, (issued - moment) * 1000))
    return samples


def last_component_to_stacked(
    learner_offerings: Mapping[str, Sequence[str]], credentials: Credentials
) -> list[tuple[float, float]]:
    """(moment stacked, ms) from the last component credential to the stacked one."""
    samples = []
    for learner, events in credentials.stacked.items():
        issued = [
            min(e.moment for e in credentials.components[(learner, offering)])
            for offering in learner_offerings.get(learner, ())
            if (learner, offering) in credentials.components
        ]
        if issued:
            stacked = min(e.moment for e in events)
            samples.append((stacked, (stacked - max(issued)) * 1000))
    return samples


def hops(
    tally: Tally, seen: Sequence[Seen], credentials: Credentials, pathway_id: str
) -> dict[str, list[float]]:
    """Where a journey's time goes, hop by hop (ms, each measured from the event before):
    the assessment service recording a submitted result, issuance signing its credential,
    recognition completing the pathway, issuance signing the stacked credential."""
    recorded = {e.payload["result_id"]: e.moment for e in distinct(seen, RESULT_RECORDED)}
    completed: dict[str, float] = {}
    for event in distinct(seen, PATHWAY_COMPLETED):
        if event.payload["pathway_id"] == pathway_id:
            completed.setdefault(event.payload["learner_id"], event.moment)
    out: dict[str, list[float]] = defaultdict(list)
    last_component: dict[str, float] = {}
    for result_id, key in tally.results.items():
        submitted = tally.submitted.get(key)
        if result_id in recorded and submitted is not None:
            out["result submitted -> recorded (assessment)"].append(
                (recorded[result_id] - submitted) * 1000
            )
        issued = credentials.components.get(key)
        if result_id in recorded and issued:
            first = min(e.moment for e in issued)
            out["result recorded -> credential issued (issuance)"].append(
                (first - recorded[result_id]) * 1000
            )
            last_component[key[0]] = max(last_component.get(key[0], 0.0), first)
    for learner, moment in completed.items():
        if learner in last_component:
            out["last credential -> pathway completed (recognition)"].append(
                (moment - last_component[learner]) * 1000
            )
        stacked = credentials.stacked.get(learner)
        if stacked:
            out["pathway completed -> stacked credential (issuance)"].append(
                (min(e.moment for e in stacked) - moment) * 1000
            )
    return dict(out)


@dataclass
class Correctness:
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def note(self, kind: str, keys: Sequence[Any], what: str) -> None:
        self.counts[kind] = len(keys)
        if keys:
            shown = ", ".join(map(str, list(keys)[:EXAMPLES]))
            self.problems.append(f"{len(keys)} {what} (e.g. {shown})")

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": self.counts, "problems": self.problems}


def _per(seen: Iterable[Seen], event_type: str, field_name: str) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for event in distinct(seen, event_type):
        counts[event.payload[field_name]] += 1
    return counts


def check(
    tally: Tally,
    seen: Sequence[Seen],
    pathway_id: str,
    dead_letters: int,
    held_per_api: Mapping[str, set[str]] | None = None,
    unverified: Mapping[str, str] | None = None,
) -> Correctness:
    """Exactly one of each effect per cause, nothing dead-lettered, the issuance API agrees
    with the events, and every credential verifies."""
    result = Correctness()
    credentials = Credentials.of(seen, tally.learners, pathway_id)
    accepted = _per(seen, ENROLMENT_ACCEPTED, "enrolment_id")
    recorded = _per(seen, RESULT_RECORDED, "result_id")
    components = credentials.components
    findings: list[tuple[str, Sequence[Any], str]] = [
        (
            "enrolments_without_event",
            [e for e in tally.enrolled if accepted.get(e, 0) == 0],
            "accepted enrolments without an enrolment.accepted event",
        ),
        (
            "enrolments_announced_twice",
            [e for e in tally.enrolled if accepted.get(e, 0) > 1],
            "enrolments announced as accepted more than once",
        ),
        (
            "results_not_recorded",
            [r for r in tally.results if recorded.get(r, 0) == 0],
            "submitted results never recorded",
        ),
        (
            "results_recorded_twice",
            [r for r in tally.results if recorded.get(r, 0) > 1],
            "results recorded more than once",
        ),
        (
            "results_without_credential",
            [k for k in tally.submitted if k not in components],
            "passed results without a credential",
        ),
        (
            "results_with_several_credentials",
            [k for k, events in components.items() if len(events) > 1],
            "passed results with more than one credential",
        ),
        ("enrolments_refused_or_failed", tally.refused, "enrolment requests refused or failed"),
        (
            "pathways_without_stacked_credential",
            sorted(tally.learners - tally.abandoned - set(credentials.stacked)),
            "learners without the stacked credential",
        ),
        (
            "pathways_stacked_twice",
            [learner for learner, events in credentials.stacked.items() if len(events) > 1],
            "learners with more than one stacked credential",
        ),
        ("dead_letters", [f"{dead_letters} records"] if dead_letters else [], "dead-lettered"),
    ]
    for kind, keys, what in findings:
        result.note(kind, keys, what)
    if held_per_api is not None:
        issued = credentials.ids()
        differ = [
            learner
            for learner in tally.learners
            if held_per_api.get(learner, set()) != issued.get(learner, set())
        ]
        result.note(
            "api_disagrees",
            differ,
            "learners whose credentials in the issuance API differ from the events",
        )
    if unverified is not None:
        result.note(
            "credentials_not_verified",
            [f"{cid}: {why}" for cid, why in unverified.items()],
            "credentials that do not verify",
        )
    return result
