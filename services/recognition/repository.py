"""Reads and writes recognition's database: the credential ledger, pathways, progress and
completions, offerings, recognition rules and requests. Each returns domain objects.

What every credential event runs (the ledger, pathways, progress, completions, offerings) is
built once and run with `shared.db.statements`; the rules and requests, read and written by
people, go through the session."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    Table,
    bindparam,
    func,
    insert,
    literal,
    null,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlmodel import col, select as select_records
from sqlmodel.ext.asyncio.session import AsyncSession

from services.recognition.domain import (
    AnnouncedProgress,
    Completion,
    HeldCredential,
    LearnerRecord,
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
from shared.db.statements import (
    added,
    execute,
    insert_all,
    insert_new,
    insert_rows,
    upsert,
    with_list,
)
from shared.events.pathways import PathwayDefined

LEDGER: Table = CredentialRecord.__table__  # type: ignore[attr-defined]
DEFINITIONS: Table = PathwayDefinitionRecord.__table__  # type: ignore[attr-defined]
PROGRESS: Table = ProgressRecord.__table__  # type: ignore[attr-defined]
COMPLETIONS: Table = CompletionRecord.__table__  # type: ignore[attr-defined]
OFFERINGS: Table = OfferingRecord.__table__  # type: ignore[attr-defined]


# The ledger's columns in HeldCredential's order.
_HELD = (
    LEDGER.c.credential_id,
    LEDGER.c.learner_id,
    LEDGER.c.offering_id,
    LEDGER.c.pathway_id,
    LEDGER.c.awarding_partner_id,
    LEDGER.c.ects,
    LEDGER.c.eqf_level,
    LEDGER.c.title,
    LEDGER.c.skill_uris,
    LEDGER.c.issued_at,
    LEDGER.c.revoked_at,
    LEDGER.c.revocation_reason,
    LEDGER.c.suspended_at,
)
# A credential announced once more is known by its id: nothing is written. Every column but
# the status, which a revocation or suspension sets later.
_ADD_CREDENTIALS = insert_rows(
    LEDGER,
    [c.name for c in LEDGER.c if c.name not in {"revoked_at", "revocation_reason", "suspended_at"}],
    skip_existing=True,
)
_CREDENTIAL = select(*_HELD).where(LEDGER.c.credential_id == bindparam("credential_id"))
_CREDENTIAL_LOCKED = _CREDENTIAL.with_for_update()
_CREDENTIALS_OF_LEARNER = (
    select(*_HELD)
    .where(LEDGER.c.learner_id == bindparam("learner_id"))
    .order_by(LEDGER.c.issued_at)
)
_CREDENTIALS_BY_LEARNER = select(*_HELD).order_by(LEDGER.c.learner_id, LEDGER.c.issued_at)
_REVOKE_CREDENTIAL = (
    update(LEDGER)
    .where(LEDGER.c.credential_id == bindparam("id"))
    .values(revoked_at=bindparam("at"), revocation_reason=bindparam("reason"))
)
_SUSPEND_CREDENTIAL = (
    update(LEDGER)
    .where(LEDGER.c.credential_id == bindparam("id"))
    .values(suspended_at=bindparam("at"))
)


def _held(row: Sequence[Any]) -> HeldCredential:
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
        issued_at=_aware(issued_at),
        revoked_at=revoked_at and _aware(revoked_at),
        revocation_reason=revocation_reason,
        suspended_at=suspended_at and _aware(suspended_at),
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite, the unit tests' database, gives moments back without their zone (UTC); the
    # credentials a unit of work keeps back until its commit have theirs.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _new_credential(credential: HeldCredential) -> dict[str, Any]:
    return {
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


class KeptWrites:
    """The credentials added and the progress announced in one unit of work, kept until its
    commit (`write`): a batch of credential events writes them in one statement each, not
    one each an event (at 40 learners a second, recognition applied 18 credential events a
    transaction). The learner's record, the read every credential event makes, is read with
    them laid over it; any other read of the ledger or of progress writes them first.

    With them, the learners' records read so far (`records`), good until the first write
    that is not kept here (then `forget_records`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # learner id -> credential id -> the credential; the first added stands, as in the
        # ledger, where an id already known is not written again
        self.credentials: dict[str, dict[str, HeldCredential]] = {}
        # learner id -> pathway id -> the progress announced last
        self.progress: dict[str, dict[str, AnnouncedProgress]] = {}
        # learner id -> their record as read, without the above
        self.records: dict[str, StoredRecord] = {}

    def forget_records(self, learner_id: str | None = None) -> None:
        """Forgets the record read of `learner_id` (of everyone: None), written to since."""
        if learner_id is None:
            self.records = {}
        else:
            self.records.pop(learner_id, None)

    async def write(self) -> None:
        credentials = [
            _new_credential(c) for added in self.credentials.values() for c in added.values()
        ]
        progress = [
            {
                "learner_id": learner_id,
                "pathway_id": pathway_id,
                "standing": json.dumps(asdict(announced), sort_keys=True),
                "changed_at": utc_now(),
            }
            for learner_id, on_pathways in self.progress.items()
            for pathway_id, announced in on_pathways.items()
        ]
        self.credentials, self.progress = {}, {}
        if credentials or progress:
            self.forget_records()  # they were read without these
        if credentials:
            await insert_all(self._session, _ADD_CREDENTIALS, credentials)
        if progress:
            await insert_all(self._session, _SAVE_PROGRESS, progress)


class CredentialLedger:
    def __init__(self, session: AsyncSession, kept: KeptWrites) -> None:
        self._session = session
        self._kept = kept

    async def add(self, credential: HeldCredential) -> None:
        """Adds a credential unless the ledger knows its id already (issuance announced it
        once more); written at the commit."""
        added = self._kept.credentials.setdefault(credential.learner_id, {})
        added.setdefault(credential.credential_id, credential)

    async def revoke(self, credential_id: str, reason: str, at: dt.datetime) -> bool:
        """Marks a credential revoked; False when the ledger does not know it."""
        known = await self.get(credential_id, lock=True)
        if known is None:
            return False
        if known.revoked_at is None:
            self._kept.forget_records(known.learner_id)
            await execute(
                self._session, _REVOKE_CREDENTIAL, {"id": credential_id, "at": at, "reason": reason}
            )
        return True

    async def suspend(self, credential_id: str, at: dt.datetime | None) -> bool:
        """Marks a credential suspended (`at`) or reinstated (None); False when the ledger
        does not know it."""
        await self._kept.write()
        self._kept.forget_records()  # whose it is is not read
        changed = await execute(self._session, _SUSPEND_CREDENTIAL, {"id": credential_id, "at": at})
        return changed.rowcount == 1

    async def get(self, credential_id: str, lock: bool = False) -> HeldCredential | None:
        """One credential; `lock` holds it until commit, so a revocation waits for a request
        being decided on it (PostgreSQL)."""
        await self._kept.write()
        query = _CREDENTIAL_LOCKED if lock else _CREDENTIAL
        row = (await execute(self._session, query, {"credential_id": credential_id})).first()
        return _held(row) if row else None

    async def of_learner(self, learner_id: str) -> list[HeldCredential]:
        await self._kept.write()
        rows = await execute(self._session, _CREDENTIALS_OF_LEARNER, {"learner_id": learner_id})
        return [_held(row) for row in rows]

    async def by_learner(self) -> dict[str, list[HeldCredential]]:
        """Every learner's credentials, in the order they were issued."""
        await self._kept.write()
        held: dict[str, list[HeldCredential]] = {}
        for row in await execute(self._session, _CREDENTIALS_BY_LEARNER):
            credential = _held(row)
            held.setdefault(credential.learner_id, []).append(credential)
        return held


# Every credential event judges the learner on the current version of every pathway, and a
# stacked credential on the version its completion was reached under. A stored version never
# changes (it is only ever inserted, under its primary key), so its parsed definition is kept
# here, shared by every unit of work of the process; another process storing a new version
# changes which version is current, and that is read from the database every time. Only a
# version this transaction stored itself is not kept: it is not committed yet, and a rollback
# would leave this process alone believing in it.
_DEFINITION_CACHE_SIZE = 1024
_definitions: dict[tuple[str, int], PathwayDefined] = {}

_CURRENT_VERSIONS = (
    select(DEFINITIONS.c.pathway_id, func.max(DEFINITIONS.c.version))
    .group_by(DEFINITIONS.c.pathway_id)
    .order_by(DEFINITIONS.c.pathway_id)
)
_NEWEST_DEFINITION = (
    select(DEFINITIONS.c.version, DEFINITIONS.c.definition)
    .where(DEFINITIONS.c.pathway_id == bindparam("pathway_id"))
    .order_by(DEFINITIONS.c.version.desc())
    .limit(1)
)
_DEFINITION_AT = select(DEFINITIONS.c.definition).where(
    DEFINITIONS.c.pathway_id == bindparam("pathway_id"),
    DEFINITIONS.c.version == bindparam("version"),
)
# A version stored at the same moment by another transaction is the expected race.
_ADD_DEFINITION = insert_new(DEFINITIONS, returning=DEFINITIONS.c.version)


class PathwayDefinitions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._stored_here: set[tuple[str, int]] = set()
        # Read once per unit of work, which applies a batch of events: one read per batch
        # instead of one per credential event.
        self._all_current: Sequence[PathwayDefined] | None = None

    def _parsed(self, pathway_id: str, version: int, definition: str) -> PathwayDefined:
        key = (pathway_id, version)
        if (parsed := _definitions.get(key)) is not None:
            return parsed
        parsed = PathwayDefined.model_validate_json(definition)
        if key not in self._stored_here:
            if len(_definitions) >= _DEFINITION_CACHE_SIZE:
                del _definitions[next(iter(_definitions))]  # the oldest kept
            _definitions[key] = parsed
        return parsed

    async def current(self, pathway_id: str) -> PathwayDefined | None:
        """The newest version of a pathway."""
        rows = await execute(self._session, _NEWEST_DEFINITION, {"pathway_id": pathway_id})
        row = rows.first()
        return self._parsed(pathway_id, row.version, row.definition) if row else None

    async def at_version(self, pathway_id: str, version: int) -> PathwayDefined | None:
        if (kept := _definitions.get((pathway_id, version))) is not None:
            return kept
        rows = await execute(
            self._session, _DEFINITION_AT, {"pathway_id": pathway_id, "version": version}
        )
        definition = rows.scalar()
        return self._parsed(pathway_id, version, definition) if definition else None

    async def all_current(self) -> Sequence[PathwayDefined]:
        """The newest version of every pathway: their versions read, each definition parsed
        once per process, read once per unit of work (a batch of events)."""
        if self._all_current is not None:
            return self._all_current
        current = []
        for pathway_id, version in await execute(self._session, _CURRENT_VERSIONS):
            definition = await self.at_version(pathway_id, version)
            if definition is not None:
                current.append(definition)
        self._all_current = current
        return current

    async def add(self, definition: PathwayDefined) -> bool:
        """Stores a new version; False when a concurrent transaction stored that version
        first (the primary key says so here rather than at commit, leaving the rest of the
        transaction usable)."""
        if not await added(
            self._session,
            _ADD_DEFINITION,
            {
                "pathway_id": definition.pathway_id,
                "version": definition.version,
                "owner_partner_id": definition.owner_partner_id,
                "definition": definition.model_dump_json(exclude_none=True),
                "defined_at": definition.defined_at,
            },
        ):
            return False
        self._stored_here.add((definition.pathway_id, definition.version))
        self._all_current = None
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


_PROGRESS_ON_PATHWAY = select(PROGRESS.c.learner_id, PROGRESS.c.standing).where(
    PROGRESS.c.pathway_id == bindparam("pathway_id")
)
_SAVE_PROGRESS = insert_rows(
    PROGRESS,
    ["learner_id", "pathway_id", "standing", "changed_at"],
    update=["standing", "changed_at"],
)


class ProgressStore:
    """The progress last announced for each learner and pathway."""

    def __init__(self, session: AsyncSession, kept: KeptWrites) -> None:
        self._session = session
        self._kept = kept

    async def of_pathway(self, pathway_id: str) -> dict[str, AnnouncedProgress]:
        """Learner id -> the progress announced on the pathway."""
        await self._kept.write()
        rows = await execute(self._session, _PROGRESS_ON_PATHWAY, {"pathway_id": pathway_id})
        return {learner_id: _announced(standing) for learner_id, standing in rows}

    async def save(self, learner_id: str, pathway_id: str, announced: AnnouncedProgress) -> None:
        """Written at the commit, new or in place of what was announced before."""
        self._kept.progress.setdefault(learner_id, {})[pathway_id] = announced


_COMPLETION = (
    COMPLETIONS.c.completion_id,
    COMPLETIONS.c.learner_id,
    COMPLETIONS.c.pathway_id,
    COMPLETIONS.c.pathway_version,
    COMPLETIONS.c.component_ids,
    COMPLETIONS.c.completed_at,
    COMPLETIONS.c.stacked_credential_id,
    COMPLETIONS.c.lost_at,
    COMPLETIONS.c.lost_reason,
    COMPLETIONS.c.revoked_component_ids,
    COMPLETIONS.c.revocation_announced_at,
)
_NEWEST_FIRST = COMPLETIONS.c.completion_id.desc()
_COMPLETIONS_OF_LEARNER_ON = (
    select(*_COMPLETION)
    .where(
        COMPLETIONS.c.learner_id == bindparam("learner_id"),
        COMPLETIONS.c.pathway_id == bindparam("pathway_id"),
    )
    .order_by(_NEWEST_FIRST)
)
_COMPLETIONS_ON_PATHWAY = (
    select(*_COMPLETION)
    .where(COMPLETIONS.c.pathway_id == bindparam("pathway_id"))
    .order_by(_NEWEST_FIRST)
)
_ADD_COMPLETION = insert(COMPLETIONS)
_THE_COMPLETION = COMPLETIONS.c.completion_id == bindparam("id")
_ATTACH_STACKED = (
    update(COMPLETIONS).where(_THE_COMPLETION).values(stacked_credential_id=bindparam("stacked"))
)
_LOSE_COMPLETION = (
    update(COMPLETIONS)
    .where(_THE_COMPLETION)
    .values(
        lost_at=bindparam("at"),
        lost_reason=bindparam("reason"),
        revoked_component_ids=bindparam("revoked"),
    )
)
_ANNOUNCE_REVOCATION = (
    update(COMPLETIONS).where(_THE_COMPLETION).values(revocation_announced_at=bindparam("at"))
)


def _completion(row: Sequence[Any]) -> Completion:
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
    def __init__(self, session: AsyncSession, kept: KeptWrites) -> None:
        self._session = session
        self._kept = kept

    async def of_learner(self, learner_id: str, pathway_id: str) -> list[Completion]:
        """The learner's completions of the pathway, newest first (all of theirs come with
        their record)."""
        rows = await execute(
            self._session,
            _COMPLETIONS_OF_LEARNER_ON,
            {"learner_id": learner_id, "pathway_id": pathway_id},
        )
        return [_completion(row) for row in rows]

    async def of_pathway(self, pathway_id: str) -> list[Completion]:
        """Newest first."""
        rows = await execute(self._session, _COMPLETIONS_ON_PATHWAY, {"pathway_id": pathway_id})
        return [_completion(row) for row in rows]

    async def add(
        self,
        learner_id: str,
        pathway_id: str,
        version: int,
        component_ids: Sequence[str],
        stacked_credential_id: str | None = None,
    ) -> None:
        self._kept.forget_records(learner_id)
        await execute(
            self._session,
            _ADD_COMPLETION,
            {
                "learner_id": learner_id,
                "pathway_id": pathway_id,
                "pathway_version": version,
                "component_ids": json.dumps(list(component_ids)),
                "completed_at": utc_now(),
                "stacked_credential_id": stacked_credential_id,
            },
        )

    async def attach_stacked(self, completion: Completion, credential_id: str) -> None:
        self._kept.forget_records(completion.learner_id)
        await execute(
            self._session,
            _ATTACH_STACKED,
            {"id": completion.completion_id, "stacked": credential_id},
        )

    async def lose(self, completion: Completion, reason: str, revoked_ids: Sequence[str]) -> None:
        self._kept.forget_records(completion.learner_id)
        await execute(
            self._session,
            _LOSE_COMPLETION,
            {
                "id": completion.completion_id,
                "at": utc_now(),
                "reason": reason,
                "revoked": json.dumps(list(revoked_ids)),
            },
        )

    async def announce_revocation(self, completion: Completion) -> None:
        self._kept.forget_records(completion.learner_id)
        await execute(
            self._session,
            _ANNOUNCE_REVOCATION,
            {"id": completion.completion_id, "at": utc_now()},
        )


# Learners' records in one statement of three parts, each on its own index: one round trip
# for every learner a batch of credential events judges, instead of three for each event. A
# row has every part's columns, NULL but its own.
_PROGRESS_PART = (PROGRESS.c.learner_id, PROGRESS.c.pathway_id, PROGRESS.c.standing)


def _nulls(columns: Sequence[Column[Any]]) -> list[Any]:
    # Typed for the driver's results (SQLite's timestamps are text to parse), plain NULL
    # in the SQL, whose type PostgreSQL takes from the part that fills the column.
    return [type_coerce(null(), column.type) for column in columns]


_RECORDS_OF_LEARNERS = with_list(
    lambda one_of: union_all(
        select(literal("credential"), *_HELD, *_nulls(_COMPLETION), *_nulls(_PROGRESS_PART)).where(
            one_of(LEDGER.c.learner_id, "learner_ids")
        ),
        select(literal("completion"), *_nulls(_HELD), *_COMPLETION, *_nulls(_PROGRESS_PART)).where(
            one_of(COMPLETIONS.c.learner_id, "learner_ids")
        ),
        select(literal("progress"), *_nulls(_HELD), *_nulls(_COMPLETION), *_PROGRESS_PART).where(
            one_of(PROGRESS.c.learner_id, "learner_ids")
        ),
    )
)
_COMPLETION_AT = 1 + len(_HELD)
_PROGRESS_AT = _COMPLETION_AT + len(_COMPLETION)


@dataclass
class StoredRecord:
    """A learner's record as the database holds it (without what a unit of work kept)."""

    credentials: list[HeldCredential] = field(default_factory=list)
    completions: list[Completion] = field(default_factory=list)
    announced: dict[str, AnnouncedProgress] = field(default_factory=dict)


class Learners:
    def __init__(self, session: AsyncSession, kept: KeptWrites) -> None:
        self._session = session
        self._kept = kept

    async def read_ahead(self, learner_ids: Collection[str]) -> None:
        """Reads the records of the learners a batch's events are about, in one statement:
        `record` answers from them until the unit of work writes to a ledger, a completion
        or progress (other than through what it keeps, which `record` lays over them)."""
        if learner_ids:
            self._kept.records.update(await self._read(learner_ids))

    async def record(self, learner_id: str) -> LearnerRecord:
        """The learner's credentials, announced progress and completions, read together, with
        what this unit of work added and announced and has not written yet."""
        stored = self._kept.records.get(learner_id)
        if stored is None:
            self._kept.records.update(await self._read([learner_id]))
            stored = self._kept.records[learner_id]
        known = {c.credential_id for c in stored.credentials}
        added = self._kept.credentials.get(learner_id, {})
        credentials = [*stored.credentials, *(c for i, c in added.items() if i not in known)]
        announced = {**stored.announced, **self._kept.progress.get(learner_id, {})}
        return LearnerRecord(
            credentials=tuple(sorted(credentials, key=lambda c: c.issued_at)),
            announced=announced,
            completions=tuple(sorted(stored.completions, key=lambda c: -c.completion_id)),
        )

    async def _read(self, learner_ids: Collection[str]) -> dict[str, StoredRecord]:
        records = {learner_id: StoredRecord() for learner_id in learner_ids}
        rows = await execute(
            self._session, _RECORDS_OF_LEARNERS, {"learner_ids": list(learner_ids)}
        )
        for row in rows:
            if row[0] == "credential":
                credential = _held(row[1:_COMPLETION_AT])
                records[credential.learner_id].credentials.append(credential)
            elif row[0] == "completion":
                completion = _completion(row[_COMPLETION_AT:_PROGRESS_AT])
                records[completion.learner_id].completions.append(completion)
            else:
                learner_id, pathway_id, standing = row[_PROGRESS_AT:]
                records[learner_id].announced[pathway_id] = _announced(standing)
        return records


_SUMMARY = (
    OFFERINGS.c.offering_id,
    OFFERINGS.c.partner_id,
    OFFERINGS.c.title,
    OFFERINGS.c.ects,
    OFFERINGS.c.eqf_level,
    OFFERINGS.c.end_date,
    OFFERINGS.c.status,
)
_ALL_OFFERINGS = select(*_SUMMARY)
_SOME_OFFERINGS = with_list(
    lambda one_of: select(*_SUMMARY).where(one_of(OFFERINGS.c.offering_id, "offering_ids"))
)
_OFFERING_VERSION = select(OFFERINGS.c.partner_id, OFFERINGS.c.version).where(
    OFFERINGS.c.offering_id == bindparam("offering_id")
)
_OFFERING_FIELDS = (
    "partner_id",
    "version",
    "status",
    "title",
    "ects",
    "eqf_level",
    "end_date",
    "changed_at",
)


# The view of an offering is its newest version: written whole, new or not.
_SAVE_OFFERING = upsert(OFFERINGS, "offering_id", _OFFERING_FIELDS)
_WITHDRAW_OFFERING = (
    update(OFFERINGS)
    .where(OFFERINGS.c.offering_id == bindparam("id"))
    .values(status="withdrawn", version=bindparam("now_version"), changed_at=bindparam("at"))
)


def _summary(row: Sequence[Any]) -> OfferingSummary:
    offering_id, partner_id, title, ects, eqf_level, end_date, status = row
    return OfferingSummary(
        offering_id=offering_id,
        partner_id=partner_id,
        title=json.loads(title),
        ects=ects,
        eqf_level=eqf_level,
        end_date=end_date,
        open=status == "published",
    )


class Offerings:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # Offerings read in this unit of work (a batch of events), so that each credential
        # event of the batch does not read its pathways' modules again; one it changes is
        # forgotten.
        self._read: dict[str, OfferingSummary] = {}

    async def version_of(self, offering_id: str) -> OfferingVersion | None:
        rows = await execute(self._session, _OFFERING_VERSION, {"offering_id": offering_id})
        row = rows.first()
        return OfferingVersion(row.partner_id, row.version) if row else None

    async def save(self, offering: OfferingSummary, version: int) -> None:
        self._read.pop(offering.offering_id, None)
        await execute(
            self._session,
            _SAVE_OFFERING,
            {
                "offering_id": offering.offering_id,
                "partner_id": offering.partner_id,
                "version": version,
                "status": "published" if offering.open else "withdrawn",
                "title": json.dumps(offering.title, ensure_ascii=False),
                "ects": offering.ects,
                "eqf_level": offering.eqf_level,
                "end_date": offering.end_date,
                "changed_at": utc_now(),
            },
        )

    async def withdraw(self, offering_id: str, version: int) -> None:
        self._read.pop(offering_id, None)
        await execute(
            self._session,
            _WITHDRAW_OFFERING,
            {"id": offering_id, "now_version": version, "at": utc_now()},
        )

    async def all(self) -> Sequence[OfferingSummary]:
        return [_summary(row) for row in await execute(self._session, _ALL_OFFERINGS)]

    async def some(self, offering_ids: Sequence[str]) -> Sequence[OfferingSummary]:
        """Those of `offering_ids` that are known; each read once per unit of work."""
        if unread := [i for i in offering_ids if i not in self._read]:
            rows = await execute(self._session, _SOME_OFFERINGS, {"offering_ids": unread})
            self._read.update((summary.offering_id, summary) for summary in map(_summary, rows))
        return [self._read[i] for i in offering_ids if i in self._read]


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
        query = select_records(RecognitionRecord)
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
