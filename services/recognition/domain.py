"""Recognition rules in plain Python: which credentials count for a learner, how far they go
towards each pathway, and whether a partner's published rules recognise a credential; and the
service's refusals."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, NamedTuple, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.errors import Conflict, Invalid, NotFound, NotPermitted, NotYet, Stale
from shared.events import CredentialIssued, RecognitionDecision
from shared.events.catalogue import OfferingPublished, OfferingUpdated
from shared.events.pathways import PathwayDefined
from shared.events.vocabulary import EqfLevel, EscoSkillUri, ShortText, Unique

# --- refusals ------------------------------------------------------------------------------


class PathwayNotFound(NotFound):
    title = "Pathway not found"


class PathwayExists(Conflict):
    title = "Pathway exists"


class NotTheOwner(NotPermitted):
    """A pathway changed by another partner than its owner."""


class VersionMismatch(Stale):
    pass


class DefinedOtherwise(Conflict):
    """A pathway version announced again with other content."""


class CredentialNotKnownYet(NotYet):
    """An event about a credential whose issue has not reached recognition yet: it waits
    until the issue is applied (which releases `credential_fact`)."""

    def __init__(self, credential_id: str) -> None:
        super().__init__(
            credential_fact(credential_id), f"credential {credential_id} not known yet"
        )


class CredentialNotHeld(NotFound):
    title = "Credential not found"


class CredentialNoLongerValid(Conflict):
    title = "Credential revoked"


class CredentialOnHold(Conflict):
    """Suspended by its awarding partner: nothing is decided on it until it is reinstated."""

    title = "Credential suspended"


class NotForThisPartner(Invalid):
    title = "Invalid request"


class AlreadyRequested(Conflict):
    title = "Already requested"


class RecognitionNotFound(NotFound):
    title = "Recognition not found"


class NotPending(Conflict):
    title = "Already decided"


def credential_fact(credential_id: str) -> str:
    """The fact that recognition knows a credential, which deferred events wait for."""
    return f"credential:{credential_id}"


# --- credentials ---------------------------------------------------------------------------


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


def held_credential(event: CredentialIssued) -> HeldCredential:
    """What recognition keeps of an issued credential."""
    return HeldCredential(
        credential_id=event.credential_id,
        learner_id=event.learner_id,
        offering_id=event.offering_id,
        pathway_id=event.pathway_id,
        awarding_partner_id=event.awarding_partner_id,
        ects=float(event.achievement.ects),
        eqf_level=event.achievement.eqf_level,
        title=dict(event.achievement.title),
        skill_uris=event.achievement.skill_uris,
        issued_at=event.issued_at,
    )


def not_on_hold(credential: HeldCredential) -> None:
    if credential.suspended_at is not None:
        raise CredentialOnHold(
            f"Credential {credential.credential_id} is suspended by its awarding partner; "
            "recognition can be asked for and decided once it is reinstated."
        )


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


@dataclass(frozen=True)
class AnnouncedProgress:
    """What decides whether progress changed, as last announced (not the texts: an
    offering's title arriving late changes them, not the learner's standing)."""

    version: int
    counted: tuple[str, ...]
    ects: float
    partners: tuple[str, ...]
    missing_partners: int
    missing_offerings: tuple[str, ...]
    complete: bool

    @classmethod
    def of(cls, progress: Progress) -> AnnouncedProgress:
        return cls(
            version=progress.pathway_version,
            counted=tuple(sorted(progress.counted_ids)),
            ects=progress.ects_earned,
            partners=progress.partners_counted,
            missing_partners=progress.missing_partners,
            missing_offerings=progress.missing_offering_ids,
            complete=progress.complete,
        )


@dataclass(frozen=True)
class Completion:
    """A learner's completion of a pathway, the stacked credential issued for it, and when
    and why it lost its basis."""

    completion_id: int
    learner_id: str
    pathway_id: str
    pathway_version: int
    component_ids: tuple[str, ...]
    completed_at: dt.datetime
    stacked_credential_id: str | None
    lost_at: dt.datetime | None
    lost_reason: str | None
    revoked_component_ids: tuple[str, ...]
    revocation_announced: bool

    @property
    def standing(self) -> bool:
        return self.lost_at is None


@dataclass(frozen=True)
class LearnerRecord:
    """What every change to a learner's credentials judges them on again: their credentials
    in the order issued, the progress announced to them by pathway, their completions newest
    first."""

    credentials: tuple[HeldCredential, ...]
    announced: Mapping[str, AnnouncedProgress]
    completions: tuple[Completion, ...]


def next_version(
    pathway_id: str,
    current: PathwayDefined | None,
    owner_partner_id: str,
    *,
    new: bool,
    expected_version: int | None,
) -> int:
    """The version a partner's definition through the API gives the pathway, if it may."""
    if new and current is not None:
        raise PathwayExists(f"Pathway {pathway_id} exists; change it with PUT.")
    if not new and current is None:
        raise PathwayNotFound(f"No pathway {pathway_id}.")
    if current is not None and current.owner_partner_id != owner_partner_id:
        raise NotTheOwner(f"Pathway {pathway_id} belongs to {current.owner_partner_id}.")
    version = current.version if current else 0
    if expected_version is not None and expected_version != version:
        raise VersionMismatch(
            f"Pathway {pathway_id} is at version {version}, not {expected_version}."
        )
    return version + 1


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


def offering_summary(event: OfferingPublished | OfferingUpdated) -> OfferingSummary:
    return OfferingSummary(
        offering_id=event.offering_id,
        partner_id=event.partner_id,
        title=dict(event.title),
        ects=float(event.workload.ects),
        eqf_level=event.eqf_level,
        end_date=event.end_date,
        open=True,
    )


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
class PublishedRules:
    """A partner's rules as published: version 0, never changed, when it published none."""

    partner_id: str
    rules: RuleSet
    version: int
    updated_at: dt.datetime | None


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


PENDING = "pending"
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Recognition:
    """A learner's request that a partner recognise a credential towards a programme, and
    what became of it: `status` pending, recognised, refused or withdrawn, with the
    reasons."""

    recognition_id: str
    learner_id: str
    credential_id: str
    recognising_partner_id: str
    programme: str
    status: str
    reasons: tuple[str, ...]
    requested_at: dt.datetime
    automatic: bool | None = None
    decided_at: dt.datetime | None = None
    withdrawn_at: dt.datetime | None = None

    @property
    def pending(self) -> bool:
        return self.status == PENDING

    @property
    def recognised(self) -> bool:
        return self.status == RecognitionDecision.RECOGNISED.value

    def decided(
        self,
        decision: RecognitionDecision,
        reasons: Sequence[str],
        automatic: bool,
        at: dt.datetime,
    ) -> Recognition:
        return replace(
            self,
            status=decision.value,
            automatic=automatic,
            reasons=tuple(dict.fromkeys(reasons)),
            decided_at=at,
        )

    def withdrawn(self, why: str, at: dt.datetime) -> Recognition:
        return replace(self, status=WITHDRAWN, withdrawn_at=at, reasons=(*self.reasons, why))
