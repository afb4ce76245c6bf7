"""Reads and writes recognition's database: the credential ledger, pathways, progress and
completions, offerings, recognition rules and requests. Each returns domain objects."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import exists, func, insert, inspect, literal, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from services.recognition.domain import (
    AnnouncedProgress,
    Completion,
    HeldCredential,
    OfferingSummary,
    OfferingVersion,
    PublishedRules,
    Recognition,
    RuleSet,
)
from services.recognition.tables import (
    CompletionRecord,
    CredentialRecord,
    OfferingRecord,
    PathwayDefinitionRecord,
    ProgressRecord,
    RecognitionRecord,
    RuleSetRecord,
)
from shared.clock import utc_now
from shared.events.pathways import PathwayDefined


def _rows(columns: tuple[Any, ...]) -> Select[*tuple[Any, ...]]:
    """A select of plain rows of `columns`, loading no record into the session (sqlmodel's
    `select` is typed for a few columns only)."""
    return Select(*columns)


# The ledger's columns in HeldCredential's order: read as plain rows, without loading
# records into the session (the hottest read of every credential event).
_HELD = (
    col(CredentialRecord.credential_id),
    col(CredentialRecord.learner_id),
    col(CredentialRecord.offering_id),
    col(CredentialRecord.pathway_id),
    col(CredentialRecord.awarding_partner_id),
    col(CredentialRecord.ects),
    col(CredentialRecord.eqf_level),
    col(CredentialRecord.title),
    col(CredentialRecord.skill_uris),
    col(CredentialRecord.issued_at),
    col(CredentialRecord.revoked_at),
    col(CredentialRecord.revocation_reason),
    col(CredentialRecord.suspended_at),
)


def _held(row: tuple[Any, ...]) -> HeldCredential:
    (
        credential_id,
        learner_id,
        offering_id,
        pathway_id,
        awarding_partner_id,
        ects,
        eqf_level,
        title,
        skill_uris,
        issued_at,
        revoked_at,
        revocation_reason,
        suspended_at,
    ) = row
    return HeldCredential(
        credential_id=credential_id,
        learner_id=learner_id,
        offering_id=offering_id,
        pathway_id=pathway_id,
        awarding_partner_id=awarding_partner_id,
        ects=ects,
        eqf_level=eqf_level,
        title=json.loads(title),
        skill_uris=tuple(json.loads(skill_uris)),
        issued_at=issued_at,
        revoked_at=revoked_at,
        revocation_reason=revocation_reason,
        suspended_at=suspended_at,
    )


class CredentialLedger:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, credential: HeldCredential) -> list[HeldCredential]:
        """Adds a credential unless the ledger knows its id already (issuance announced it
        once more); returns the learner's credentials in the order issued, with it. One
        statement writes, one reads."""
        values = {
            "credential_id": credential.credential_id,
            "learner_id": credential.learner_id,
            "offering_id": credential.offering_id,
            "pathway_id": credential.pathway_id,
            "awarding_partner_id": credential.awarding_partner_id,
            "ects": credential.ects,
            "eqf_level": credential.eqf_level,
            "title": json.dumps(credential.title, ensure_ascii=False),
            "skill_uris": json.dumps(credential.skill_uris),
            "issued_at": credential.issued_at,
        }
        # Typed as their columns, so PostgreSQL knows what the selected parameters are.
        columns = inspect(CredentialRecord).columns
        selected = tuple(literal(value, columns[name].type) for name, value in values.items())
        unknown = ~exists().where(col(CredentialRecord.credential_id) == credential.credential_id)
        await self._session.exec(
            insert(CredentialRecord).from_select(list(values), _rows(selected).where(unknown))
        )
        return await self.of_learner(credential.learner_id)

    async def revoke(self, credential_id: str, reason: str, at: dt.datetime) -> bool:
        """Marks a credential revoked; False when the ledger does not know it."""
        known = await self.get(credential_id, lock=True)
        if known is None:
            return False
        if known.revoked_at is None:
            await self._session.exec(
                update(CredentialRecord)
                .where(col(CredentialRecord.credential_id) == credential_id)
                .values(revoked_at=at, revocation_reason=reason)
            )
        return True

    async def suspend(self, credential_id: str, at: dt.datetime | None) -> bool:
        """Marks a credential suspended (`at`) or reinstated (None); False when the ledger
        does not know it."""
        changed = await self._session.exec(
            update(CredentialRecord)
            .where(col(CredentialRecord.credential_id) == credential_id)
            .values(suspended_at=at)
        )
        return bool(changed.rowcount == 1)

    async def get(self, credential_id: str, lock: bool = False) -> HeldCredential | None:
        """One credential; `lock` holds it until commit, so a revocation waits for a request
        being decided on it (PostgreSQL)."""
        query = _rows(_HELD).where(col(CredentialRecord.credential_id) == credential_id)
        row = (await self._session.exec(query.with_for_update() if lock else query)).first()
        return _held(row) if row else None

    async def of_learner(self, learner_id: str) -> list[HeldCredential]:
        rows = await self._session.exec(
            _rows(_HELD)
            .where(col(CredentialRecord.learner_id) == learner_id)
            .order_by(col(CredentialRecord.issued_at))
        )
        return [_held(row) for row in rows.all()]

    async def by_learner(self) -> dict[str, list[HeldCredential]]:
        """Every learner's credentials, in the order they were issued."""
        rows = await self._session.exec(
            _rows(_HELD).order_by(col(CredentialRecord.learner_id), col(CredentialRecord.issued_at))
        )
        held: dict[str, list[HeldCredential]] = {}
        for row in rows.all():
            credential = _held(row)
            held.setdefault(credential.learner_id, []).append(credential)
        return held


class PathwayDefinitions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def current(self, pathway_id: str) -> PathwayDefined | None:
        """The newest version of a pathway."""
        rows = await self._session.exec(
            select(col(PathwayDefinitionRecord.definition))
            .where(col(PathwayDefinitionRecord.pathway_id) == pathway_id)
            .order_by(col(PathwayDefinitionRecord.version).desc())
            .limit(1)
        )
        definition = rows.first()
        return PathwayDefined.model_validate_json(definition) if definition else None

    async def at_version(self, pathway_id: str, version: int) -> PathwayDefined | None:
        rows = await self._session.exec(
            select(col(PathwayDefinitionRecord.definition)).where(
                col(PathwayDefinitionRecord.pathway_id) == pathway_id,
                col(PathwayDefinitionRecord.version) == version,
            )
        )
        definition = rows.first()
        return PathwayDefined.model_validate_json(definition) if definition else None

    async def all_current(self) -> Sequence[PathwayDefined]:
        newest = (
            select(
                PathwayDefinitionRecord.pathway_id,
                func.max(PathwayDefinitionRecord.version).label("version"),
            )
            .group_by(col(PathwayDefinitionRecord.pathway_id))
            .subquery()
        )
        rows = await self._session.exec(
            select(col(PathwayDefinitionRecord.definition))
            .join(
                newest,
                (col(PathwayDefinitionRecord.pathway_id) == newest.c.pathway_id)
                & (col(PathwayDefinitionRecord.version) == newest.c.version),
            )
            .order_by(col(PathwayDefinitionRecord.pathway_id))
        )
        return [PathwayDefined.model_validate_json(definition) for definition in rows.all()]

    async def add(self, definition: PathwayDefined) -> bool:
        """Stores a new version; False when a concurrent transaction stored that version
        first. The primary key says so here rather than at commit, in a savepoint that
        leaves the rest of the transaction usable."""
        try:
            async with self._session.begin_nested():
                self._session.add(
                    PathwayDefinitionRecord(
                        pathway_id=definition.pathway_id,
                        version=definition.version,
                        owner_partner_id=definition.owner_partner_id,
                        definition=definition.model_dump_json(exclude_none=True),
                        defined_at=definition.defined_at,
                    )
                )
        except IntegrityError:
            return False
        return True


def _announced(standing: str) -> AnnouncedProgress:
    fields = json.loads(standing)
    return AnnouncedProgress(
        version=fields["version"],
        counted=tuple(fields["counted"]),
        ects=fields["ects"],
        partners=tuple(fields["partners"]),
        missing_partners=fields["missing_partners"],
        missing_offerings=tuple(fields["missing_offerings"]),
        complete=fields["complete"],
    )


class ProgressStore:
    """The progress last announced for each learner and pathway."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of_learner(self, learner_id: str) -> dict[str, AnnouncedProgress]:
        """Pathway id -> the progress announced for the learner."""
        rows = await self._session.exec(
            select(col(ProgressRecord.pathway_id), col(ProgressRecord.standing)).where(
                col(ProgressRecord.learner_id) == learner_id
            )
        )
        return {pathway_id: _announced(standing) for pathway_id, standing in rows.all()}

    async def of_pathway(self, pathway_id: str) -> dict[str, AnnouncedProgress]:
        """Learner id -> the progress announced on the pathway."""
        rows = await self._session.exec(
            select(col(ProgressRecord.learner_id), col(ProgressRecord.standing)).where(
                col(ProgressRecord.pathway_id) == pathway_id
            )
        )
        return {learner_id: _announced(standing) for learner_id, standing in rows.all()}

    async def save(
        self, learner_id: str, pathway_id: str, announced: AnnouncedProgress, first: bool
    ) -> None:
        """`first` when nothing was announced for the learner on the pathway before (as
        of_learner or of_pathway said): a new row rather than a change of one."""
        standing = json.dumps(asdict(announced), sort_keys=True)
        if first:
            await self._session.exec(
                insert(ProgressRecord).values(
                    learner_id=learner_id,
                    pathway_id=pathway_id,
                    standing=standing,
                    changed_at=utc_now(),
                )
            )
            return
        await self._session.exec(
            update(ProgressRecord)
            .where(
                col(ProgressRecord.learner_id) == learner_id,
                col(ProgressRecord.pathway_id) == pathway_id,
            )
            .values(standing=standing, changed_at=utc_now())
        )


_COMPLETION = (
    col(CompletionRecord.completion_id),
    col(CompletionRecord.learner_id),
    col(CompletionRecord.pathway_id),
    col(CompletionRecord.pathway_version),
    col(CompletionRecord.component_ids),
    col(CompletionRecord.completed_at),
    col(CompletionRecord.stacked_credential_id),
    col(CompletionRecord.lost_at),
    col(CompletionRecord.lost_reason),
    col(CompletionRecord.revoked_component_ids),
    col(CompletionRecord.revocation_announced_at),
)


def _completion(row: tuple[Any, ...]) -> Completion:
    (
        completion_id,
        learner_id,
        pathway_id,
        pathway_version,
        component_ids,
        completed_at,
        stacked_credential_id,
        lost_at,
        lost_reason,
        revoked_component_ids,
        revocation_announced_at,
    ) = row
    return Completion(
        completion_id=int(completion_id),
        learner_id=learner_id,
        pathway_id=pathway_id,
        pathway_version=pathway_version,
        component_ids=tuple(json.loads(component_ids)),
        completed_at=completed_at,
        stacked_credential_id=stacked_credential_id,
        lost_at=lost_at,
        lost_reason=lost_reason,
        revoked_component_ids=tuple(json.loads(revoked_component_ids or "[]")),
        revocation_announced=revocation_announced_at is not None,
    )


class Completions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of_learner(self, learner_id: str, pathway_id: str | None = None) -> list[Completion]:
        """Newest first."""
        query = _rows(_COMPLETION).where(col(CompletionRecord.learner_id) == learner_id)
        if pathway_id is not None:
            query = query.where(col(CompletionRecord.pathway_id) == pathway_id)
        rows = await self._session.exec(query.order_by(col(CompletionRecord.completion_id).desc()))
        return [_completion(row) for row in rows.all()]

    async def of_pathway(self, pathway_id: str) -> list[Completion]:
        """Newest first."""
        rows = await self._session.exec(
            _rows(_COMPLETION)
            .where(col(CompletionRecord.pathway_id) == pathway_id)
            .order_by(col(CompletionRecord.completion_id).desc())
        )
        return [_completion(row) for row in rows.all()]

    async def add(
        self,
        learner_id: str,
        pathway_id: str,
        version: int,
        component_ids: Sequence[str],
        stacked_credential_id: str | None = None,
    ) -> None:
        await self._session.exec(
            insert(CompletionRecord).values(
                learner_id=learner_id,
                pathway_id=pathway_id,
                pathway_version=version,
                component_ids=json.dumps(list(component_ids)),
                completed_at=utc_now(),
                stacked_credential_id=stacked_credential_id,
            )
        )

    async def _change(self, completion_id: int, **values: Any) -> None:
        await self._session.exec(
            update(CompletionRecord)
            .where(col(CompletionRecord.completion_id) == completion_id)
            .values(**values)
        )

    async def attach_stacked(self, completion_id: int, credential_id: str) -> None:
        await self._change(completion_id, stacked_credential_id=credential_id)

    async def lose(self, completion_id: int, reason: str, revoked_ids: Sequence[str]) -> None:
        await self._change(
            completion_id,
            lost_at=utc_now(),
            lost_reason=reason,
            revoked_component_ids=json.dumps(list(revoked_ids)),
        )

    async def announce_revocation(self, completion_id: int) -> None:
        await self._change(completion_id, revocation_announced_at=utc_now())


def _summary(record: OfferingRecord) -> OfferingSummary:
    return OfferingSummary(
        offering_id=record.offering_id,
        partner_id=record.partner_id,
        title=json.loads(record.title),
        ects=record.ects,
        eqf_level=record.eqf_level,
        end_date=record.end_date,
        open=record.status == "published",
    )


class Offerings:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def version_of(self, offering_id: str) -> OfferingVersion | None:
        record = await self._session.get(OfferingRecord, offering_id)
        return OfferingVersion(record.partner_id, record.version) if record else None

    async def save(self, offering: OfferingSummary, version: int) -> None:
        record = await self._session.get(OfferingRecord, offering.offering_id)
        fields = {
            "partner_id": offering.partner_id,
            "version": version,
            "status": "published" if offering.open else "withdrawn",
            "title": json.dumps(offering.title, ensure_ascii=False),
            "ects": offering.ects,
            "eqf_level": offering.eqf_level,
            "end_date": offering.end_date,
            "changed_at": utc_now(),
        }
        if record is None:
            record = OfferingRecord.model_validate({"offering_id": offering.offering_id, **fields})
        else:
            record.sqlmodel_update(fields)
        self._session.add(record)

    async def withdraw(self, offering_id: str, version: int) -> None:
        record = await self._session.get(OfferingRecord, offering_id)
        if record is not None:
            record.status = "withdrawn"
            record.version = version
            record.changed_at = utc_now()
            self._session.add(record)

    async def all(self) -> Sequence[OfferingSummary]:
        rows = await self._session.exec(select(OfferingRecord))
        return [_summary(r) for r in rows.all()]

    async def some(self, offering_ids: Sequence[str]) -> Sequence[OfferingSummary]:
        rows = await self._session.exec(
            select(OfferingRecord).where(col(OfferingRecord.offering_id).in_(offering_ids))
        )
        return [_summary(r) for r in rows.all()]


class RuleSets:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, partner_id: str) -> PublishedRules:
        record = await self._session.get(RuleSetRecord, partner_id)
        return _published(record) if record else PublishedRules(partner_id, RuleSet(), 0, None)

    async def replace(self, partner_id: str, rules: RuleSet) -> PublishedRules:
        """Replaces the partner's rules; the version moves only when they change."""
        record = await self._session.get(RuleSetRecord, partner_id, with_for_update=True)
        if record is not None and RuleSet.model_validate_json(record.rules) == rules:
            return _published(record)
        if record is None:
            record = RuleSetRecord(partner_id=partner_id, rules="", version=0, updated_at=utc_now())
        record.rules = rules.model_dump_json()
        record.version += 1
        record.updated_at = utc_now()
        self._session.add(record)
        return _published(record)


def _published(record: RuleSetRecord) -> PublishedRules:
    return PublishedRules(
        partner_id=record.partner_id,
        rules=RuleSet.model_validate_json(record.rules),
        version=record.version,
        updated_at=record.updated_at,
    )


def _recognition(record: RecognitionRecord) -> Recognition:
    return Recognition(
        recognition_id=record.recognition_id,
        learner_id=record.learner_id,
        credential_id=record.credential_id,
        recognising_partner_id=record.recognising_partner_id,
        programme=record.programme,
        status=record.status,
        reasons=tuple(json.loads(record.reasons)),
        requested_at=record.requested_at,
        automatic=record.automatic,
        decided_at=record.decided_at,
        withdrawn_at=record.withdrawn_at,
    )


class Recognitions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, recognition_id: str, lock: bool = False) -> Recognition | None:
        """One request; `lock` holds it until commit, so decisions on it take turns."""
        record = await self._session.get(
            RecognitionRecord, recognition_id, with_for_update=lock, populate_existing=lock
        )
        return _recognition(record) if record else None

    async def save(self, recognition: Recognition) -> None:
        fields = asdict(recognition)
        fields["reasons"] = json.dumps(list(recognition.reasons), ensure_ascii=False)
        record = await self._session.get(RecognitionRecord, recognition.recognition_id)
        if record is None:
            record = RecognitionRecord.model_validate(fields)
        else:
            record.sqlmodel_update(fields)
        self._session.add(record)

    async def find(
        self,
        *,
        learner_id: str | None = None,
        partner_id: str | None = None,
        credential_id: str | None = None,
        status: str | None = None,
    ) -> Sequence[Recognition]:
        query = select(RecognitionRecord)
        if learner_id is not None:
            query = query.where(col(RecognitionRecord.learner_id) == learner_id)
        if partner_id is not None:
            query = query.where(col(RecognitionRecord.recognising_partner_id) == partner_id)
        if credential_id is not None:
            query = query.where(col(RecognitionRecord.credential_id) == credential_id)
        if status is not None:
            query = query.where(col(RecognitionRecord.status) == status)
        rows = await self._session.exec(query.order_by(col(RecognitionRecord.requested_at)))
        return [_recognition(r) for r in rows.all()]
