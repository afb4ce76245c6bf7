"""Reads and writes listings in the catalogue's database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import TypeAdapter
from sqlalchemy import func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.catalogue.domain import Listing, Standing, fields_text, search_text, skills_text
from services.catalogue.tables import EmittedVersionRecord, OfferingRecord
from shared.clock import utc_now
from shared.events import OfferingSnapshot

_SNAPSHOT = TypeAdapter(OfferingSnapshot)


def _listing(record: OfferingRecord) -> Listing:
    snapshot = _SNAPSHOT.validate_json(record.snapshot) if record.snapshot else None
    return Listing(record.offering_id, record.partner_id, record.version, record.status, snapshot)


@dataclass(frozen=True)
class OfferingQuery:
    text: str | None = None
    partner_id: str | None = None
    country: str | None = None
    eqf_level: int | None = None
    language: str | None = None
    participation_mode: str | None = None
    min_ects: float | None = None
    max_ects: float | None = None
    field_of_study: str | None = None
    skill: str | None = None
    include_withdrawn: bool = False
    limit: int = 20
    offset: int = 0


class OfferingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, offering_id: str) -> Listing | None:
        # Plain columns, not a record loaded into the session: what the use case needs,
        # without an identity map entry and instance state per event.
        rows = await self._session.exec(
            select(
                col(OfferingRecord.partner_id),
                col(OfferingRecord.version),
                col(OfferingRecord.status),
                col(OfferingRecord.snapshot),
            ).where(col(OfferingRecord.offering_id) == offering_id)
        )
        row = rows.first()
        if row is None:
            return None
        partner_id, version, status, snapshot = row
        held = _SNAPSHOT.validate_json(snapshot) if snapshot else None
        return Listing(offering_id, partner_id, version, status, held)

    async def save(self, listing: Listing, first: bool) -> None:
        """`first` when `get` found none: a new row rather than a change of one."""
        snapshot = listing.snapshot
        if snapshot is None:
            # Withdrawn before the catalogue ever saw it published: nothing to show.
            return
        fields = {
            "partner_id": listing.partner_id,
            "version": listing.version,
            "status": listing.status,
            "eqf_level": snapshot.eqf_level,
            "ects": float(snapshot.workload.ects),
            "participation_mode": snapshot.participation_mode.value,
            "countries": f",{','.join(snapshot.countries)},",
            "languages": f",{','.join(snapshot.languages_of_instruction)},",
            "search_text": search_text(snapshot),
            "fields_of_study": fields_text(snapshot),
            "skills": skills_text(snapshot),
            "snapshot": _SNAPSHOT.dump_json(snapshot, exclude_none=True).decode(),
            "changed_at": utc_now(),
        }
        if first:
            await self._session.exec(
                insert(OfferingRecord).values(offering_id=listing.offering_id, **fields)
            )
            return
        await self._session.exec(
            update(OfferingRecord)
            .where(col(OfferingRecord.offering_id) == listing.offering_id)
            .values(**fields)
        )

    async def search(self, query: OfferingQuery) -> tuple[Sequence[Listing], int]:
        conditions = []
        if not query.include_withdrawn:
            conditions.append(col(OfferingRecord.status) == "published")
        if query.text:
            for word in query.text.lower().split():
                conditions.append(col(OfferingRecord.search_text).contains(word, autoescape=True))
        if query.partner_id:
            conditions.append(col(OfferingRecord.partner_id) == query.partner_id)
        if query.country:
            conditions.append(col(OfferingRecord.countries).contains(f",{query.country.upper()},"))
        if query.language:
            conditions.append(col(OfferingRecord.languages).contains(f",{query.language},"))
        if query.eqf_level is not None:
            conditions.append(col(OfferingRecord.eqf_level) == query.eqf_level)
        if query.participation_mode:
            conditions.append(col(OfferingRecord.participation_mode) == query.participation_mode)
        if query.field_of_study:
            conditions.append(
                col(OfferingRecord.fields_of_study).contains(
                    query.field_of_study.lower(), autoescape=True
                )
            )
        if query.skill:
            conditions.append(
                col(OfferingRecord.skills).contains(query.skill.lower(), autoescape=True)
            )
        if query.min_ects is not None:
            conditions.append(col(OfferingRecord.ects) >= query.min_ects)
        if query.max_ects is not None:
            conditions.append(col(OfferingRecord.ects) <= query.max_ects)
        total = (
            await self._session.exec(
                select(func.count()).select_from(OfferingRecord).where(*conditions)
            )
        ).one()
        rows = await self._session.exec(
            select(OfferingRecord)
            .where(*conditions)
            .order_by(col(OfferingRecord.offering_id))
            .limit(query.limit)
            .offset(query.offset)
        )
        return [_listing(r) for r in rows.all()], total


class EmittedVersions:
    """The versions the catalogue announced through its own API, ahead of its read model."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_for_update(self, offering_id: str) -> Standing | None:
        """The last announced standing, locked until commit (PostgreSQL), so concurrent
        changes queue up. Where rows cannot be locked (SQLite) `advance` still refuses a
        lost race."""
        record = await self._session.get(
            EmittedVersionRecord, offering_id, populate_existing=True, with_for_update=True
        )
        return Standing(record.partner_id, record.version, record.withdrawn) if record else None

    async def advance(
        self, offering_id: str, partner_id: str, seen: int | None, version: int, withdrawn: bool
    ) -> bool:
        """Moves the offering from version `seen` (None: never emitted) to `version`.

        A compare-and-set: False when a concurrent request moved it first, so two updates
        can never announce the same version.
        """
        if seen is None:
            try:
                async with self._session.begin_nested():
                    self._session.add(
                        EmittedVersionRecord(
                            offering_id=offering_id,
                            partner_id=partner_id,
                            version=version,
                            withdrawn=withdrawn,
                            emitted_at=utc_now(),
                        )
                    )
            except IntegrityError:
                return False
            return True
        moved = await self._session.execute(
            update(EmittedVersionRecord)
            .where(
                col(EmittedVersionRecord.offering_id) == offering_id,
                col(EmittedVersionRecord.version) == seen,
            )
            .values(version=version, withdrawn=withdrawn, emitted_at=utc_now())
        )
        return bool(moved.rowcount == 1)  # type: ignore[attr-defined]
