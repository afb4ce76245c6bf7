"""Recognition rules in plain Python: which credentials count for a learner, how far they go
towards each pathway, and whether a partner's published rules recognise a credential."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, NamedTuple, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events import RecognitionDecision
from shared.events.pathways import PathwayDefined
from shared.events.vocabulary import EqfLevel, EscoSkillUri, ShortText, Unique


@dataclass(frozen=True)
class HeldCredential:
    credential_id: str
    learner_id: str
    offering_id: str | None
    pathway_id: str | None
    awarding_partner_id: str
    ects: float
    eqf_level: int
    title: dict[str, str]
    issued_at: dt.datetime
    skill_uris: tuple[str, ...] = ()
    revoked_at: dt.datetime | None = None
    revocation_reason: str | None = None
    suspended_at: dt.datetime | None = None

    @property
    def counts(self) -> bool:
        """A revoked credential no longer counts towards anything."""
        return self.revoked_at is None

    def reinstated(self) -> HeldCredential:
        """As it stands once reinstated: what was earned on it is judged this way, so a
        suspension takes nothing away for good."""
        return replace(self, suspended_at=None)

    @property
    def is_stacked(self) -> bool:
        """Issued for a completed pathway, not for an offering."""
        return self.pathway_id is not None


# --- pathways ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """A learner's standing on one version of a pathway."""

    pathway_id: str
    pathway_version: int
    counted: tuple[HeldCredential, ...]
    not_counted: tuple[tuple[HeldCredential, str], ...]
    ects_earned: float
    ects_required: float
    partners_counted: tuple[str, ...]
    missing_partners: int
    missing_offering_ids: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def counted_ids(self) -> tuple[str, ...]:
        return tuple(c.credential_id for c in self.counted)

    @property
    def missing_ects(self) -> float:
        return max(0.0, self.ects_required - self.ects_earned)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day `months` later, or the month's last day when it is shorter."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _number(value: float) -> str:
    return f"{value:g}"


def _why_not(credential: HeldCredential, definition: PathwayDefined) -> str | None:
    """Why `credential` cannot count towards the pathway at all, or None if it can."""
    criteria = definition.criteria
    if not credential.counts:
        return f"revoked ({credential.revocation_reason or 'no reason given'})"
    if credential.suspended_at is not None:
        return "suspended by its awarding partner: it counts again once reinstated"
    if credential.is_stacked or credential.offering_id is None:
        return "a stacked credential does not count towards pathways"
    eligible = (*criteria.required_offering_ids, *criteria.eligible_offering_ids)
    if criteria.eligible_offering_ids and credential.offering_id not in eligible:
        return "its offering is not part of this pathway"
    if criteria.min_eqf_level and credential.eqf_level < criteria.min_eqf_level:
        return f"EQF {credential.eqf_level} is below the required EQF {criteria.min_eqf_level}"
    issued_on = credential.issued_at.date()
    if criteria.issued_from and issued_on < criteria.issued_from:
        return f"issued before {criteria.issued_from.isoformat()}"
    if criteria.issued_until and issued_on > criteria.issued_until:
        return f"issued after {criteria.issued_until.isoformat()}"
    return None


def _judge(
    definition: PathwayDefined,
    counted: Sequence[HeldCredential],
    not_counted: Sequence[tuple[HeldCredential, str]],
    titles: Mapping[str, str],
) -> Progress:
    criteria = definition.criteria
    ects = sum(c.ects for c in counted)
    partners = tuple(sorted({c.awarding_partner_id for c in counted}))
    held_offerings = {c.offering_id for c in counted}
    missing_offerings = tuple(o for o in criteria.required_offering_ids if o not in held_offerings)
    missing_partners = max(0, criteria.min_partners - len(partners))
    missing: list[str] = []
    if ects < criteria.min_ects:
        level = f" at EQF {criteria.min_eqf_level} or above" if criteria.min_eqf_level else ""
        missing.append(
            f"{_number(criteria.min_ects - ects)} more ECTS{level} "
            f"({_number(ects)} of {_number(criteria.min_ects)} earned)"
        )
    if missing_partners:
        so_far = f" (so far: {', '.join(partners)})" if partners else ""
        plural = "partner" if missing_partners == 1 else "partners"
        missing.append(f"credentials from {missing_partners} more awarding {plural}{so_far}")
    missing.extend(f"the module {titles.get(o, o)}" for o in missing_offerings)
    return Progress(
        pathway_id=definition.pathway_id,
        pathway_version=definition.version,
        counted=tuple(counted),
        not_counted=tuple(not_counted),
        ects_earned=ects,
        ects_required=criteria.min_ects,
        partners_counted=partners,
        missing_partners=missing_partners,
        missing_offering_ids=missing_offerings,
        missing=tuple(missing),
    )


def _closeness(progress: Progress) -> tuple[bool, int, float]:
    gaps = len(progress.missing_offering_ids) + progress.missing_partners
    return progress.complete, -gaps, min(progress.ects_earned, progress.ects_required)


def evaluate(
    definition: PathwayDefined,
    credentials: Sequence[HeldCredential],
    titles: Mapping[str, str] | None = None,
) -> Progress:
    """How far `credentials` go towards the pathway. `titles` names offerings (id -> text)
    in what is missing; ids are used where it has no entry.

    At most one credential counts per offering (the latest). With a time window of N
    months, the credentials counted are those of the best N-month window: a complete one
    if there is one, else the one with the fewest gaps and the most ECTS.
    """
    titles = titles or {}
    not_counted: list[tuple[HeldCredential, str]] = []
    latest: dict[str, HeldCredential] = {}
    for credential in sorted(credentials, key=lambda c: c.issued_at):
        reason = _why_not(credential, definition)
        if reason is not None:
            not_counted.append((credential, reason))
            continue
        offering_id = str(credential.offering_id)
        if offering_id in latest:
            not_counted.append((latest[offering_id], "a later credential for the same offering"))
        latest[offering_id] = credential
    eligible = sorted(latest.values(), key=lambda c: c.issued_at)
    months = definition.criteria.within_months
    if not months or not eligible:
        return _judge(definition, eligible, not_counted, titles)
    best: Progress | None = None
    for start in eligible:
        end = add_months(start.issued_at, months)
        inside = [c for c in eligible if start.issued_at <= c.issued_at <= end]
        outside = [
            (c, f"outside the best {months}-month window") for c in eligible if c not in inside
        ]
        candidate = _judge(definition, inside, [*not_counted, *outside], titles)
        if best is None or _closeness(candidate) > _closeness(best):
            best = candidate
    assert best is not None  # eligible is not empty
    if best.complete or len(best.counted) == len(eligible):
        return best
    note = f"credentials issued within {months} months of each other (others do not count together)"
    return replace(best, missing=(*best.missing, note))


@dataclass(frozen=True)
class OfferingSummary:
    """What recognition knows of an offering, to suggest what would complete a pathway."""

    offering_id: str
    partner_id: str
    title: dict[str, str]
    ects: float
    eqf_level: int
    end_date: dt.date
    open: bool


class OfferingVersion(NamedTuple):
    """Which partner recognition holds an offering for, at which version."""

    partner_id: str
    version: int


@dataclass(frozen=True)
class Suggestion:
    offering: OfferingSummary
    why: str


def suggestions(
    definition: PathwayDefined,
    progress: Progress,
    offerings: Sequence[OfferingSummary],
    held_offering_ids: set[str],
) -> list[Suggestion]:
    """Open offerings that would close a gap: the missing modules first, then offerings at
    partners not counted yet, then any that add ECTS (largest first)."""
    if progress.complete:
        return []
    criteria = definition.criteria
    eligible = set(criteria.required_offering_ids) | set(criteria.eligible_offering_ids)
    candidates = [
        o
        for o in sorted(offerings, key=lambda o: (-o.ects, o.offering_id))
        if o.open
        and o.offering_id not in held_offering_ids
        and (not criteria.eligible_offering_ids or o.offering_id in eligible)
        and (not criteria.min_eqf_level or o.eqf_level >= criteria.min_eqf_level)
        and (not criteria.issued_until or o.end_date <= criteria.issued_until)
    ]
    found: dict[str, Suggestion] = {}
    for offering in candidates:
        if offering.offering_id in progress.missing_offering_ids:
            found[offering.offering_id] = Suggestion(offering, "a required module")
    for offering in candidates:
        if progress.missing_partners and offering.partner_id not in progress.partners_counted:
            found.setdefault(
                offering.offering_id, Suggestion(offering, "from a partner not counted yet")
            )
    for offering in candidates:
        if progress.missing_ects:
            found.setdefault(
                offering.offering_id, Suggestion(offering, f"adds {_number(offering.ects)} ECTS")
            )
    return list(found.values())


# --- recognition between partners ----------------------------------------------------------


class RecognitionRule(BaseModel):
    """A recognising partner's rule for one of its programmes: a credential that meets all
    of it is recognised without a person; otherwise staff decide, unless the rule says to
    refuse what does not meet it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    programme: ShortText
    programme_eqf_level: EqfLevel = Field(description="The programme's EQF level.")
    levels_below_allowed: Annotated[int, Field(ge=0, le=7)] = Field(
        default=0,
        description="How many EQF levels below the programme's a credential may be (0: the "
        "same level or higher).",
    )
    min_ects: Annotated[float, Field(ge=0, le=180)] = 0
    skill_uris: Unique[EscoSkillUri] = Field(
        default=(),
        description="Learning outcomes (ESCO skills) the programme recognises; empty: any.",
    )
    min_matching_skills: Annotated[int, Field(ge=1, le=50)] = 1
    refuse_when_unmet: bool = Field(
        default=False, description="Refuse automatically instead of leaving it to staff."
    )


class RuleSet(BaseModel):
    """All recognition rules a partner publishes, at most one per programme."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[RecognitionRule, ...] = ()

    @model_validator(mode="after")
    def _one_rule_per_programme(self) -> Self:
        names = [rule.programme.casefold() for rule in self.rules]
        if len(names) != len(set(names)):
            raise ValueError("each programme may have only one rule")
        return self

    def for_programme(self, programme: str) -> RecognitionRule | None:
        wanted = programme.strip().casefold()
        return next((r for r in self.rules if r.programme.casefold() == wanted), None)


@dataclass(frozen=True)
class RuleOutcome:
    """`decision` None: the rules cannot decide, staff must."""

    decision: RecognitionDecision | None
    reasons: tuple[str, ...]


def apply_rules(
    rules: RuleSet, partner_id: str, programme: str, credential: HeldCredential
) -> RuleOutcome:
    rule = rules.for_programme(programme)
    if rule is None:
        return RuleOutcome(
            None, (f"No published rule of {partner_id} covers {programme}; its staff decide.",)
        )
    met: list[str] = []
    unmet: list[str] = []
    lowest = max(1, rule.programme_eqf_level - rule.levels_below_allowed)
    (met if credential.eqf_level >= lowest else unmet).append(
        f"EQF {credential.eqf_level} {'meets' if credential.eqf_level >= lowest else 'is below'} "
        f"the minimum EQF {lowest} for {rule.programme}"
    )
    (met if credential.ects >= rule.min_ects else unmet).append(
        f"{_number(credential.ects)} ECTS "
        f"{'meet' if credential.ects >= rule.min_ects else 'fall short of'} "
        f"the {_number(rule.min_ects)} ECTS required"
    )
    if rule.skill_uris:
        matching = sorted(set(credential.skill_uris) & set(rule.skill_uris))
        needed = min(rule.min_matching_skills, len(rule.skill_uris))
        (met if len(matching) >= needed else unmet).append(
            f"{len(matching)} of the programme's learning outcomes match (at least {needed} needed)"
        )
    if not unmet:
        return RuleOutcome(RecognitionDecision.RECOGNISED, tuple(met))
    if rule.refuse_when_unmet:
        return RuleOutcome(RecognitionDecision.REFUSED, tuple(unmet))
    return RuleOutcome(None, (*unmet, f"The rules of {partner_id} cannot decide; its staff will."))
