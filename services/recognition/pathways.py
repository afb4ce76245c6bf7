"""Following learners along pathways: progress announced when it changes, a completion
announced once, and a stacked credential whose basis is gone announced for revocation.

Every change to a learner's credentials, and every new version of a pathway, runs the same
re-evaluation; it is idempotent, so a redelivered or replayed event announces nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from services.recognition.domain import (
    HeldCredential,
    OfferingSummary,
    Progress,
    Suggestion,
    evaluate,
    suggestions,
)
from services.recognition.repository import (
    Completion,
    Completions,
    CredentialLedger,
    Offerings,
    PathwayDefinitions,
    ProgressStore,
)
from shared.clock import utc_now
from shared.db.uow import UnitOfWork
from shared.events import PathwayCompleted, PathwayProgressed
from shared.events.pathways import PathwayCompletionRevoked, PathwayDefined


def display_name(title: Mapping[str, str]) -> str:
    """One language of a multilingual title: English where there is one."""
    return title.get("en") or next(iter(title.values()))


def offering_titles(offerings: Sequence[OfferingSummary]) -> dict[str, str]:
    """Offering id -> "Title (partner)", for what is missing."""
    return {o.offering_id: f"{display_name(o.title)} ({o.partner_id})" for o in offerings}


def _standing(progress: Progress) -> dict[str, object]:
    """What decides whether progress changed (not the texts: an offering's title arriving
    late changes them, not the learner's standing)."""
    return {
        "version": progress.pathway_version,
        "counted": sorted(progress.counted_ids),
        "ects": progress.ects_earned,
        "partners": list(progress.partners_counted),
        "missing_partners": progress.missing_partners,
        "missing_offerings": list(progress.missing_offering_ids),
        "complete": progress.complete,
    }


class PathwayTracker:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        session = uow.session
        self._ledger = CredentialLedger(session)
        self._definitions = PathwayDefinitions(session)
        self._progress = ProgressStore(session)
        self._completions = Completions(session)
        self._offerings = Offerings(session)
        self._versions: dict[tuple[str, int], PathwayDefined | None] = {}
        self._titles: dict[str, str] = {}

    async def learner_changed(self, learner_id: str) -> None:
        """A credential of the learner was issued, revoked, suspended or reinstated: every
        pathway again."""
        credentials = await self._ledger.of_learner(learner_id)
        announced = await self._progress.of_learner(learner_id)
        completions = await self._completions.of_learner(learner_id)
        definitions = await self._definitions.all_current()
        await self._know_titles(definitions)
        for definition in definitions:
            pathway_id = definition.pathway_id
            await self._follow(
                learner_id,
                definition,
                credentials,
                announced.get(pathway_id),
                [c for c in completions if c.pathway_id == pathway_id],
            )

    async def pathway_changed(self, definition: PathwayDefined) -> None:
        """A new version of a pathway: every learner again on it, read in a few queries
        however many learners there are."""
        await self._know_titles([definition])
        announced = await self._progress.of_pathway(definition.pathway_id)
        completions: dict[str, list[Completion]] = {}
        for completion in await self._completions.of_pathway(definition.pathway_id):
            completions.setdefault(completion.learner_id, []).append(completion)
        for learner_id, credentials in (await self._ledger.by_learner()).items():
            await self._follow(
                learner_id,
                definition,
                credentials,
                announced.get(learner_id),
                completions.get(learner_id, []),
            )

    async def stacked_issued(self, stacked: HeldCredential, component_ids: Sequence[str]) -> None:
        """Ties a stacked credential to the completion it was issued for. When that
        completion has lost its basis meanwhile, the credential is announced for revocation
        at once."""
        waiting = [
            c
            for c in await self._completions.of_learner(stacked.learner_id, stacked.pathway_id)
            if c.stacked_credential_id is None
        ]
        same = [c for c in waiting if set(c.component_ids) == set(component_ids)]
        if not waiting:
            return  # issued without a completion known here; _reevaluate adopts it
        completion = (same or waiting)[0]
        await self._completions.attach_stacked(completion.completion_id, stacked.credential_id)
        if not completion.standing:
            definition = await self._definitions.at_version(
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

    async def _reached_under(self, pathway_id: str, version: int) -> PathwayDefined | None:
        if (pathway_id, version) not in self._versions:
            self._versions[pathway_id, version] = await self._definitions.at_version(
                pathway_id, version
            )
        return self._versions[pathway_id, version]

    async def _know_titles(self, definitions: Sequence[PathwayDefined]) -> None:
        """Reads, in one query, the titles of the required modules: the only offerings
        named in what is missing."""
        required = {o for d in definitions for o in d.criteria.required_offering_ids}
        if required:
            self._titles.update(offering_titles(await self._offerings.some(sorted(required))))

    async def _follow(
        self,
        learner_id: str,
        definition: PathwayDefined,
        credentials: Sequence[HeldCredential],
        announced: dict[str, object] | None,
        completions: Sequence[Completion],
    ) -> None:
        """One learner on one pathway; `completions` newest first."""
        progress = evaluate(definition, credentials, self._titles)
        await self._announce_progress(learner_id, definition, progress, announced)
        standing = next((c for c in completions if c.standing), None)
        if standing is not None:
            reached_under = await self._reached_under(standing.pathway_id, standing.pathway_version)
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
        announced: dict[str, object] | None,
    ) -> None:
        standing = _standing(progress)
        if announced == standing or (announced is None and not progress.counted):
            return
        await self._progress.save(learner_id, definition.pathway_id, standing)
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
                self._completions.add(
                    learner_id,
                    definition.pathway_id,
                    definition.version,
                    progress.counted_ids,
                    untied[0].credential_id,
                )
            return
        self._completions.add(
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
        await self._completions.lose(completion.completion_id, reason, revoked_ids)
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
        await self._completions.announce_revocation(completion.completion_id)
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
    session: AsyncSession, learner_id: str, pathway_id: str | None = None
) -> list[PathwayReport]:
    """The learner's standing on every pathway (or one): what counts, what is missing, and
    which open offerings at which partners would close the gap."""
    definitions = PathwayDefinitions(session)
    if pathway_id is None:
        wanted = list(await definitions.all_current())
    else:
        one = await definitions.current(pathway_id)
        wanted = [one] if one else []
    credentials = await CredentialLedger(session).of_learner(learner_id)
    offerings = await Offerings(session).all()
    titles = offering_titles(offerings)
    held = {str(c.offering_id) for c in credentials if c.counts and c.offering_id}
    completions = Completions(session)
    reports = []
    for definition in wanted:
        progress = evaluate(definition, credentials, titles)
        status, stacked, notice = _status(
            progress, await completions.of_learner(learner_id, definition.pathway_id)
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


# --- partners defining pathways through the API --------------------------------------------


class DefinitionRefused(Exception):
    """A definition the API cannot accept; the message says why."""


class PathwayExists(DefinitionRefused):
    pass


class PathwayUnknown(DefinitionRefused):
    pass


class NotTheOwner(DefinitionRefused):
    pass


class VersionMismatch(DefinitionRefused):
    pass


async def define_pathway(
    uow: UnitOfWork,
    draft: Mapping[str, object],
    *,
    new: bool,
    expected_version: int | None = None,
) -> PathwayDefined:
    """Stores the next version of a pathway and announces it (`pathway.defined`) in one
    transaction; learners are re-evaluated when the consumer reads the event back, as for a
    definition a partner's own system publishes. Two concurrent changes cannot both store
    the same version: the second fails on the primary key when it commits."""
    definitions = PathwayDefinitions(uow.session)
    pathway_id = str(draft["pathway_id"])
    latest = await definitions.latest_version(pathway_id)
    if new and latest is not None:
        raise PathwayExists(f"Pathway {pathway_id} exists; change it with PUT.")
    if not new and latest is None:
        raise PathwayUnknown(f"No pathway {pathway_id}.")
    if latest is not None and latest.owner_partner_id != draft["owner_partner_id"]:
        raise NotTheOwner(f"Pathway {pathway_id} belongs to {latest.owner_partner_id}.")
    version = latest.version if latest else 0
    if expected_version is not None and expected_version != version:
        raise VersionMismatch(
            f"Pathway {pathway_id} is at version {version}, not {expected_version}."
        )
    definition = PathwayDefined.model_validate(
        {**draft, "version": version + 1, "defined_at": utc_now()}
    )
    definitions.add(definition)
    uow.record(definition)
    await uow.commit()
    return definition
