"""Following learners along pathways: progress announced when it changes, a completion
announced once, and a stacked credential whose basis is gone announced for revocation; what
the learner sees of it; partners defining pathways; the offerings that would close a gap.

Every change to a learner's credentials, and every new version of a pathway, runs the same
re-evaluation; it is idempotent, so a redelivered or replayed event announces nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from services.recognition.domain import (
    AnnouncedProgress,
    Completion,
    DefinedOtherwise,
    HeldCredential,
    LearnerRecord,
    NotTheOwner,
    OfferingSummary,
    Progress,
    Suggestion,
    evaluate,
    next_version,
    offering_summary,
    suggestions,
)
from services.recognition.unit_of_work import RecognitionUnitOfWork
from shared.clock import utc_now
from shared.errors import LostRace
from shared.events import OfferingWithdrawn, PathwayCompleted, PathwayProgressed
from shared.events.pathways import PathwayCompletionRevoked, PathwayDefined
from shared.offering_views import OfferingEvent, supersedes


def display_name(title: Mapping[str, str]) -> str:
    """One language of a multilingual title: English where there is one."""
    return title.get("en") or next(iter(title.values()))


def offering_titles(offerings: Sequence[OfferingSummary]) -> dict[str, str]:
    """Offering id -> "Title (partner)", for what is missing."""
    return {o.offering_id: f"{display_name(o.title)} ({o.partner_id})" for o in offerings}


class PathwayTracker:
    """Re-evaluates learners within one unit of work, reading each offering title once
    however many learners it judges (the pathways' repository keeps what it parsed)."""

    def __init__(self, uow: RecognitionUnitOfWork) -> None:
        self._uow = uow
        self._titles: dict[str, str] = {}

    async def learner_changed(self, learner_id: str, record: LearnerRecord | None = None) -> None:
        """A credential of the learner was issued, revoked, suspended or reinstated: every
        pathway again, on `record` when the caller has just read it."""
        uow = self._uow
        if record is None:
            record = await uow.learners.record(learner_id)
        definitions = await uow.pathways.all_current()
        await self._know_titles(definitions)
        for definition in definitions:
            pathway_id = definition.pathway_id
            await self._follow(
                learner_id,
                definition,
                record.credentials,
                record.announced.get(pathway_id),
                [c for c in record.completions if c.pathway_id == pathway_id],
            )

    async def pathway_changed(self, definition: PathwayDefined) -> None:
        """A new version of a pathway: every learner again on it, read in a few queries
        however many learners there are."""
        uow = self._uow
        await self._know_titles([definition])
        announced = await uow.progress.of_pathway(definition.pathway_id)
        completions: dict[str, list[Completion]] = {}
        for completion in await uow.completions.of_pathway(definition.pathway_id):
            completions.setdefault(completion.learner_id, []).append(completion)
        for learner_id, credentials in (await uow.credentials.by_learner()).items():
            await self._follow(
                learner_id,
                definition,
                credentials,
                announced.get(learner_id),
                completions.get(learner_id, []),
            )

    async def stacked_issued(
        self, stacked: HeldCredential, component_ids: Sequence[str], record: LearnerRecord
    ) -> LearnerRecord:
        """Ties a stacked credential to the completion it was issued for. When that
        completion has lost its basis meanwhile, the credential is announced for revocation
        at once. Returns the learner's record with the completion as it now stands, so the
        re-evaluation that follows need not read it again."""
        completions = record.completions
        waiting = [
            c
            for c in completions
            if c.pathway_id == stacked.pathway_id and c.stacked_credential_id is None
        ]
        same = [c for c in waiting if set(c.component_ids) == set(component_ids)]
        if not waiting:
            return record  # issued without a completion known here; _complete adopts it
        completion = (same or waiting)[0]
        await self._uow.completions.attach_stacked(completion, stacked.credential_id)
        tied = replace(completion, stacked_credential_id=stacked.credential_id)
        if not completion.standing:
            definition = await self._uow.pathways.at_version(
                completion.pathway_id, completion.pathway_version
            )
            if definition is not None:
                await self._announce_revocation(
                    definition,
                    completion,
                    stacked.credential_id,
                    completion.revoked_component_ids,
                    str(completion.lost_reason),
                )
                tied = replace(tied, revocation_announced=True)
        return replace(
            record, completions=tuple(tied if c is completion else c for c in completions)
        )

    async def _know_titles(self, definitions: Sequence[PathwayDefined]) -> None:
        """Reads, in one query, the titles of the required modules: the only offerings
        named in what is missing."""
        required = {o for d in definitions for o in d.criteria.required_offering_ids}
        if required:
            self._titles.update(offering_titles(await self._uow.offerings.some(sorted(required))))

    async def _follow(
        self,
        learner_id: str,
        definition: PathwayDefined,
        credentials: Sequence[HeldCredential],
        announced: AnnouncedProgress | None,
        completions: Sequence[Completion],
    ) -> None:
        """One learner on one pathway; `completions` newest first."""
        progress = evaluate(definition, credentials, self._titles)
        await self._announce_progress(learner_id, definition, progress, announced)
        standing = next((c for c in completions if c.standing), None)
        if standing is not None:
            reached_under = await self._uow.pathways.at_version(
                standing.pathway_id, standing.pathway_version
            )
            # Judged on the version it was reached under: a later version of the pathway
            # does not take away what was earned, nor does a suspension, which may be lifted.
            standing_on = [c.reinstated() for c in credentials]
            if reached_under is None or evaluate(reached_under, standing_on).complete:
                return
            await self._lose(reached_under, standing, credentials)
        if progress.complete:
            await self._complete(learner_id, definition, progress, credentials, completions)

    async def _announce_progress(
        self,
        learner_id: str,
        definition: PathwayDefined,
        progress: Progress,
        announced: AnnouncedProgress | None,
    ) -> None:
        now = AnnouncedProgress.of(progress)
        if announced == now or (announced is None and not progress.counted):
            return
        await self._uow.progress.save(learner_id, definition.pathway_id, now)
        self._uow.record(
            PathwayProgressed(
                pathway_id=definition.pathway_id,
                pathway_version=definition.version,
                owner_partner_id=definition.owner_partner_id,
                learner_id=learner_id,
                counted_credential_ids=progress.counted_ids,
                ects_earned=progress.ects_earned,
                ects_required=progress.ects_required,
                partners_counted=progress.partners_counted,
                missing_requirements=progress.missing,
                progressed_at=utc_now(),
            )
        )

    async def _complete(
        self,
        learner_id: str,
        definition: PathwayDefined,
        progress: Progress,
        credentials: Sequence[HeldCredential],
        completions: Sequence[Completion],
    ) -> None:
        held = [c for c in credentials if c.pathway_id == definition.pathway_id and c.counts]
        if held:
            # The learner already holds a valid stacked credential for it (the log is being
            # replayed, or it was issued before a revocation reached it): no second one.
            tied = {c.stacked_credential_id for c in completions}
            untied = [c for c in held if c.credential_id not in tied]
            if untied:
                await self._uow.completions.add(
                    learner_id,
                    definition.pathway_id,
                    definition.version,
                    progress.counted_ids,
                    untied[0].credential_id,
                )
            return
        await self._uow.completions.add(
            learner_id, definition.pathway_id, definition.version, progress.counted_ids
        )
        self._uow.record(
            PathwayCompleted(
                pathway_id=definition.pathway_id,
                pathway_version=definition.version,
                owner_partner_id=definition.owner_partner_id,
                learner_id=learner_id,
                title=definition.title,
                component_credential_ids=progress.counted_ids,
                ects_earned=progress.ects_earned,
                completed_at=utc_now(),
            )
        )

    async def _lose(
        self,
        reached_under: PathwayDefined,
        completion: Completion,
        credentials: Sequence[HeldCredential],
    ) -> None:
        by_id = {c.credential_id: c for c in credentials}
        revoked = [by_id[i] for i in completion.component_ids if i in by_id and not by_id[i].counts]
        still_missing = evaluate(reached_under, credentials, self._titles).missing
        causes = ", ".join(
            f"{display_name(c.title)} ({c.credential_id}, {c.revocation_reason})" for c in revoked
        )
        reason = (
            f"{causes or 'A component credential'} was revoked, so "
            f"{display_name(reached_under.title)} is no longer complete; still missing: "
            f"{'; '.join(still_missing)}."
        )
        revoked_ids = [c.credential_id for c in revoked] or list(completion.component_ids)
        await self._uow.completions.lose(completion, reason, revoked_ids)
        stacked = by_id.get(completion.stacked_credential_id or "")
        if stacked is not None and stacked.counts:
            await self._announce_revocation(
                reached_under, completion, stacked.credential_id, revoked_ids, reason
            )

    async def _announce_revocation(
        self,
        definition: PathwayDefined,
        completion: Completion,
        stacked_credential_id: str,
        revoked_ids: Sequence[str],
        reason: str,
    ) -> None:
        if completion.revocation_announced:
            return
        await self._uow.completions.announce_revocation(completion)
        self._uow.record(
            PathwayCompletionRevoked(
                pathway_id=definition.pathway_id,
                pathway_version=completion.pathway_version,
                owner_partner_id=definition.owner_partner_id,
                learner_id=completion.learner_id,
                stacked_credential_id=stacked_credential_id,
                revoked_component_credential_ids=tuple(revoked_ids),
                reason=reason,
                revoked_at=utc_now(),
            )
        )


# --- what the learner sees -----------------------------------------------------------------


@dataclass(frozen=True)
class PathwayReport:
    definition: PathwayDefined
    progress: Progress
    status: str  # in_progress | complete | credential_issued | completion_revoked
    stacked_credential_id: str | None
    notice: str | None
    suggestions: tuple[Suggestion, ...]


def _status(
    progress: Progress, completions: Sequence[Completion]
) -> tuple[str, str | None, str | None]:
    standing = next((c for c in completions if c.standing), None)
    if standing is not None:
        issued = standing.stacked_credential_id
        return ("credential_issued" if issued else "complete"), issued, None
    latest = completions[0] if completions else None
    if latest is not None and not progress.complete:
        return "completion_revoked", latest.stacked_credential_id, latest.lost_reason
    return ("complete" if progress.complete else "in_progress"), None, None


async def learner_progress(
    uow: RecognitionUnitOfWork, learner_id: str, pathway_id: str | None = None
) -> list[PathwayReport]:
    """The learner's standing on every pathway (or one): what counts, what is missing, and
    which open offerings at which partners would close the gap."""
    if pathway_id is None:
        wanted = list(await uow.pathways.all_current())
    else:
        one = await uow.pathways.current(pathway_id)
        wanted = [one] if one else []
    credentials = await uow.credentials.of_learner(learner_id)
    offerings = await uow.offerings.all()
    titles = offering_titles(offerings)
    held = {str(c.offering_id) for c in credentials if c.counts and c.offering_id}
    reports = []
    for definition in wanted:
        progress = evaluate(definition, credentials, titles)
        status, stacked, notice = _status(
            progress, await uow.completions.of_learner(learner_id, definition.pathway_id)
        )
        reports.append(
            PathwayReport(
                definition=definition,
                progress=progress,
                status=status,
                stacked_credential_id=stacked,
                notice=notice,
                suggestions=tuple(suggestions(definition, progress, offerings, held)),
            )
        )
    return reports


# --- pathway definitions -------------------------------------------------------------------


async def define_pathway(
    uow: RecognitionUnitOfWork,
    draft: Mapping[str, object],
    *,
    new: bool,
    expected_version: int | None = None,
) -> PathwayDefined:
    """Stores the next version of a pathway and announces it (`pathway.defined`); learners
    are re-evaluated when the consumer reads the event back, as for a definition a partner's
    own system publishes. Of two concurrent changes only one stores a version: the other
    lost the race and is run again on the newer version."""
    pathway_id = str(draft["pathway_id"])
    version = next_version(
        pathway_id,
        await uow.pathways.current(pathway_id),
        str(draft["owner_partner_id"]),
        new=new,
        expected_version=expected_version,
    )
    definition = PathwayDefined.model_validate(
        {**draft, "version": version, "defined_at": utc_now()}
    )
    if not await uow.pathways.add(definition):
        raise LostRace(f"Pathway {pathway_id} changed meanwhile; retry.")
    uow.record(definition)
    return definition


async def pathway_defined(uow: RecognitionUnitOfWork, event: PathwayDefined) -> None:
    """A version announced by the owner's system or by this API: stored unless known, and
    every learner judged again on it."""
    current = await uow.pathways.current(event.pathway_id)
    if current is not None and current.owner_partner_id != event.owner_partner_id:
        raise NotTheOwner(
            f"pathway {event.pathway_id} belongs to {current.owner_partner_id}, "
            f"not {event.owner_partner_id}"
        )
    if current is not None and current.version > event.version:
        return  # an older version, read late or again: the newer one stands
    if current is None or current.version < event.version:
        if not await uow.pathways.add(event):
            raise LostRace(f"pathway {event.pathway_id} version {event.version} stored meanwhile")
    elif current != event:
        raise DefinedOtherwise(
            f"pathway {event.pathway_id} version {event.version} is already defined otherwise"
        )
    # Also when the API stored this version already: learners are re-evaluated here only.
    await PathwayTracker(uow).pathway_changed(event)


# --- offerings, to suggest what would close a gap ------------------------------------------


async def apply_offering_event(uow: RecognitionUnitOfWork, event: OfferingEvent) -> None:
    """Keeps the view of an offering at its newest version; another partner's event for it
    is refused (`OfferingConflict`)."""
    if not supersedes(event, await uow.offerings.version_of(event.offering_id)):
        return
    if isinstance(event, OfferingWithdrawn):
        await uow.offerings.withdraw(event.offering_id, event.version)
    else:
        await uow.offerings.save(offering_summary(event), event.version)
