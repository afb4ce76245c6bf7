"""Issuing, revoking, suspending and reinstating: the service's use cases, shared by the
event handlers and the API.

Issuance is operated by one partner and issues by mandate: a credential earned through an
offering is signed by the issuing partner (the operator) and names the offering's awarding
body as `achievement.creator`. Through the VC API a partner has credentials issued in its
own name, signed with its own key.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.issuance.domain import (
    Action,
    EarlierCredential,
    Issuance,
    Party,
    achievement_summary,
    decide_on_result,
    microcredential_data,
    stacked_summary,
    xsd_datetime,
)
from services.issuance.keys import CredentialKeys, UnknownPartnerKey
from services.issuance.repository import Credentials, StatusLists
from services.issuance.tables import CredentialRecord, OfferingTerms
from shared.clock import utc_now
from shared.credentials import (
    build_microcredential,
    build_status_list_credential,
    set_status,
    status_list_entry,
)
from shared.credentials.clr import ClrData, build_clr
from shared.credentials.data_model import CLR_TYPE, OB_TYPES, check_credential, vc_version
from shared.credentials.loader import DATA_INTEGRITY_V2
from shared.credentials.reference import CanonicalizationError
from shared.credentials.status_list import PURPOSES, REVOCATION, SUSPENSION
from shared.db.uow import UnitOfWork
from shared.events import (
    AchievementSummary,
    AssessedResult,
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    OfferingSnapshot,
    PathwayCompleted,
    RevocationReason,
    StatusListEntry,
)
from shared.events.pathways import PathwayCompletionRevoked
from shared.messaging.consumer import Deferred, EventRejected
from shared.registry import AllianceRegistry
from shared.transient import TransientError

log = logging.getLogger(__name__)


class NotIssuable(Exception):
    """A credential sent to the VC API cannot be issued as it is."""


class ForeignIssuer(Exception):
    """A partner asked for a credential in another issuer's name."""


class StatusConflict(Exception):
    """A revoked credential can be neither suspended nor reinstated: revocation is final."""


def new_credential_id() -> str:
    return f"cred-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Revocation:
    credential_id: str
    reason: str
    revoked_at: datetime


class CredentialService:
    def __init__(
        self,
        keys: CredentialKeys,
        registry: AllianceRegistry,
        public_base_url: str,
        issuing_partner_id: str,
    ) -> None:
        self.keys = keys
        self._registry = registry
        self._base = public_base_url.rstrip("/")
        self.issuing_partner_id = issuing_partner_id

    # Where things are published.
    def credential_url(self, credential_id: str) -> str:
        return f"{self._base}/credentials/{credential_id}"

    def status_list_url(self, partner_id: str, purpose: str = REVOCATION) -> str:
        return f"{self._base}/status/{partner_id}/{purpose}"

    def local_status_list(self, url: str) -> tuple[str, str] | None:
        """The issuing partner and purpose of a status list this service publishes, from its
        URL."""
        prefix = f"{self._base}/status/"
        partner, _, purpose = url.removeprefix(prefix).partition("/")
        if url.startswith(prefix) and purpose in PURPOSES and partner in self.keys.partners:
            return partner, purpose
        return None

    def party(self, partner_id: str) -> Party:
        partner = self._registry.partners.get(partner_id)
        if partner is None:
            raise UnknownPartnerKey(f"{partner_id!r} is not a partner of the alliance")
        return Party(
            partner_id, self.keys.did(partner_id), partner.legal_name, partner.country,
            partner.website,
        )  # fmt: skip

    # Results.
    async def on_result(self, uow: UnitOfWork, result: AssessedResult) -> None:
        credentials = Credentials(uow.session)
        earlier = await credentials.for_enrolment(result.enrolment_id)
        action = decide_on_result(
            result,
            [EarlierCredential(c.result_id, c.revoked_at is not None, c.revocation_reason)
             for c in earlier],
        )  # fmt: skip
        if action is Action.NOTHING:
            return
        terms = None
        if action in (Action.ISSUE, Action.REISSUE):
            terms = await self._terms(uow, result.offering_id)
        current = [c for c in earlier if c.revoked_at is None]
        for superseded in current:
            await self.revoke(
                uow, superseded, RevocationReason.RESULT_SUPERSEDED,
                f"Result {result.result_id} corrects the result it was issued for.",
            )  # fmt: skip
        if terms is not None:
            replacement = await self._issue_for_result(uow, terms, result)
            # A correction of the grade does not lift a suspension the awarding partner set.
            if any(c.suspended_at is not None for c in current):
                await self.suspend(uow, replacement, "Suspended as the credential it replaces was.")

    async def _terms(self, uow: UnitOfWork, offering_id: str) -> OfferingSnapshot:
        stored = await uow.session.get(OfferingTerms, offering_id)
        if stored is None:
            raise Deferred(f"offering:{offering_id}", f"offering {offering_id} is not known yet")
        # Kept as published or updated; the snapshot is the part both share.
        published = json.loads(stored.snapshot)
        return OfferingSnapshot.model_validate(
            {key: value for key, value in published.items() if key in OfferingSnapshot.model_fields}
        )

    async def _issue_for_result(
        self, uow: UnitOfWork, terms: OfferingSnapshot, result: AssessedResult
    ) -> CredentialRecord:
        awarding_id = terms.awarding_bodies[0].partner_id
        try:
            issuer = self.party(self.issuing_partner_id)
            awarding = self.party(awarding_id)
            assessing = self.party(result.partner_id)
        except UnknownPartnerKey as exc:
            raise EventRejected(str(exc)) from exc
        credential_id = new_credential_id()
        now = utc_now()
        index = await Credentials(uow.session).free_status_index(issuer.partner_id)
        data = microcredential_data(
            terms,
            result,
            Issuance(
                credential_url=self.credential_url(credential_id),
                achievement_id=f"{self._base}/achievements/{terms.offering_id}",
                issuer=issuer,
                awarding_body=awarding,
                assessing_body=assessing,
                issued_at=now,
                status_list_url=self.status_list_url(issuer.partner_id),
                status_list_index=index,
            ),
        )
        document = self.keys.sign(issuer.partner_id, build_microcredential(data), data.valid_from)
        summary = achievement_summary(terms)
        record = CredentialRecord(
            credential_id=credential_id,
            basis="result",
            learner_id=result.learner_id,
            issuer_partner_id=issuer.partner_id,
            awarding_partner_id=awarding.partner_id,
            offering_id=terms.offering_id,
            enrolment_id=result.enrolment_id,
            result_id=result.result_id,
            status_list_index=index,
            summary=summary.model_dump_json(),
            document=json.dumps(document),
            issued_at=now,
        )
        await self._store(uow, record, ())
        uow.record(self._issued_event(record, issuer, summary, offering_id=terms.offering_id))
        return record

    # Pathways.
    async def on_pathway_completed(self, uow: UnitOfWork, event: PathwayCompleted) -> None:
        credentials = Credentials(uow.session)
        components: list[CredentialRecord] = []
        for component_id in event.component_credential_ids:
            component = await credentials.get(component_id)
            if component is None:
                raise Deferred(
                    f"credential:{component_id}", f"component {component_id} is not issued yet"
                )
            if component.learner_id != event.learner_id:
                raise EventRejected(f"{component_id} is not a credential of the learner")
            if component.revoked_at is not None:
                raise EventRejected(f"component {component_id} is revoked")
            components.append(component)
        current = await credentials.current_for_pathway(event.learner_id, event.pathway_id)
        if current is not None:
            if await credentials.components_of(current.credential_id) == set(
                event.component_credential_ids
            ):
                return  # this completion is already stacked
            await self.revoke(
                uow, current, RevocationReason.OTHER,
                f"Replaced by a new completion of pathway {event.pathway_id}.",
            )  # fmt: skip
        await self._issue_stacked(uow, event, components)

    async def _issue_stacked(
        self, uow: UnitOfWork, event: PathwayCompleted, components: list[CredentialRecord]
    ) -> None:
        try:
            issuer = self.party(self.issuing_partner_id)
            awarding = self.party(event.owner_partner_id)
        except UnknownPartnerKey as exc:
            raise EventRejected(str(exc)) from exc
        credential_id = new_credential_id()
        now = utc_now()
        index = await Credentials(uow.session).free_status_index(issuer.partner_id)
        language = "en" if "en" in event.title else next(iter(event.title))
        title = event.title[language]
        summary = stacked_summary(
            dict(event.title),
            event.ects_earned,
            [AchievementSummary.model_validate_json(str(c.summary)) for c in components],
        )
        document = build_clr(
            ClrData(
                credential_id=self.credential_url(credential_id),
                achievement_id=f"{self._base}/pathways/{event.pathway_id}",
                issuer=issuer.organisation(),
                awarding_body=awarding.organisation(),
                learner_id=event.learner_id,
                title=title,
                description=f"{title}: {len(components)} stacked micro-credentials, "
                f"{event.ects_earned:g} ECTS.",
                criteria=f"Completion of the alliance pathway {event.pathway_id} "
                f"(version {event.pathway_version}), owned by {awarding.legal_name}.",
                valid_from=xsd_datetime(now),
                ects=event.ects_earned,
                components=[json.loads(c.document) for c in components],
                status_list_credential=self.status_list_url(issuer.partner_id),
                status_list_index=index,
            )
        )
        signed = self.keys.sign(issuer.partner_id, document, xsd_datetime(now))
        record = CredentialRecord(
            credential_id=credential_id,
            basis="pathway",
            learner_id=event.learner_id,
            issuer_partner_id=issuer.partner_id,
            awarding_partner_id=awarding.partner_id,
            pathway_id=event.pathway_id,
            status_list_index=index,
            summary=summary.model_dump_json(),
            document=json.dumps(signed),
            issued_at=now,
        )
        await self._store(uow, record, event.component_credential_ids)
        uow.record(
            self._issued_event(
                record, issuer, summary,
                pathway_id=event.pathway_id,
                component_credential_ids=event.component_credential_ids,
            )
        )  # fmt: skip

    async def on_pathway_completion_revoked(
        self, uow: UnitOfWork, event: PathwayCompletionRevoked
    ) -> None:
        stacked = await Credentials(uow.session).get(event.stacked_credential_id)
        if (
            stacked is None
            or stacked.pathway_id != event.pathway_id
            or stacked.learner_id != event.learner_id
        ):
            raise EventRejected(
                f"{event.stacked_credential_id} is not the learner's credential for "
                f"pathway {event.pathway_id}"
            )
        await self.revoke(uow, stacked, RevocationReason.COMPONENT_REVOKED, event.reason)

    # The VC API.
    async def issue_document(
        self, uow: UnitOfWork, partner_id: str, credential: dict[str, Any]
    ) -> dict[str, Any]:
        """Signs `credential` (VC 1.1 or 2.0) in the partner's own name, with a revocation
        entry of ours beside any status entry it asks for; refuses what the data model calls
        invalid (`InvalidCredential`) and what JSON-LD safe mode refuses (`NotIssuable`)."""
        issuer_did = self.keys.did(partner_id)
        given = credential.get("issuer")
        given_id = given.get("id") if isinstance(given, dict) else given
        if given is not None and given_id != issuer_did:
            raise ForeignIssuer(f"{partner_id} issues as {issuer_did}, not as {given_id}")
        if "proof" in credential:
            raise NotIssuable("the credential already carries a proof")
        version = vc_version(credential)
        credential_id = new_credential_id()
        now = utc_now()
        index = await Credentials(uow.session).free_status_index(partner_id)
        requested = credential.get("credentialStatus")
        entries = [
            entry
            for entry in (requested if isinstance(requested, list) else [requested])
            if entry is not None and not _placeholder_status(entry)
        ]
        if any(isinstance(e, dict) and _incomplete_status(e) for e in entries):
            raise NotIssuable(
                "credentialStatus: only revocation and suspension entries are completed here"
            )
        unsigned = {
            **credential,
            "id": credential.get("id", self.credential_url(credential_id)),
            # An absent issuer is the partner's; a null one stays, for the data model to refuse.
            "issuer": given if "issuer" in credential else issuer_did,
        }
        if version == "2.0":
            # Open Badges 3.0 and CLR 2.0 allow one credentialStatus, so a badge gets only
            # our revocation entry; a plain VC 2.0 credential gets a suspension entry too.
            types = credential.get("type")
            profiled = isinstance(types, list) and bool(set(types) & (OB_TYPES | {CLR_TYPE}))
            ours = [
                status_list_entry(self.status_list_url(partner_id, purpose), index, purpose)
                for purpose in ((REVOCATION,) if profiled else PURPOSES)
            ]
            every = [*entries, *ours]
            unsigned["credentialStatus"] = every if len(every) > 1 else every[0]
        else:
            # Our Bitstring Status List is a VC 2.0 term, so a 1.1 credential keeps only the
            # status it came with; as Digital Bazaar's issuer does, it gets its issuance
            # date and the context that defines DataIntegrityProof.
            unsigned.setdefault("issuanceDate", xsd_datetime(now))
            if DATA_INTEGRITY_V2 not in unsigned["@context"]:
                unsigned["@context"] = [*unsigned["@context"], DATA_INTEGRITY_V2]
        check_credential(unsigned)
        try:
            signed = self.keys.sign(partner_id, unsigned, xsd_datetime(now))
        except CanonicalizationError as exc:
            raise NotIssuable(f"JSON-LD safe mode: {exc}") from exc
        record = CredentialRecord(
            credential_id=credential_id,
            basis="vc-api",
            issuer_partner_id=partner_id,
            awarding_partner_id=partner_id,
            status_list_index=index,
            document=json.dumps(signed),
            issued_at=now,
        )
        await self._store(uow, record, ())
        return signed

    # Revocation.
    async def revoke(
        self,
        uow: UnitOfWork,
        credential: CredentialRecord,
        reason: RevocationReason,
        detail: str | None = None,
    ) -> Revocation:
        """Sets the credential's bit and announces it (recognition then re-evaluates what
        counted it, and asks for a stacked credential built on it to be revoked)."""
        if credential.revoked_at is not None:
            return Revocation(
                credential.credential_id, str(credential.revocation_reason), credential.revoked_at
            )
        now = utc_now()
        credential.revoked_at = now
        credential.revocation_reason = reason.value
        uow.session.add(credential)
        await self._set_status(uow, credential, REVOCATION, True, now)
        if credential.learner_id is not None:
            uow.record(
                CredentialRevoked(
                    credential_id=credential.credential_id,
                    learner_id=credential.learner_id,
                    awarding_partner_id=credential.awarding_partner_id,
                    reason=reason,
                    detail=detail,
                    revoked_at=now,
                )
            )
        # The partial unique indexes must see the revocation before a replacement is added.
        await uow.session.flush()
        return Revocation(credential.credential_id, reason.value, now)

    # Suspension: reversible, and announced so recognition stops counting the credential
    # meanwhile; it is not revocation's cascade.
    async def suspend(
        self, uow: UnitOfWork, credential: CredentialRecord, detail: str | None = None
    ) -> None:
        await self._change_suspension(uow, credential, True, detail)

    async def reinstate(
        self, uow: UnitOfWork, credential: CredentialRecord, detail: str | None = None
    ) -> None:
        await self._change_suspension(uow, credential, False, detail)

    async def _change_suspension(
        self, uow: UnitOfWork, credential: CredentialRecord, suspended: bool, detail: str | None
    ) -> None:
        if credential.revoked_at is not None:
            raise StatusConflict(f"{credential.credential_id} is revoked; revocation is final")
        if (credential.suspended_at is not None) == suspended:
            return  # already so: asking twice changes nothing
        now = utc_now()
        credential.suspended_at = now if suspended else None
        uow.session.add(credential)
        await self._set_status(uow, credential, SUSPENSION, suspended, now)
        if credential.learner_id is None:
            return
        fields = {
            "credential_id": credential.credential_id,
            "learner_id": credential.learner_id,
            "awarding_partner_id": credential.awarding_partner_id,
            "detail": detail,
        }
        uow.record(
            CredentialSuspended(**fields, suspended_at=now)
            if suspended
            else CredentialReinstated(**fields, reinstated_at=now)
        )

    async def _set_status(
        self,
        uow: UnitOfWork,
        credential: CredentialRecord,
        purpose: str,
        value: bool,
        now: datetime,
    ) -> None:
        """Sets or clears the credential's bit in its issuer's `purpose` list; the signed
        list is made again when next read."""
        status_list = await StatusLists(uow.session).get(
            credential.issuer_partner_id, purpose, for_update=True
        )
        bits = bytearray(status_list.bits)
        set_status(bits, credential.status_list_index, value)
        status_list.bits = bytes(bits)
        status_list.signed = None
        status_list.changed_at = now
        uow.session.add(status_list)

    # Status lists.
    async def signed_status_list(
        self, uow: UnitOfWork, partner_id: str, purpose: str
    ) -> dict[str, Any]:
        """The partner's signed `purpose` list; signed again only after a bit changed (or
        after a key rotation)."""
        status_list = await StatusLists(uow.session).get(partner_id, purpose)
        if status_list.signed is not None:
            cached: dict[str, Any] = json.loads(status_list.signed)
            if cached["proof"]["verificationMethod"] == self.keys.verification_method(partner_id):
                return cached
        now = xsd_datetime(utc_now())
        unsigned = build_status_list_credential(
            self.status_list_url(partner_id, purpose),
            self.keys.did(partner_id),
            # Valid from its last change, not from its signing: a verifier that started
            # checking a credential a moment before the list was signed must not find the
            # list "not valid yet".
            xsd_datetime(status_list.changed_at),
            status_list.bits,
            purpose,
        )
        signed = self.keys.sign(partner_id, unsigned, now)
        await StatusLists(uow.session).cache_signed(
            partner_id, purpose, status_list.changed_at, json.dumps(signed)
        )
        return signed

    # Helpers.
    async def _store(
        self, uow: UnitOfWork, record: CredentialRecord, components: tuple[str, ...]
    ) -> None:
        Credentials(uow.session).add(record, components)
        try:
            await uow.session.flush()
        except IntegrityError as exc:
            # The same status index drawn twice, or the same basis issued concurrently:
            # retried, the loser sees the winner's credential or draws another index.
            raise TransientError("a concurrent issuance collided; retry") from exc
        uow.release(f"credential:{record.credential_id}")

    def _issued_event(
        self,
        record: CredentialRecord,
        issuer: Party,
        summary: AchievementSummary,
        **basis: Any,
    ) -> CredentialIssued:
        return CredentialIssued(
            credential_id=record.credential_id,
            learner_id=str(record.learner_id),
            awarding_partner_id=record.awarding_partner_id,
            issuing_partner_id=issuer.partner_id,
            issuer_did=issuer.did,
            issued_at=record.issued_at,
            achievement=summary,
            status=StatusListEntry(
                status_list_url=self.status_list_url(issuer.partner_id),
                status_list_index=record.status_list_index,
            ),
            credential_url=self.credential_url(record.credential_id),
            **basis,
        )


def _placeholder_status(status: Any) -> bool:
    """A bare `BitstringStatusListEntry` request the issuer completes (with its own entries)."""
    return (
        isinstance(status, dict)
        and _incomplete_status(status)
        and status.get("statusPurpose", REVOCATION) in PURPOSES
    )


def _incomplete_status(status: dict[str, Any]) -> bool:
    return status.get("type") == "BitstringStatusListEntry" and "statusListIndex" not in status
