"""Reads and writes offerings, enrolments and earned credentials in enrolment's database.

Statements are built once and run with `shared.db.statements` (why: its docstring)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    case,
    false,
    func,
    insert,
    literal,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from services.enrolment.domain import (
    EarnedCredential,
    Enrolment,
    EnrolmentStatus,
    Offering,
    OfferingStatus,
    Seats,
    Standing,
)
from services.enrolment.tables import (
    ACTIVE_ENROLMENT,
    EarnedCredentialRecord,
    EnrolmentRecord,
    OfferingRecord,
)
from shared.clock import utc_now
from shared.db.statements import added, execute, insert_all, insert_new, insert_rows
from shared.events import EnrolmentRejectionReason

OFFERINGS: Table = OfferingRecord.__table__  # type: ignore[attr-defined]
ENROLMENTS: Table = EnrolmentRecord.__table__  # type: ignore[attr-defined]
EARNED: Table = EarnedCredentialRecord.__table__  # type: ignore[attr-defined]

_ACCEPTED = EnrolmentStatus.ACCEPTED.value
_WAITLISTED = EnrolmentStatus.WAITLISTED.value


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session


# Offerings.

_OFFERING_COLUMNS = (
    OFFERINGS.c.offering_id,
    OFFERINGS.c.partner_id,
    OFFERINGS.c.version,
    OFFERINGS.c.status,
    OFFERINGS.c.capacity,
    OFFERINGS.c.required_offering_ids,
)
_THE_OFFERING = OFFERINGS.c.offering_id == bindparam("the_offering_id")
_OFFERING = select(*_OFFERING_COLUMNS).where(_THE_OFFERING)
# The offering's seats held and queue places, as the database keeps them on its row (see
# migration enrolment_0003) rather than counted from its enrolments on every request.
_SEAT_COLUMNS = (OFFERINGS.c.accepted, OFFERINGS.c.waiting)
_LOCK_OFFERING = {
    "postgresql": select(*_OFFERING_COLUMNS, *_SEAT_COLUMNS).where(_THE_OFFERING).with_for_update(),
    # SQLite has no row locks (FOR UPDATE is not rendered). A write takes the database's
    # write lock (the driver opens the transaction at the first write), so writers are
    # serialised and none counts stale seats; RETURNING reads the row in the same statement.
    "sqlite": update(OFFERINGS)
    .where(_THE_OFFERING)
    .values(version=OFFERINGS.c.version)
    .returning(*_OFFERING_COLUMNS, *_SEAT_COLUMNS),
}
_INSERT_OFFERING = insert(OFFERINGS)
_UPDATE_OFFERING = update(OFFERINGS).where(_THE_OFFERING)


def _offering(row: Sequence[Any]) -> Offering:
    offering_id, partner_id, version, status, capacity, required = row[:6]
    return Offering(
        offering_id,
        partner_id,
        version,
        OfferingStatus(status),
        capacity,
        tuple(json.loads(required)),
    )


class Locked(NamedTuple):
    """An offering under its lock, and its places as the lock found them."""

    offering: Offering
    seats: Seats


class OfferingRepository(_Repository):
    async def get(self, offering_id: str) -> Offering | None:
        row = (await execute(self._session, _OFFERING, {"the_offering_id": offering_id})).first()
        return _offering(row) if row else None

    async def lock(self, offering_id: str) -> Locked | None:
        """The offering, locked until the transaction ends: whoever counts its seats next
        waits until this transaction has committed what it decided."""
        row = (
            await execute(self._session, _LOCK_OFFERING, {"the_offering_id": offering_id})
        ).first()
        return Locked(_offering(row), Seats(accepted=row[6], waiting=row[7])) if row else None

    async def save(self, offering: Offering, first: bool) -> None:
        """`first` when `lock` found none: a new row rather than a change of one."""
        fields = {
            "partner_id": offering.partner_id,
            "version": offering.version,
            "status": offering.status.value,
            "capacity": offering.capacity,
            "required_offering_ids": json.dumps(list(offering.required_offering_ids)),
            "changed_at": utc_now(),
        }
        if first:
            await execute(
                self._session, _INSERT_OFFERING, {"offering_id": offering.offering_id, **fields}
            )
        else:
            await execute(
                self._session, _UPDATE_OFFERING, {"the_offering_id": offering.offering_id, **fields}
            )


# Enrolments.

_AHEAD = ENROLMENTS.alias("ahead")
# A waiting learner's position is a rank by queue number: one more than those ahead.
_POSITION = case(
    (
        and_(ENROLMENTS.c.status == _WAITLISTED, ENROLMENTS.c.queue_number.is_not(None)),
        select(func.count() + 1)
        .where(
            _AHEAD.c.offering_id == ENROLMENTS.c.offering_id,
            _AHEAD.c.status == _WAITLISTED,
            _AHEAD.c.queue_number < ENROLMENTS.c.queue_number,
        )
        .scalar_subquery(),
    ),
).label("position")
_ENROLMENT_COLUMNS = (
    ENROLMENTS.c.enrolment_id,
    ENROLMENTS.c.offering_id,
    ENROLMENTS.c.partner_id,
    ENROLMENTS.c.learner_id,
    ENROLMENTS.c.status,
    ENROLMENTS.c.requested_at,
    ENROLMENTS.c.changed_at,
    ENROLMENTS.c.reason,
    ENROLMENTS.c.detail,
)
_IN_REQUEST_ORDER = (ENROLMENTS.c.requested_at, ENROLMENTS.c.enrolment_id)
_ENROLMENT = select(*_ENROLMENT_COLUMNS, _POSITION).where(
    ENROLMENTS.c.enrolment_id == bindparam("enrolment_id")
)
_OF_LEARNER = (
    select(*_ENROLMENT_COLUMNS, _POSITION)
    .where(ENROLMENTS.c.learner_id == bindparam("learner_id"))
    .order_by(*_IN_REQUEST_ORDER)
)
_OF_OFFERING = (
    select(*_ENROLMENT_COLUMNS, ENROLMENTS.c.queue_number)
    .where(ENROLMENTS.c.offering_id == bindparam("offering_id"))
    .order_by(*_IN_REQUEST_ORDER)
)
_WAITING_LIST = (
    select(*_ENROLMENT_COLUMNS)
    .where(
        ENROLMENTS.c.offering_id == bindparam("offering_id"),
        ENROLMENTS.c.status == _WAITLISTED,
    )
    .order_by(ENROLMENTS.c.queue_number)
)
# The active statuses as the partial unique index has them, so the planner may use it.
_ACTIVE_IN_OFFERING = (
    ENROLMENTS.c.offering_id == bindparam("the_offering_id"),
    text(ACTIVE_ENROLMENT),
)
_SEATS = select(*_SEAT_COLUMNS).where(_THE_OFFERING)
# What a request is decided on besides the offering, in one statement before the lock (on
# SQLite; PostgreSQL's comes with the lock, below), each part on its own index: the learner's
# own active enrolment in it ("enrolled", its id, its status) and each credential the learner
# earned ("earned", its id, its offering, revoked, suspended).
_STANDING = union_all(
    select(
        literal("enrolled").label("kind"),
        ENROLMENTS.c.enrolment_id.label("key"),
        ENROLMENTS.c.status.label("value"),
        false().label("revoked"),
        false().label("suspended"),
    ).where(ENROLMENTS.c.learner_id == bindparam("learner_id"), *_ACTIVE_IN_OFFERING),
    select(
        literal("earned"),
        EARNED.c.credential_id,
        EARNED.c.offering_id,
        EARNED.c.revoked,
        EARNED.c.suspended,
    ).where(EARNED.c.learner_id == bindparam("learner_id")),
)
# On PostgreSQL the standing comes with the offering's lock, in one statement: the learner's
# active enrolment in it joined (one row at most, the partial unique index) and their earned
# credentials as one JSON array. Read under the lock, it is read no later than before: rows
# of other tables are read as of the statement's start, before any wait for the lock.
_ACTIVE_OF_LEARNER = (
    select(ENROLMENTS.c.enrolment_id, ENROLMENTS.c.status)
    .where(ENROLMENTS.c.learner_id == bindparam("learner_id"), *_ACTIVE_IN_OFFERING)
    .subquery("active")
)
_EARNED_OF_LEARNER = (
    select(
        func.json_agg(
            func.json_build_array(
                EARNED.c.credential_id, EARNED.c.offering_id, EARNED.c.revoked, EARNED.c.suspended
            )
        )
    )
    .where(EARNED.c.learner_id == bindparam("learner_id"))
    .scalar_subquery()
)
_STANDING_UNDER_LOCK = (
    select(
        *_OFFERING_COLUMNS,
        *_SEAT_COLUMNS,
        _ACTIVE_OF_LEARNER.c.enrolment_id,
        _ACTIVE_OF_LEARNER.c.status,
        _EARNED_OF_LEARNER,
    )
    .select_from(OFFERINGS.outerjoin(_ACTIVE_OF_LEARNER, true()))
    .where(_THE_OFFERING)
    .with_for_update(of=OFFERINGS)
)
# An active enrolment clashing with one of the same learner in the offering (the partial
# unique index) is not written: a request of theirs committed since their standing was read.
_INSERT_ENROLMENT = insert_new(ENROLMENTS, returning=ENROLMENTS.c.enrolment_id)
# The next queue number is taken in the insert itself, under the offering's lock.
_INSERT_WAITING = insert_new(
    ENROLMENTS,
    returning=ENROLMENTS.c.enrolment_id,
    values={
        "queue_number": select(func.coalesce(func.max(ENROLMENTS.c.queue_number), 0) + 1)
        .where(ENROLMENTS.c.offering_id == bindparam("queued_in"))
        .scalar_subquery()
    },
)
_UPDATE_ENROLMENT = update(ENROLMENTS).where(
    ENROLMENTS.c.enrolment_id == bindparam("the_enrolment_id")
)


def _enrolment(row: Sequence[Any], position: int | None = None) -> Enrolment:
    (
        enrolment_id,
        offering_id,
        partner_id,
        learner_id,
        status,
        requested,
        changed,
        reason,
        detail,
    ) = row[:9]
    return Enrolment(
        enrolment_id=enrolment_id,
        offering_id=offering_id,
        partner_id=partner_id,
        learner_id=learner_id,
        status=EnrolmentStatus(status),
        requested_at=requested,
        changed_at=changed,
        position=position,
        reason=EnrolmentRejectionReason(reason) if reason else None,
        detail=detail,
    )


class EnrolmentRepository(_Repository):
    def __init__(
        self,
        session: AsyncSession,
        offerings: OfferingRepository,
        earned: EarnedCredentialRepository,
    ) -> None:
        super().__init__(session)
        self._offerings = offerings
        self._earned = earned

    async def get(self, enrolment_id: str) -> Enrolment | None:
        row = (await execute(self._session, _ENROLMENT, {"enrolment_id": enrolment_id})).first()
        return _enrolment(row, row.position) if row else None

    async def of_learner(self, learner_id: str) -> list[Enrolment]:
        rows = await execute(self._session, _OF_LEARNER, {"learner_id": learner_id})
        return [_enrolment(row, row.position) for row in rows]

    async def of_offering(self, offering_id: str) -> list[Enrolment]:
        """Places first, then the waiting list in order, then the rest by request time."""
        rows = (await execute(self._session, _OF_OFFERING, {"offering_id": offering_id})).all()
        queue = sorted(
            (r for r in rows if r.status == _WAITLISTED), key=lambda r: r.queue_number or 0
        )
        positions = {r.enrolment_id: index for index, r in enumerate(queue, start=1)}
        rank = {_ACCEPTED: 0, _WAITLISTED: 1}
        ordered = sorted(
            rows, key=lambda r: (rank.get(r.status, 2), positions.get(r.enrolment_id, 0))
        )
        return [_enrolment(r, positions.get(r.enrolment_id)) for r in ordered]

    async def seats(self, offering_id: str) -> Seats:
        row = (await execute(self._session, _SEATS, {"the_offering_id": offering_id})).first()
        return Seats(accepted=row[0], waiting=row[1]) if row else Seats(accepted=0, waiting=0)

    async def standing_under_lock(
        self, learner_id: str, offering_id: str
    ) -> tuple[Standing, Locked | None]:
        """The learner's standing in the offering when they ask for a place, and the offering
        under its lock (`OfferingRepository.lock`); None and no standing when it is not
        known. One statement on PostgreSQL; elsewhere the standing, then the lock."""
        await self._earned.write_issued()
        if self._session.get_bind().dialect.name != "postgresql":
            standing = await self._standing(learner_id, offering_id)
            return standing, await self._offerings.lock(offering_id)
        row = (
            await execute(
                self._session,
                _STANDING_UNDER_LOCK,
                {"learner_id": learner_id, "the_offering_id": offering_id},
            )
        ).first()
        if row is None:
            return Standing(None, ()), None
        enrolment_id, status, earned = row[8:]
        standing = Standing(
            (enrolment_id, EnrolmentStatus(status)) if enrolment_id else None,
            tuple(
                EarnedCredential(credential_id, learner_id, offering, revoked, suspended)
                # decoded by the driver (SQLAlchemy gives asyncpg a JSON codec); NULL: none
                for credential_id, offering, revoked, suspended in earned or ()
            ),
        )
        return standing, Locked(_offering(row), Seats(accepted=row[6], waiting=row[7]))

    async def _standing(self, learner_id: str, offering_id: str) -> Standing:
        rows = await execute(
            self._session, _STANDING, {"learner_id": learner_id, "the_offering_id": offering_id}
        )
        enrolled: tuple[str, EnrolmentStatus] | None = None
        earned: list[EarnedCredential] = []
        for kind, key, value, revoked, suspended in rows:
            if kind == "enrolled":
                enrolled = (key, EnrolmentStatus(value))
            else:
                earned.append(
                    EarnedCredential(key, learner_id, value, bool(revoked), bool(suspended))
                )
        return Standing(enrolled, tuple(earned))

    async def waiting_list(self, offering_id: str) -> list[Enrolment]:
        """The learners waiting for a place, next first, with their positions."""
        rows = await execute(self._session, _WAITING_LIST, {"offering_id": offering_id})
        return [_enrolment(row, index) for index, row in enumerate(rows, start=1)]

    async def add(self, enrolment: Enrolment) -> bool:
        """Stores a new enrolment; False when the learner holds an active one in the
        offering already (the partial unique index), so nothing was written."""
        fields = {
            "enrolment_id": enrolment.enrolment_id,
            "offering_id": enrolment.offering_id,
            "partner_id": enrolment.partner_id,
            "learner_id": enrolment.learner_id,
            "status": enrolment.status.value,
            "reason": enrolment.reason.value if enrolment.reason else None,
            "detail": enrolment.detail,
            "requested_at": enrolment.requested_at,
            "changed_at": enrolment.changed_at,
        }
        if enrolment.status is EnrolmentStatus.WAITLISTED:
            return await added(
                self._session, _INSERT_WAITING, {**fields, "queued_in": enrolment.offering_id}
            )
        return await added(self._session, _INSERT_ENROLMENT, fields)

    async def update(self, enrolment: Enrolment) -> None:
        fields: dict[str, Any] = {
            "the_enrolment_id": enrolment.enrolment_id,
            "status": enrolment.status.value,
            "reason": enrolment.reason.value if enrolment.reason else None,
            "detail": enrolment.detail,
            "changed_at": enrolment.changed_at,
        }
        if enrolment.status is not EnrolmentStatus.WAITLISTED:
            fields["queue_number"] = None
        if (await execute(self._session, _UPDATE_ENROLMENT, fields)).rowcount != 1:
            raise LookupError(f"no enrolment {enrolment.enrolment_id}")


# Earned credentials.

_EARNED = select(
    EARNED.c.learner_id, EARNED.c.offering_id, EARNED.c.revoked, EARNED.c.suspended
).where(EARNED.c.credential_id == bindparam("credential_id"))
_INSERT_EARNED = insert(EARNED)
# A credential's issuance: a new row, or the offering given to the row a revocation or
# suspension that came first wrote (its status stands).
_ADD_ISSUED = insert_rows(EARNED, [c.name for c in EARNED.c], update=["offering_id", "changed_at"])
_UPDATE_EARNED = update(EARNED).where(EARNED.c.credential_id == bindparam("the_credential_id"))


class EarnedCredentialRepository(_Repository):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        # Issuances kept until the commit (`write_issued`), by credential id: a batch of
        # credential events writes them in one statement, not one each an event.
        self._issued: dict[str, EarnedCredential] = {}

    async def get(self, credential_id: str) -> EarnedCredential | None:
        await self.write_issued()
        row = (await execute(self._session, _EARNED, {"credential_id": credential_id})).first()
        return EarnedCredential(credential_id, *row) if row else None

    async def add_issued(self, credential: EarnedCredential) -> None:
        """Holds a credential newly issued: written at the commit, or over the revocation or
        suspension held already for its id."""
        self._issued[credential.credential_id] = credential

    async def write_issued(self) -> None:
        issued, self._issued = list(self._issued.values()), {}
        if issued:
            rows = [{"credential_id": c.credential_id, **_earned_fields(c)} for c in issued]
            await insert_all(self._session, _ADD_ISSUED, rows)

    async def save(self, credential: EarnedCredential, first: bool) -> None:
        """`first` when `get` found none: a new row rather than a change of one."""
        fields = _earned_fields(credential)
        if first:
            await execute(
                self._session, _INSERT_EARNED, {"credential_id": credential.credential_id, **fields}
            )
        else:
            await execute(
                self._session,
                _UPDATE_EARNED,
                {"the_credential_id": credential.credential_id, **fields},
            )


def _earned_fields(credential: EarnedCredential) -> dict[str, Any]:
    return {
        "learner_id": credential.learner_id,
        "offering_id": credential.offering_id,
        "revoked": credential.revoked,
        "suspended": credential.suspended,
        "changed_at": utc_now(),
    }
