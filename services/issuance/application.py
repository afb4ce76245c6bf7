"""Issuing, revoking, suspending and reinstating: the service's use cases, shared by the
event handlers and the API. They read and write through the unit of work's repositories and
refuse with the domain's errors; the entry point commits.

Issuance is operated by one partner and issues by mandate: a credential earned through an
offering is signed by the issuing partner (the operator) and names the offering's awarding
body as `achievement.creator`. Through the VC API a partner has credentials issued in its
own name, signed with its own key.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple

from services.issuance.domain import (
    NONCE_LIFETIME,
    OFFER_LIFETIME,
    OID4VCI,
    TX_CODE_LENGTH,
    VC_API,
    AccessTokenRefused,
    Action,
    Completion,
    ComponentNotIssuedYet,
    Credential,
    CredentialNotFound,
    CredentialOffer,
    ExchangeNotFound,
    ForeignIssuer,
    Issuance,
    NonceRefused,
    NotDeliverable,
    NotIssuable,
    NotStackable,
    NotTheAwardingPartner,
    OfferingNotKnownYet,
    OfferNotRedeemable,
    Party,
    Revocation,
    UnknownPartner,
    achievement_summary,
    apply_offering,
    bound_to_holder,
    credential_fact,
    decide_on_result,
    derived_secret,
    identified,
    identity_objects,
    microcredential_data,
    offering_fact,
    secret_hash,
    shown_as_issued,
    stacked_summary,
    tx_code_hash,
    xsd_datetime,
)
from services.issuance.keys import CredentialKeys, UnknownPartnerKey
from services.issuance.unit_of_work import IssuanceUnitOfWork
from shared.clock import utc_now
from shared.credentials import (
    build_microcredential,
    build_status_list_credential,
    status_list_entry,
)
from shared.credentials.clr import ClrData, build_clr
from shared.credentials.data_model import CLR_TYPE, OB_TYPES, check_credential, vc_version
from shared.credentials.loader import DATA_INTEGRITY_V2
from shared.credentials.reference import CanonicalizationError
from shared.credentials.status_list import PURPOSES, REVOCATION, SUSPENSION
from shared.events import (
    AssessedResult,
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    OfferingSnapshot,
    OfferingWithdrawn,
    PathwayCompleted,
    RevocationReason,
    StatusListEntry,
)
from shared.events.pathways import PathwayCompletionRevoked
from shared.offering_views import OfferingEvent
from shared.registry import AllianceRegistry


def new_credential_id() -> str:
    return f"cred-{uuid.uuid4().hex}"


# Offerings.
async def apply_offering_event(uow: IssuanceUnitOfWork, event: OfferingEvent) -> None:
    terms = apply_offering(await uow.offering_terms.get(event.offering_id), event)
    if terms is None:
        return
    await uow.offering_terms.save(terms)
    if not isinstance(event, OfferingWithdrawn):
        uow.release(offering_fact(event.offering_id))


class CredentialService:
    """The use cases that sign: they hold the partners' keys and where things are published."""

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
            raise UnknownPartner(f"{partner_id!r} is not a partner of the alliance")
        try:
            did = self.keys.did(partner_id)
        except UnknownPartnerKey as exc:
            raise UnknownPartner(str(exc)) from exc
        return Party(partner_id, did, partner.legal_name, partner.country, partner.website)

    # Results.
    async def events_coming(
        self,
        uow: IssuanceUnitOfWork,
        results: Sequence[AssessedResult],
        completions: Sequence[PathwayCompleted],
    ) -> None:
        """Reads together what each of a batch's results and completed pathways is decided
        on."""
        await uow.credentials.read_ahead(
            {result.enrolment_id: result.learner_id for result in results},
            [
                Completion(event.learner_id, event.pathway_id, event.component_credential_ids)
                for event in completions
            ],
            self.issuing_partner_id,
        )

    async def on_result(self, uow: IssuanceUnitOfWork, result: AssessedResult) -> None:
        earlier, index = await uow.credentials.for_result(
            result.enrolment_id, result.learner_id, self.issuing_partner_id
        )
        action = decide_on_result(result, [c.earlier() for c in earlier])
        if action is Action.NOTHING:
            return
        terms = None
        if action in (Action.ISSUE, Action.REISSUE):
            held = await uow.offering_terms.get(result.offering_id)
            if held is None:
                raise OfferingNotKnownYet(result.offering_id)
            terms = held.snapshot
        current = [c for c in earlier if c.revoked_at is None]
        for superseded in current:
            await revoke(
                uow, superseded, RevocationReason.RESULT_SUPERSEDED,
                f"Result {result.result_id} corrects the result it was issued for.",
            )  # fmt: skip
        if terms is not None:
            replacement = await self._issue_for_result(uow, terms, result, index)
            # A correction of the grade does not lift a suspension the awarding partner set.
            if any(c.suspended_at is not None for c in current):
                await change_suspension(
                    uow, replacement, True, "Suspended as the credential it replaces was."
                )

    async def _issue_for_result(
        self,
        uow: IssuanceUnitOfWork,
        terms: OfferingSnapshot,
        result: AssessedResult,
        index: int,
    ) -> Credential:
        """Issues the credential for `result` at `index` of the issuing partner's lists."""
        issuer = self.party(self.issuing_partner_id)
        awarding = self.party(terms.awarding_bodies[0].partner_id)
        assessing = self.party(result.partner_id)
        credential_id = new_credential_id()
        now = utc_now()
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
        credential = Credential(
            credential_id=credential_id,
            basis="result",
            learner_id=result.learner_id,
            issuer_partner_id=issuer.partner_id,
            awarding_partner_id=awarding.partner_id,
            offering_id=terms.offering_id,
            enrolment_id=result.enrolment_id,
            result_id=result.result_id,
            status_list_index=index,
            summary=achievement_summary(terms),
            document=json.dumps(document),
            issued_at=now,
        )
        await _store(uow, credential, ())
        uow.record(self._issued_event(credential, issuer, offering_id=terms.offering_id))
        return credential

    # Pathways.
    async def on_pathway_completed(self, uow: IssuanceUnitOfWork, event: PathwayCompleted) -> None:
        found, current, index = await uow.credentials.for_stacking(
            event.learner_id,
            event.pathway_id,
            event.component_credential_ids,
            self.issuing_partner_id,
        )
        components: list[Credential] = []
        for component_id in event.component_credential_ids:
            component = found.get(component_id)
            if component is None:
                raise ComponentNotIssuedYet(component_id)
            if component.learner_id != event.learner_id:
                raise NotStackable(f"{component_id} is not a credential of the learner")
            if component.revoked_at is not None:
                raise NotStackable(f"component {component_id} is revoked")
            components.append(component)
        if current is not None:
            if await uow.credentials.components_of(current.credential_id) == set(
                event.component_credential_ids
            ):
                return  # this completion is already stacked
            await revoke(
                uow, current, RevocationReason.OTHER,
                f"Replaced by a new completion of pathway {event.pathway_id}.",
            )  # fmt: skip
        await self._issue_stacked(uow, event, components, index)

    async def _issue_stacked(
        self,
        uow: IssuanceUnitOfWork,
        event: PathwayCompleted,
        components: list[Credential],
        index: int,
    ) -> None:
        """Issues the stacked credential at `index` of the issuing partner's lists."""
        issuer = self.party(self.issuing_partner_id)
        awarding = self.party(event.owner_partner_id)
        credential_id = new_credential_id()
        now = utc_now()
        language = "en" if "en" in event.title else next(iter(event.title))
        title = event.title[language]
        summary = stacked_summary(
            dict(event.title), event.ects_earned, [c.achievement for c in components]
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
        credential = Credential(
            credential_id=credential_id,
            basis="pathway",
            learner_id=event.learner_id,
            issuer_partner_id=issuer.partner_id,
            awarding_partner_id=awarding.partner_id,
            pathway_id=event.pathway_id,
            status_list_index=index,
            summary=summary,
            document=json.dumps(signed),
            issued_at=now,
        )
        await _store(uow, credential, event.component_credential_ids)
        uow.record(
            self._issued_event(
                credential, issuer,
                pathway_id=event.pathway_id,
                component_credential_ids=event.component_credential_ids,
            )
        )  # fmt: skip

    async def on_pathway_completion_revoked(
        self, uow: IssuanceUnitOfWork, event: PathwayCompletionRevoked
    ) -> None:
        stacked = await uow.credentials.get(event.stacked_credential_id)
        if (
            stacked is None
            or stacked.pathway_id != event.pathway_id
            or stacked.learner_id != event.learner_id
        ):
            raise CredentialNotFound(
                f"{event.stacked_credential_id} is not the learner's credential for "
                f"pathway {event.pathway_id}"
            )
        await revoke(uow, stacked, RevocationReason.COMPONENT_REVOKED, event.reason)

    # The VC API.
    async def issue_document(
        self, uow: IssuanceUnitOfWork, partner_id: str, credential: dict[str, Any]
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
        index = await uow.credentials.free_status_index(partner_id)
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
        issued = Credential(
            credential_id=credential_id,
            basis="vc-api",
            issuer_partner_id=partner_id,
            awarding_partner_id=partner_id,
            status_list_index=index,
            document=json.dumps(signed),
            issued_at=now,
        )
        await _store(uow, issued, ())
        return signed

    # Status lists.
    async def signed_status_list(
        self, uow: IssuanceUnitOfWork, partner_id: str, purpose: str
    ) -> dict[str, Any]:
        """The partner's signed `purpose` list; signed again only after a bit changed (or
        after a key rotation)."""
        status_list = await uow.status_lists.get(partner_id, purpose)
        cached = status_list.signed
        current_key = self.keys.verification_method(partner_id)
        if cached is not None and cached["proof"]["verificationMethod"] == current_key:
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
        await uow.status_lists.cache_signed(partner_id, purpose, status_list.changed_at, signed)
        return signed

    # Wallets (OpenID4VCI).
    async def deliver_to_holder(
        self, uow: IssuanceUnitOfWork, access_token: str, nonce: str, holder_did: str
    ) -> dict[str, Any]:
        """The offered credential issued again to the wallet whose key proved possession:
        `holder_did` as its subject, signed now by its issuer. The access token takes one
        credential, and the proof's nonce is spent."""
        now = utc_now()
        offer = await uow.credential_offers.by_token(secret_hash(access_token))
        if offer is None:
            raise AccessTokenRefused("Unknown access token.")
        offer.deliverable(now)
        if not await uow.proof_nonces.use(secret_hash(nonce), now):
            raise NonceRefused("The proof's nonce is unknown, spent or expired.")
        signed = await self._bound_to_holder(uow, offer, holder_did, now)
        await uow.credential_offers.save(replace(offer, delivered_at=now))
        return signed

    # Wallets (VC API exchange).
    async def deliver_through_exchange(
        self, uow: IssuanceUnitOfWork, exchange_id: str, challenge: str, holder_did: str
    ) -> dict[str, Any]:
        """The offered credential issued again to the holder whose presentation signed the
        exchange's challenge; the offer is spent for both protocols."""
        now = utc_now()
        offer = await _exchanged(uow, exchange_id)
        taken = offer.taken_through_exchange(challenge, now)
        signed = await self._bound_to_holder(uow, offer, holder_did, now)
        await uow.credential_offers.save(taken)
        return signed

    async def _bound_to_holder(
        self, uow: IssuanceUnitOfWork, offer: CredentialOffer, holder_did: str, now: datetime
    ) -> dict[str, Any]:
        return await self._issued_again(
            uow,
            offer.credential_id,
            offer.learner_id,
            lambda document: bound_to_holder(document, holder_did),
            now,
        )

    async def _issued_again(
        self,
        uow: IssuanceUnitOfWork,
        credential_id: str,
        learner_id: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
        now: datetime,
    ) -> dict[str, Any]:
        """The learner's credential, while it may be issued again, changed by `change` and
        signed at `now` by its issuer."""
        credential = await _offered(uow, credential_id, learner_id)
        unsigned = change(json.loads(credential.document))
        return self.keys.sign(credential.issuer_partner_id, unsigned, xsd_datetime(now))

    # Identifying the learner.
    async def identified_copy(
        self,
        uow: IssuanceUnitOfWork,
        credential_id: str,
        learner_id: str,
        claims: Mapping[str, str | None],
    ) -> dict[str, Any]:
        """The learner's valid credential issued again, signed now by its issuer, with their
        token's `claims` (OIDC claim -> value) hashed into it as identities. Nothing is
        stored: the values live only in the hashes of the copy handed back."""
        return await self._issued_again(
            uow,
            credential_id,
            learner_id,
            lambda document: identified(document, identity_objects(claims)),
            utc_now(),
        )

    def _issued_event(
        self, credential: Credential, issuer: Party, **basis: Any
    ) -> CredentialIssued:
        return CredentialIssued(
            credential_id=credential.credential_id,
            learner_id=str(credential.learner_id),
            awarding_partner_id=credential.awarding_partner_id,
            issuing_partner_id=issuer.partner_id,
            issuer_did=issuer.did,
            issued_at=credential.issued_at,
            achievement=credential.achievement,
            status=StatusListEntry(
                status_list_url=self.status_list_url(issuer.partner_id),
                status_list_index=credential.status_list_index,
            ),
            credential_url=self.credential_url(credential.credential_id),
            **basis,
        )


async def learners_credential(
    uow: IssuanceUnitOfWork, credential_id: str, learner_id: str
) -> Credential:
    """One of the learner's credentials; another learner's reads as none."""
    credential = await uow.credentials.get(credential_id)
    if credential is None or credential.learner_id != learner_id:
        raise CredentialNotFound("You hold no such credential.")
    return credential


async def held_credential(
    uow: IssuanceUnitOfWork, credential_id: str, held: dict[str, Any]
) -> Credential:
    """The credential whose holder shows it exactly as issued (or as issued again with
    their identities, `identified_copy`): holding it is the right to what a holder may ask
    (its current status, its Europass export). An unknown id and an altered document read
    alike, so an id alone tells nothing."""
    credential = await uow.credentials.get(credential_id)
    if credential is None or not shown_as_issued(held, json.loads(credential.document)):
        raise CredentialNotFound("No such credential.")
    return credential


async def _offered(uow: IssuanceUnitOfWork, credential_id: str, learner_id: str) -> Credential:
    """The learner's credential, while it may be issued again (into a wallet, identified)."""
    credential = await learners_credential(uow, credential_id, learner_id)
    if credential.status != "valid":
        raise NotDeliverable(f"The credential is {credential.status}.")
    return credential


class NewOffer(NamedTuple):
    """An offer just made, with what is given out once and kept only as hashes."""

    offer: CredentialOffer
    credential: Credential
    pre_authorized_code: str
    tx_code: str
    interaction: str


async def offer_credential(
    uow: IssuanceUnitOfWork, credential_id: str, learner_id: str
) -> NewOffer:
    """A new offer of the learner's valid credential to a wallet, by OpenID4VCI or by a VC
    API exchange, both reached from one interaction secret."""
    credential = await _offered(uow, credential_id, learner_id)
    interaction = secrets.token_urlsafe(32)
    code, exchange_id = derived_secret(interaction, OID4VCI), derived_secret(interaction, VC_API)
    tx_code = "".join(secrets.choice("0123456789") for _ in range(TX_CODE_LENGTH))
    offer = CredentialOffer(
        offer_id=f"offer-{uuid.uuid4().hex}",
        credential_id=credential_id,
        learner_id=learner_id,
        code_hash=secret_hash(code),
        tx_code_hash=tx_code_hash(code, tx_code),
        expires_at=utc_now() + OFFER_LIFETIME,
        exchange_hash=secret_hash(exchange_id),
    )
    await uow.credential_offers.add(offer)
    return NewOffer(offer, credential, code, tx_code, interaction)


class Interaction(NamedTuple):
    """What an interaction URL leads to: the offer's protocols and the credential's kind."""

    credential: Credential
    pre_authorized_code: str
    exchange_id: str


async def interaction_of(uow: IssuanceUnitOfWork, interaction: str) -> Interaction:
    """The offer an interaction secret stands for, while its exchange is open."""
    exchange_id = derived_secret(interaction, VC_API)
    offer = await _exchanged(uow, exchange_id)
    offer.exchange_open(utc_now())
    credential = await _offered(uow, offer.credential_id, offer.learner_id)
    return Interaction(credential, derived_secret(interaction, OID4VCI), exchange_id)


async def challenge_holder(uow: IssuanceUnitOfWork, exchange_id: str) -> str:
    """A fresh challenge for the wallet's DID authentication in the exchange."""
    challenge = secrets.token_urlsafe(32)
    offer = await _exchanged(uow, exchange_id)
    await uow.credential_offers.save(offer.challenged(challenge, utc_now()))
    return challenge


async def _exchanged(uow: IssuanceUnitOfWork, exchange_id: str) -> CredentialOffer:
    offer = await uow.credential_offers.by_exchange(secret_hash(exchange_id))
    if offer is None:
        raise ExchangeNotFound("No such exchange.")
    return offer


async def redeem_offer(
    uow: IssuanceUnitOfWork, pre_authorized_code: str, tx_code: str
) -> str | None:
    """An access token for the offer; None for a wrong transaction code, which is counted
    (so the entry point commits that answer too)."""
    offer = await uow.credential_offers.by_code(secret_hash(pre_authorized_code))
    if offer is None:
        raise OfferNotRedeemable("Unknown pre-authorized code.")
    token = secrets.token_urlsafe(32)
    redeemed = offer.redeem(pre_authorized_code, tx_code, token, utc_now())
    await uow.credential_offers.save(redeemed)
    return token if redeemed.redeemed_at is not None else None


async def new_proof_nonce(uow: IssuanceUnitOfWork) -> str:
    """A fresh c_nonce for a wallet's proof of possession."""
    nonce = secrets.token_urlsafe(32)
    await uow.proof_nonces.add(secret_hash(nonce), utc_now() + NONCE_LIFETIME)
    return nonce


async def _store(
    uow: IssuanceUnitOfWork, credential: Credential, components: tuple[str, ...]
) -> None:
    await uow.credentials.add(credential, components)
    uow.release(credential_fact(credential.credential_id))


# Decisions of the awarding partner's staff.
async def awarded_by(uow: IssuanceUnitOfWork, credential_id: str, partner_id: str) -> Credential:
    """The credential, when `partner_id` awarded it: never the operator's decision, nor
    another partner's."""
    credential = await uow.credentials.get(credential_id)
    if credential is None:
        raise CredentialNotFound("No such credential.")
    if credential.awarding_partner_id != partner_id:
        raise NotTheAwardingPartner("Only the staff of the partner that awarded it decide this.")
    return credential


async def revoke_awarded(
    uow: IssuanceUnitOfWork,
    credential_id: str,
    partner_id: str,
    reason: RevocationReason,
    detail: str | None,
) -> Revocation:
    return await revoke(uow, await awarded_by(uow, credential_id, partner_id), reason, detail)


async def suspend_awarded(
    uow: IssuanceUnitOfWork, credential_id: str, partner_id: str, detail: str | None
) -> Credential:
    credential = await awarded_by(uow, credential_id, partner_id)
    return await change_suspension(uow, credential, True, detail)


async def reinstate_awarded(
    uow: IssuanceUnitOfWork, credential_id: str, partner_id: str, detail: str | None
) -> Credential:
    credential = await awarded_by(uow, credential_id, partner_id)
    return await change_suspension(uow, credential, False, detail)


# Revocation.
async def revoke(
    uow: IssuanceUnitOfWork,
    credential: Credential,
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
    await uow.credentials.save_status(
        replace(credential, revoked_at=now, revocation_reason=reason.value)
    )
    await _set_status(uow, credential, REVOCATION, True, now)
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
    return Revocation(credential.credential_id, reason.value, now)


# Suspension: reversible, and announced so recognition stops counting the credential
# meanwhile; it is not revocation's cascade.
async def change_suspension(
    uow: IssuanceUnitOfWork, credential: Credential, suspended: bool, detail: str | None
) -> Credential:
    """The credential suspended (or reinstated); as it was when it already is so."""
    now = utc_now()
    changed = credential.with_suspension(suspended, now)
    if changed is None:
        return credential
    await uow.credentials.save_status(changed)
    await _set_status(uow, credential, SUSPENSION, suspended, now)
    if credential.learner_id is not None:
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
    return changed


async def _set_status(
    uow: IssuanceUnitOfWork, credential: Credential, purpose: str, value: bool, now: datetime
) -> None:
    """Sets or clears the credential's bit in its issuer's `purpose` list."""
    status_list = await uow.status_lists.get(credential.issuer_partner_id, purpose, for_update=True)
    await uow.status_lists.save(status_list.with_status(credential.status_list_index, value, now))


def _placeholder_status(status: Any) -> bool:
    """A bare `BitstringStatusListEntry` request the issuer completes (with its own entries)."""
    return (
        isinstance(status, dict)
        and _incomplete_status(status)
        and status.get("statusPurpose", REVOCATION) in PURPOSES
    )


def _incomplete_status(status: dict[str, Any]) -> bool:
    return status.get("type") == "BitstringStatusListEntry" and "statusListIndex" not in status
