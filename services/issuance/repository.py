"""Reads and writes of offering terms, issued credentials and status lists, as the domain's
objects.

What the events run (offering terms, credentials) is built once and run with
`shared.db.statements`; offers and nonces, written by wallets' requests, go through the
session."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Row, Table, and_, bindparam, func, or_, select, update
from sqlmodel import col, delete, select as select_records, update as update_records
from sqlmodel.ext.asyncio.session import AsyncSession

from services.issuance.domain import (
    Completion,
    Credential,
    CredentialOffer,
    OfferingTerms,
    StatusList,
)
from services.issuance.tables import (
    CredentialComponent,
    CredentialOfferRecord,
    CredentialRecord,
    OfferingTermsRecord,
    ProofNonceRecord,
    StatusListRecord,
)
from shared.clock import utc_now
from shared.credentials import new_status_list, random_status_index
from shared.db.statements import (
    OneOf,
    Statement,
    added,
    all_added,
    execute,
    insert_all,
    insert_new,
    insert_rows,
    upsert,
    with_list,
)
from shared.errors import LostRace
from shared.events import AchievementSummary, OfferingSnapshot

# Random indexes looked up per issuance (when all are taken, every used index is read).
STATUS_INDEX_CANDIDATES = 8

TERMS: Table = OfferingTermsRecord.__table__  # type: ignore[attr-defined]
CREDENTIALS: Table = CredentialRecord.__table__  # type: ignore[attr-defined]
COMPONENTS: Table = CredentialComponent.__table__  # type: ignore[attr-defined]


_TERMS = select(
    TERMS.c.offering_id, TERMS.c.partner_id, TERMS.c.version, TERMS.c.snapshot, TERMS.c.withdrawn
).where(TERMS.c.offering_id == bindparam("offering_id"))
# The terms are the offering as last published or updated: written whole, new or not (the
# partner stays the one that first published it).
_SAVE_TERMS = upsert(TERMS, "offering_id", ("version", "withdrawn", "snapshot", "changed_at"))


class OfferingTermsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # The terms read in this unit of work (a batch of events): most results of a batch
        # are for a few offerings, each read and parsed once. Saved terms are read again.
        self._read: dict[str, OfferingTerms] = {}

    async def get(self, offering_id: str) -> OfferingTerms | None:
        if (known := self._read.get(offering_id)) is not None:
            return known
        row = (await execute(self._session, _TERMS, {"offering_id": offering_id})).first()
        if row is None:
            return None
        # Kept as published or updated; the snapshot is the part both share.
        published = json.loads(row.snapshot)
        snapshot = OfferingSnapshot.model_validate(
            {key: value for key, value in published.items() if key in OfferingSnapshot.model_fields}
        )
        terms = OfferingTerms(row.offering_id, row.partner_id, row.version, snapshot, row.withdrawn)
        self._read[offering_id] = terms
        return terms

    async def save(self, terms: OfferingTerms) -> None:
        self._read.pop(terms.offering_id, None)
        await execute(
            self._session,
            _SAVE_TERMS,
            {
                "offering_id": terms.offering_id,
                "partner_id": terms.partner_id,
                "version": terms.version,
                "withdrawn": terms.withdrawn,
                "snapshot": terms.snapshot.model_dump_json(exclude_none=True),
                "changed_at": utc_now(),
            },
        )


def _credential(row: Row[*tuple[Any, ...]]) -> Credential:
    return Credential(
        credential_id=row.credential_id,
        basis=row.basis,
        issuer_partner_id=row.issuer_partner_id,
        awarding_partner_id=row.awarding_partner_id,
        status_list_index=row.status_list_index,
        document=row.document,
        issued_at=row.issued_at,
        learner_id=row.learner_id,
        offering_id=row.offering_id,
        enrolment_id=row.enrolment_id,
        result_id=row.result_id,
        pathway_id=row.pathway_id,
        summary=AchievementSummary.model_validate_json(row.summary) if row.summary else None,
        revoked_at=row.revoked_at,
        revocation_reason=row.revocation_reason,
        suspended_at=row.suspended_at,
    )


_CREDENTIAL = select(CREDENTIALS).where(CREDENTIALS.c.credential_id == bindparam("credential_id"))


def _taken_among(one_of: OneOf) -> ColumnElement[bool]:
    """Whether a few random status indexes of the issuer's list are taken: read with what an
    issuance reads anyway, in the same statement."""
    return and_(
        CREDENTIALS.c.issuer_partner_id == bindparam("issuer_partner_id"),
        one_of(CREDENTIALS.c.status_list_index, "among"),
    )


# An enrolment's credentials are its learner's, so the learners' index finds them (the
# enrolment's is partial, of current credentials only): no scan of every credential per result.
# The results of a batch are read together: their learners' credentials for their enrolments
# (each enrolment's learner sorted out after), and their status index candidates.
_FOR_RESULTS = with_list(
    lambda one_of: select(CREDENTIALS).where(
        or_(
            and_(
                one_of(CREDENTIALS.c.learner_id, "learner_ids"),
                one_of(CREDENTIALS.c.enrolment_id, "enrolment_ids"),
            ),
            _taken_among(one_of),
        )
    )
)
# The completed pathways of a batch are read together: their components, their learners'
# current credentials for their pathways (each completion's sorted out after), and their status
# index candidates.
_FOR_STACKINGS = with_list(
    lambda one_of: select(CREDENTIALS).where(
        or_(
            one_of(CREDENTIALS.c.credential_id, "component_ids"),
            and_(
                one_of(CREDENTIALS.c.learner_id, "learner_ids"),
                one_of(CREDENTIALS.c.pathway_id, "pathway_ids"),
                CREDENTIALS.c.revoked_at.is_(None),
            ),
            _taken_among(one_of),
        )
    )
)
_OF_LEARNER = (
    select(CREDENTIALS)
    .where(CREDENTIALS.c.learner_id == bindparam("learner_id"))
    .order_by(CREDENTIALS.c.issued_at)
)
_COMPONENTS_OF = select(COMPONENTS.c.component_credential_id).where(
    COMPONENTS.c.stacked_credential_id == bindparam("stacked_credential_id")
)
_USED_INDEXES = select(CREDENTIALS.c.status_list_index).where(
    CREDENTIALS.c.issuer_partner_id == bindparam("issuer_partner_id")
)
_USED_AMONG = with_list(
    lambda one_of: _USED_INDEXES.where(one_of(CREDENTIALS.c.status_list_index, "among"))
)
# A concurrent issuance drawing the same status index, or issuing for the same result,
# enrolment or pathway, is the expected race: the insert then does not write that row, and
# the transaction stays usable without a savepoint. Every column but the status, which a
# revocation or suspension sets later (`save_status`).
_ADD = insert_rows(
    CREDENTIALS,
    [
        c.name
        for c in CREDENTIALS.c
        if c.name not in {"revoked_at", "revocation_reason", "suspended_at"}
    ],
    returning=CREDENTIALS.c.credential_id,
    skip_existing=True,
)
_ADD_COMPONENTS = insert_rows(COMPONENTS, ["stacked_credential_id", "component_credential_id"])
# Credentials kept unwritten at most: each holds its signed document (4-16 KB), and a batch
# read behind a backlog holds hundreds of results.
_KEPT_AT_MOST = 64
_SAVE_STATUS = (
    update(CREDENTIALS)
    .where(CREDENTIALS.c.credential_id == bindparam("id"))
    .values(
        revoked_at=bindparam("revoked"),
        revocation_reason=bindparam("reason"),
        suspended_at=bindparam("suspended"),
    )
)


class ForResult(NamedTuple):
    """What a result needs: every credential issued for its enrolment (revoked ones too),
    and a status index of the issuer's list for a new one."""

    earlier: list[Credential]
    status_index: int


class _Read(NamedTuple):
    """What the database held for a result (its enrolment's credentials) or a completion
    (its components, its learner's current credentials for its pathway), and which of its
    status index candidates are taken (see `Credentials.read_ahead`)."""

    issuer_partner_id: str
    found: list[Credential]
    candidates: list[int]
    taken: set[int]


_Key = TypeVar("_Key", str, Completion)


class Stacking(NamedTuple):
    """What a completed pathway needs: its components found (by id), the learner's current
    credential for the pathway, and a status index of the issuer's list for a new one."""

    components: dict[str, Credential]
    current: Credential | None
    status_index: int


def _status_candidates() -> list[int]:
    """A few random indexes of a status list: with the list a tenth full, all are taken once
    in a hundred million issuances."""
    return [random_status_index(()) for _ in range(STATUS_INDEX_CANDIDATES)]


def _taken(credential: Credential, issuer_partner_id: str, candidates: list[int]) -> bool:
    return (
        credential.issuer_partner_id == issuer_partner_id
        and credential.status_list_index in candidates
    )


def _new_credential(credential: Credential) -> dict[str, Any]:
    return {
        "credential_id": credential.credential_id,
        "basis": credential.basis,
        "learner_id": credential.learner_id,
        "issuer_partner_id": credential.issuer_partner_id,
        "awarding_partner_id": credential.awarding_partner_id,
        "offering_id": credential.offering_id,
        "enrolment_id": credential.enrolment_id,
        "result_id": credential.result_id,
        "pathway_id": credential.pathway_id,
        "status_list_index": credential.status_list_index,
        "summary": credential.summary.model_dump_json() if credential.summary else None,
        "document": credential.document,
        "issued_at": credential.issued_at,
    }


class Credentials:
    """The credentials issued. Those added in a unit of work are kept until its commit
    (`write_kept`), so a batch of results writes them in one statement, not one each: the
    reads a result and a completed pathway make see them, any other read writes them first."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # credential id -> the credential and its components (of a stacked credential)
        self._kept: dict[str, tuple[Credential, tuple[str, ...]]] = {}
        # enrolment id -> what was read ahead for its result, completion -> for its stacked
        # credential; good until a credential is written other than through `_kept`
        self._results_read: dict[str, _Read] = {}
        self._stackings_read: dict[Completion, _Read] = {}

    async def get(self, credential_id: str) -> Credential | None:
        if credential_id in self._kept:
            return self._kept[credential_id][0]
        row = (await execute(self._session, _CREDENTIAL, {"credential_id": credential_id})).first()
        return _credential(row) if row else None

    async def read_ahead(
        self,
        results: Mapping[str, str],
        completions: Sequence[Completion],
        issuer_partner_id: str,
    ) -> None:
        """Reads for a batch's results (enrolment id -> learner id) what `for_result` reads
        for each, in one statement, and for its completions what `for_stacking` reads, in
        another."""
        if results:
            self._results_read.update(await self._read_for_results(results, issuer_partner_id))
        if completions:
            self._stackings_read.update(
                await self._read_for_stackings(completions, issuer_partner_id)
            )

    def _forget_reads(self) -> None:
        """What was read ahead no longer holds: a credential was written or changed."""
        self._results_read = {}
        self._stackings_read = {}

    async def for_result(
        self, enrolment_id: str, learner_id: str, issuer_partner_id: str
    ) -> ForResult:
        """The enrolment's credentials and a free status index of the issuer, in one read
        (or none, read ahead), with the credentials this unit of work keeps."""
        read = self._results_read.pop(enrolment_id, None)
        if read is None or read.issuer_partner_id != issuer_partner_id:
            results = {enrolment_id: learner_id}
            read = (await self._read_for_results(results, issuer_partner_id))[enrolment_id]
        earlier, taken = list(read.found), set(read.taken)
        for credential in self._kept_credentials():
            if credential.learner_id == learner_id and credential.enrolment_id == enrolment_id:
                earlier.append(credential)
            if _taken(credential, issuer_partner_id, read.candidates):
                taken.add(credential.status_list_index)
        return ForResult(earlier, await self._free_index(issuer_partner_id, read.candidates, taken))

    async def _read_for_results(
        self, results: Mapping[str, str], issuer_partner_id: str
    ) -> dict[str, _Read]:
        return await self._read_with_candidates(
            _FOR_RESULTS,
            {"learner_ids": sorted(set(results.values())), "enrolment_ids": list(results)},
            issuer_partner_id,
            results,
            lambda enrolment_id, c: (
                (c.enrolment_id, c.learner_id) == (enrolment_id, results[enrolment_id])
            ),
        )

    async def for_stacking(
        self,
        learner_id: str,
        pathway_id: str,
        component_ids: Sequence[str],
        issuer_partner_id: str,
    ) -> Stacking:
        """The components, the learner's current credential for the pathway and a free
        status index of the issuer, in one read (or none, read ahead), with the credentials
        this unit of work keeps."""
        completion = Completion(learner_id, pathway_id, tuple(component_ids))
        read = self._stackings_read.pop(completion, None)
        if read is None or read.issuer_partner_id != issuer_partner_id:
            read = (await self._read_for_stackings([completion], issuer_partner_id))[completion]
        components: dict[str, Credential] = {}
        current = None
        taken = set(read.taken)
        for credential in [*read.found, *self._kept_credentials()]:
            if credential.credential_id in component_ids:
                components[credential.credential_id] = credential
            if completion.stacked_by(credential):
                current = credential
            if _taken(credential, issuer_partner_id, read.candidates):
                taken.add(credential.status_list_index)
        index = await self._free_index(issuer_partner_id, read.candidates, taken)
        return Stacking(components, current, index)

    async def _read_for_stackings(
        self, completions: Sequence[Completion], issuer_partner_id: str
    ) -> dict[Completion, _Read]:
        return await self._read_with_candidates(
            _FOR_STACKINGS,
            {
                "component_ids": sorted({c for done in completions for c in done.component_ids}),
                "learner_ids": sorted({done.learner_id for done in completions}),
                "pathway_ids": sorted({done.pathway_id for done in completions}),
            },
            issuer_partner_id,
            completions,
            lambda done, c: c.credential_id in done.component_ids or done.stacked_by(c),
        )

    async def _read_with_candidates(
        self,
        statement: Statement,
        parameters: Mapping[str, Any],
        issuer_partner_id: str,
        keys: Collection[_Key],
        belongs: Callable[[_Key, Credential], bool],
    ) -> dict[_Key, _Read]:
        """Runs a read ahead, with status index candidates drawn for each of its keys: each
        key's credentials (those that belong to it) and candidates taken."""
        candidates = {key: _status_candidates() for key in keys}
        rows = await execute(
            self._session,
            statement,
            {
                **parameters,
                "issuer_partner_id": issuer_partner_id,
                "among": [index for drawn in candidates.values() for index in drawn],
            },
        )
        found = [_credential(row) for row in rows]
        return {
            key: _Read(
                issuer_partner_id,
                [c for c in found if belongs(key, c)],
                drawn,
                {c.status_list_index for c in found if _taken(c, issuer_partner_id, drawn)},
            )
            for key, drawn in candidates.items()
        }

    async def of_learner(self, learner_id: str) -> list[Credential]:
        await self.write_kept()
        rows = await execute(self._session, _OF_LEARNER, {"learner_id": learner_id})
        return [_credential(row) for row in rows]

    async def components_of(self, stacked_credential_id: str) -> set[str]:
        await self.write_kept()
        rows = await execute(
            self._session, _COMPONENTS_OF, {"stacked_credential_id": stacked_credential_id}
        )
        return set(rows.scalars())

    async def free_status_index(self, issuer_partner_id: str) -> int:
        """A random index of the issuer's list no credential has had (the unique constraint
        catches two issuances drawing the same one at once). A few random candidates are
        looked up in one read of that constraint's index, rather than every index used so
        far: that read grew with every credential issued."""
        candidates = _status_candidates()
        taken = await self._used_indexes(issuer_partner_id, candidates)
        return await self._free_index(issuer_partner_id, candidates, taken)

    async def _free_index(
        self, issuer_partner_id: str, candidates: list[int], taken: set[int]
    ) -> int:
        free = [index for index in candidates if index not in taken]
        if free:
            return free[0]
        # All taken: the list is filling up, so draw from what every index says.
        return random_status_index(await self._used_indexes(issuer_partner_id))

    async def _used_indexes(
        self, issuer_partner_id: str, among: list[int] | None = None
    ) -> set[int]:
        await self.write_kept()
        if among is None:
            rows = await execute(
                self._session, _USED_INDEXES, {"issuer_partner_id": issuer_partner_id}
            )
        else:
            rows = await execute(
                self._session,
                _USED_AMONG,
                {"issuer_partner_id": issuer_partner_id, "among": among},
            )
        return set(rows.scalars())

    async def add(self, credential: Credential, components: tuple[str, ...] = ()) -> None:
        """Keeps a new credential (a stacked one with its components) to be written at the
        commit, or with the next ones once `_KEPT_AT_MOST` are kept."""
        self._kept[credential.credential_id] = (credential, components)
        if len(self._kept) >= _KEPT_AT_MOST:
            await self.write_kept()

    async def write_kept(self) -> None:
        """Writes the credentials kept. Raises LostRace when a concurrent issuance came first
        for one of them, drawing the same status index or issuing for the same result,
        enrolment or pathway: the unit of work is then applied again, and sees it."""
        kept, self._kept = self._kept, {}
        if not kept:
            return
        self._forget_reads()  # read without these
        rows = [_new_credential(credential) for credential, _ in kept.values()]
        if not await all_added(self._session, _ADD, rows):
            raise LostRace("a concurrent issuance collided; retry")
        components = [
            {"stacked_credential_id": stacked, "component_credential_id": component}
            for stacked, (_, of_stacked) in kept.items()
            for component in of_stacked
        ]
        if components:
            await insert_all(self._session, _ADD_COMPONENTS, components)

    def _kept_credentials(self) -> list[Credential]:
        return [credential for credential, _ in self._kept.values()]

    async def save_status(self, credential: Credential) -> None:
        """Writes the credential's revocation and suspension at once: the partial unique
        indexes must see a revocation before a replacement is added."""
        await self.write_kept()
        self._forget_reads()  # read before this status
        await execute(
            self._session,
            _SAVE_STATUS,
            {
                "id": credential.credential_id,
                "revoked": credential.revoked_at,
                "reason": credential.revocation_reason,
                "suspended": credential.suspended_at,
            },
        )


STATUS_LISTS: Table = StatusListRecord.__table__  # type: ignore[attr-defined]
_THE_LIST = (
    STATUS_LISTS.c.issuer_partner_id == bindparam("of_issuer"),
    STATUS_LISTS.c.purpose == bindparam("for_purpose"),
)
_STATUS_LIST = select(
    STATUS_LISTS.c.issuer_partner_id,
    STATUS_LISTS.c.purpose,
    STATUS_LISTS.c.bits,
    STATUS_LISTS.c.changed_at,
    STATUS_LISTS.c.signed,
).where(*_THE_LIST)
# Two changes at once must not both write the bits they read.
_STATUS_LIST_LOCKED = _STATUS_LIST.with_for_update()
# Created at the same moment by another transaction: the insert writes nothing, and that
# one is read.
_ADD_STATUS_LIST = insert_new(STATUS_LISTS, returning=STATUS_LISTS.c.purpose)
_FIRST_ISSUED = select(func.min(CREDENTIALS.c.issued_at)).where(
    CREDENTIALS.c.issuer_partner_id == bindparam("issuer_partner_id")
)
_SAVE_STATUS_LIST = (
    update(STATUS_LISTS)
    .where(*_THE_LIST)
    .values(bits=bindparam("now_bits"), signed=bindparam("now_signed"), changed_at=bindparam("at"))
)
_CACHE_SIGNED = (
    update(STATUS_LISTS)
    .where(*_THE_LIST, STATUS_LISTS.c.changed_at == bindparam("read_at_change"))
    .values(signed=bindparam("now_signed"))
)


def _status_list(row: Row[*tuple[Any, ...]]) -> StatusList:
    issuer_partner_id, purpose, bits, changed_at, signed = row
    return StatusList(
        issuer_partner_id, purpose, bits, changed_at, json.loads(signed) if signed else None
    )


class StatusLists:
    def __init__(self, session: AsyncSession, credentials: Credentials) -> None:
        self._session = session
        self._credentials = credentials

    async def get(
        self, issuer_partner_id: str, purpose: str, *, for_update: bool = False
    ) -> StatusList:
        """The issuer's list for `purpose`, created empty the first time it is needed."""
        query = _STATUS_LIST_LOCKED if for_update else _STATUS_LIST
        key = {"of_issuer": issuer_partner_id, "for_purpose": purpose}
        found = (await execute(self._session, query, key)).first()
        if found is not None:
            return _status_list(found)
        # Valid from the issuer's first credential, not from this first read (its bits have
        # been clear since then): a verifier that took its moment before asking for the list
        # must not find it "not valid before" a second later than that moment.
        await self._credentials.write_kept()
        first = await execute(
            self._session, _FIRST_ISSUED, {"issuer_partner_id": issuer_partner_id}
        )
        since = first.scalar() or utc_now()
        created = StatusList(issuer_partner_id, purpose, bytes(new_status_list()), since, None)
        if await added(
            self._session,
            _ADD_STATUS_LIST,
            {
                "issuer_partner_id": issuer_partner_id,
                "purpose": purpose,
                "bits": created.bits,
                "changed_at": created.changed_at,
            },
        ):
            return created
        return _status_list((await execute(self._session, query, key)).one())

    async def save(self, status_list: StatusList) -> None:
        await execute(
            self._session,
            _SAVE_STATUS_LIST,
            {
                "of_issuer": status_list.issuer_partner_id,
                "for_purpose": status_list.purpose,
                "now_bits": status_list.bits,
                "now_signed": json.dumps(status_list.signed) if status_list.signed else None,
                "at": status_list.changed_at,
            },
        )

    async def cache_signed(
        self, issuer_partner_id: str, purpose: str, read_at_change: datetime, signed: dict[str, Any]
    ) -> None:
        """Keeps the signed list unless a bit changed since it was read."""
        await execute(
            self._session,
            _CACHE_SIGNED,
            {
                "of_issuer": issuer_partner_id,
                "for_purpose": purpose,
                "read_at_change": read_at_change,
                "now_signed": json.dumps(signed),
            },
        )


def _offer(record: CredentialOfferRecord) -> CredentialOffer:
    return CredentialOffer(
        offer_id=record.offer_id,
        credential_id=record.credential_id,
        learner_id=record.learner_id,
        code_hash=record.code_hash,
        tx_code_hash=record.tx_code_hash,
        expires_at=record.expires_at,
        failed_attempts=record.failed_attempts,
        redeemed_at=record.redeemed_at,
        token_hash=record.token_hash,
        token_expires_at=record.token_expires_at,
        delivered_at=record.delivered_at,
        exchange_hash=record.exchange_hash,
        challenge_hash=record.challenge_hash,
    )


class CredentialOffers:
    """Offers to wallets, found by the hash of their pre-authorized code, access token or
    exchange id."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, offer: CredentialOffer) -> None:
        self._session.add(CredentialOfferRecord(**_offer_fields(offer)))

    async def by_code(self, code_hash: str) -> CredentialOffer | None:
        return await self._one(col(CredentialOfferRecord.code_hash) == code_hash)

    async def by_token(self, token_hash: str) -> CredentialOffer | None:
        return await self._one(col(CredentialOfferRecord.token_hash) == token_hash)

    async def by_exchange(self, exchange_hash: str) -> CredentialOffer | None:
        return await self._one(col(CredentialOfferRecord.exchange_hash) == exchange_hash)

    async def _one(self, condition: Any) -> CredentialOffer | None:
        # Locked: a code or token used twice at once is used once.
        query = select_records(CredentialOfferRecord).where(condition).with_for_update()
        record = (await self._session.exec(query)).first()
        return _offer(record) if record else None

    async def save(self, offer: CredentialOffer) -> None:
        fields = _offer_fields(offer)
        del fields["offer_id"]
        await self._session.exec(
            update_records(CredentialOfferRecord)
            .where(col(CredentialOfferRecord.offer_id) == offer.offer_id)
            .values(**fields)
        )


def _offer_fields(offer: CredentialOffer) -> dict[str, Any]:
    return {name: getattr(offer, name) for name in CredentialOfferRecord.model_fields}


class ProofNonces:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, nonce_hash: str, expires_at: datetime) -> None:
        self._session.add(ProofNonceRecord(nonce_hash=nonce_hash, expires_at=expires_at))

    async def use(self, nonce_hash: str, now: datetime) -> bool:
        """Spends the nonce; False when it is unknown, spent or expired. Expired ones are
        dropped on the way."""
        await self._session.exec(
            delete(ProofNonceRecord).where(col(ProofNonceRecord.expires_at) <= now)
        )
        spent = await self._session.exec(
            delete(ProofNonceRecord)
            .where(col(ProofNonceRecord.nonce_hash) == nonce_hash)
            .returning(col(ProofNonceRecord.nonce_hash))
        )
        return spent.first() is not None
