"""Issuance rules in plain Python: what a result or a pathway entitles a learner to, how
an offering's terms and a result become the EU micro-credential's elements, how a credential's
status changes, and the service's refusals."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from shared.credentials import (
    Concept,
    LearningOutcome,
    MicroCredentialData,
    Organisation,
    Translation,
    set_status,
)
from shared.credentials.microcredential import (
    MODE_BLENDED_URI,
    MODE_ONLINE_URI,
    UNSUPERVISED_NO_ID_URI,
    identity_object,
)
from shared.errors import Conflict, Invalid, NotFound, NotPermitted, NotYet
from shared.events import (
    AchievementSummary,
    AssessedResult,
    AssessmentType,
    OfferingSnapshot,
    OfferingWithdrawn,
    Outcome,
    ParticipationMode,
    RevocationReason,
    Stackability,
    SupervisionAndIdentityVerification,
)
from shared.offering_views import OfferingEvent, supersedes


class CredentialNotFound(NotFound):
    title = "Not found"


class NotTheAwardingPartner(NotPermitted):
    """Revocation, suspension and reinstatement are decisions of the awarding partner's staff."""


class StatusConflict(Conflict):
    """A revoked credential can be neither suspended nor reinstated: revocation is final."""


class UnknownPartner(NotFound):
    """An event names a partner that is not of the alliance or has no credential key here."""


class NotStackable(Conflict):
    """A pathway completion names a component that is not the learner's valid credential."""


class NotIssuable(Invalid):
    """A credential sent to the VC API cannot be issued as it is."""


class ForeignIssuer(NotPermitted):
    """A partner asked for a credential in another issuer's name."""


def offering_fact(offering_id: str) -> str:
    """The fact a result waits for until its offering's terms are known."""
    return f"offering:{offering_id}"


def credential_fact(credential_id: str) -> str:
    """The fact a pathway completion waits for until its component is issued."""
    return f"credential:{credential_id}"


class OfferingNotKnownYet(NotYet):
    def __init__(self, offering_id: str) -> None:
        super().__init__(offering_fact(offering_id), f"offering {offering_id} is not known yet")


class ComponentNotIssuedYet(NotYet):
    def __init__(self, credential_id: str) -> None:
        super().__init__(
            credential_fact(credential_id), f"component {credential_id} is not issued yet"
        )


# Value-set concepts without a published ELM URI at hand get one in the alliance's own
# vocabulary; the label always travels with the link.
VOCABULARY = "https://alliance.example.eu/vocabulary"
_KNOWN_URIS: dict[str, str] = {
    ParticipationMode.ONLINE: MODE_ONLINE_URI,
    ParticipationMode.BLENDED: MODE_BLENDED_URI,
    SupervisionAndIdentityVerification.UNSUPERVISED_NO_IDENTITY_VERIFICATION: (
        UNSUPERVISED_NO_ID_URI
    ),
}
# EU labels where they are not the code read aloud.
_LABELS: dict[str, str] = {
    AssessmentType.PROBLEM_BASED_LEARNING: "Problem-based learning",
    ParticipationMode.PRESENTIAL: "Presential (on site)",
    ParticipationMode.WORK_BASED: "Work-based",
    ParticipationMode.PROJECT_BASED: "Project-based",
    ParticipationMode.RESEARCH_LAB_BASED: "Research-lab-based",
    SupervisionAndIdentityVerification.UNSUPERVISED_NO_IDENTITY_VERIFICATION: (
        "Unsupervised with no identity verification"
    ),
    SupervisionAndIdentityVerification.SUPERVISED_NO_IDENTITY_VERIFICATION: (
        "Supervised with no identity verification"
    ),
    SupervisionAndIdentityVerification.SUPERVISED_WITH_IDENTITY_VERIFICATION: (
        "Supervised online or onsite with identity verification"
    ),
    Stackability.STAND_ALONE: "Stand-alone, independent micro-credential",
    Stackability.STACKABLE: "Integrated, stackable towards another credential",
}


def concept(value_set: str, code: enum.StrEnum) -> Concept:
    """The ELM concept for a contract code, with its EU label."""
    uri = _KNOWN_URIS.get(code, f"{VOCABULARY}/{value_set}/{code.value}")
    label = _LABELS.get(code, code.value.replace("_", " ").capitalize())
    return Concept(uri, label, code=code.value)


@dataclass(frozen=True)
class Party:
    """An alliance partner as a credential names it."""

    partner_id: str
    did: str
    legal_name: str
    country: str
    website: str | None = None

    def organisation(self) -> Organisation:
        return Organisation(self.did, self.legal_name, self.country, url=self.website)


@dataclass(frozen=True)
class Issuance:
    """Who, where and when for one credential."""

    credential_url: str
    achievement_id: str
    issuer: Party
    awarding_body: Party
    assessing_body: Party
    issued_at: datetime
    status_list_url: str
    status_list_index: int


def xsd_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def primary_language(terms: OfferingSnapshot) -> str:
    """The first language of instruction the title is written in (else the title's first)."""
    for language in terms.languages_of_instruction:
        if language in terms.title:
            return language
    return next(iter(terms.title))


def _in(text: dict[str, str], language: str) -> str:
    return text.get(language) or next(iter(text.values()))


def _besides(text: dict[str, str], language: str) -> dict[str, str]:
    """The text in every language the offering gives besides `language` (the credential
    carries them all: the page and the Europass export show each reader theirs)."""
    return {other: value for other, value in text.items() if other != language}


def stackability(terms: OfferingSnapshot) -> Stackability:
    # An offering that does not say is a stand-alone micro-credential.
    return terms.stackability or Stackability.STAND_ALONE


def microcredential_data(
    terms: OfferingSnapshot, result: AssessedResult, issuance: Issuance
) -> MicroCredentialData:
    """Every EU element of the credential for `result`, from the offering's terms."""
    language = primary_language(terms)
    description = _in(terms.description or terms.title, language)
    joint = [
        body
        for body in terms.awarding_bodies
        if body.partner_id != issuance.awarding_body.partner_id
    ]
    if joint:
        # OB 3.0 names one creator; joint awarding bodies are stated in the signed text.
        names = "; ".join(f"{body.legal_name} ({body.country})" for body in joint)
        description += f"\n\nAwarded jointly with {names}."
    qa_labels = [concept("quality-assurance", qa).label for qa in terms.quality_assurance]
    quality_assurance = concept("quality-assurance", terms.quality_assurance[0])
    return MicroCredentialData(
        credential_id=issuance.credential_url,
        achievement_id=issuance.achievement_id,
        issuer=issuance.issuer.organisation(),
        awarding_body=issuance.awarding_body.organisation(),
        assessing_body=issuance.assessing_body.organisation(),
        learner_id=result.learner_id,
        title=_in(terms.title, language),
        description=description,
        language=language,
        valid_from=xsd_datetime(issuance.issued_at),
        learning_outcomes=[
            LearningOutcome(
                _in(outcome.text, language),
                outcome.esco_skill_uri,
                _besides(outcome.text, language),
            )
            for outcome in terms.learning_outcomes
        ],
        ects=terms.workload.ects,
        eqf_level=terms.eqf_level,
        assessment_type=concept("assessment-type", result.assessment_type),
        participation_form=concept("participation-mode", terms.participation_mode),
        quality_assurance=Concept(
            quality_assurance.uri, "; ".join(qa_labels), code=quality_assurance.code
        ),
        field_of_study=", ".join(terms.fields_of_study),
        grade=result.grade.value if result.grade else None,
        grade_scale=result.grade.scheme if result.grade else None,
        supervision=concept(
            "supervision-verification", result.supervision_and_identity_verification
        ),
        stackability=concept("stackability", stackability(terms)),
        prerequisites=(
            _in(terms.prerequisites.description, language) if terms.prerequisites else None
        ),
        prerequisites_translations=(
            _besides(terms.prerequisites.description, language) if terms.prerequisites else {}
        ),
        further_information=terms.further_information_url,
        activity_start=terms.start_date.isoformat(),
        activity_end=terms.end_date.isoformat(),
        translations=[
            Translation(other, title, (terms.description or {}).get(other))
            for other, title in terms.title.items()
            if other != language
        ],
        status_list_credential=issuance.status_list_url,
        status_list_index=issuance.status_list_index,
    )


def achievement_summary(terms: OfferingSnapshot) -> AchievementSummary:
    return AchievementSummary(
        title=terms.title,
        ects=terms.workload.ects,
        eqf_level=terms.eqf_level,
        skill_uris=tuple(
            dict.fromkeys(o.esco_skill_uri for o in terms.learning_outcomes if o.esco_skill_uri)
        ),
        stackability=stackability(terms),
    )


def stacked_summary(
    title: dict[str, str], ects_earned: float, components: Sequence[AchievementSummary]
) -> AchievementSummary:
    """A stacked credential is at the level all its components reach (the lowest of them)."""
    return AchievementSummary(
        title=title,
        ects=ects_earned,
        eqf_level=min(component.eqf_level for component in components),
        skill_uris=tuple(dict.fromkeys(uri for c in components for uri in c.skill_uris)),
        stackability=Stackability.STAND_ALONE,
    )


@dataclass(frozen=True)
class EarlierCredential:
    """A credential already issued for the same enrolment."""

    result_id: str | None
    revoked: bool
    revocation_reason: str | None = None


class Action(enum.StrEnum):
    ISSUE = "issue"
    REISSUE = "reissue"  # revoke the current credential, issue one for this result
    REVOKE = "revoke"
    NOTHING = "nothing"


def decide_on_result(result: AssessedResult, earlier: Sequence[EarlierCredential]) -> Action:
    """One valid credential per enrolment, always stating its current result.

    A result already issued for is done. A passed result issues; when the enrolment already
    holds a credential (a correction, e.g. a new grade) that one is revoked as superseded and
    a new one states the corrected result. A failed correction revokes. A credential the
    issuer revoked by decision (misconduct, issued in error) is not re-issued by a result.
    """
    if any(credential.result_id == result.result_id for credential in earlier):
        return Action.NOTHING
    current = any(not credential.revoked for credential in earlier)
    if result.outcome is Outcome.FAILED:
        return Action.REVOKE if current else Action.NOTHING
    if current:
        return Action.REISSUE
    withheld = any(
        credential.revoked and credential.revocation_reason not in _AUTOMATIC_REVOCATIONS
        for credential in earlier
    )
    return Action.NOTHING if withheld else Action.ISSUE


_AUTOMATIC_REVOCATIONS = frozenset({RevocationReason.RESULT_SUPERSEDED.value})


@dataclass(frozen=True)
class OfferingTerms:
    """The offering as last published or updated: every EU element a credential for it
    must carry."""

    offering_id: str
    partner_id: str
    version: int
    snapshot: OfferingSnapshot
    withdrawn: bool = False


def apply_offering(current: OfferingTerms | None, event: OfferingEvent) -> OfferingTerms | None:
    """The terms after `event`, or None when it changes nothing (an older or repeated
    version, or the withdrawal of terms never held). Another partner may not rewrite the
    terms (awarding body included) credentials for the offering are issued under:
    `OfferingConflict`."""
    if not supersedes(event, current):
        return None
    if isinstance(event, OfferingWithdrawn):
        # Credentials already earned stay valid; only the terms are marked as withdrawn.
        return replace(current, version=event.version, withdrawn=True) if current else None
    if current is None:
        return OfferingTerms(event.offering_id, event.partner_id, event.version, event)
    return replace(current, version=event.version, snapshot=event)


Status = Literal["valid", "suspended", "revoked"]


@dataclass(frozen=True)
class Credential:
    """A credential exactly as issued (its signed JSON-LD text), what it was issued for, and
    its status."""

    credential_id: str
    basis: str  # result | pathway | vc-api
    issuer_partner_id: str
    awarding_partner_id: str
    status_list_index: int
    document: str
    issued_at: datetime
    learner_id: str | None = None
    offering_id: str | None = None
    enrolment_id: str | None = None
    result_id: str | None = None
    pathway_id: str | None = None
    summary: AchievementSummary | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    # Set while suspended; cleared when reinstated.
    suspended_at: datetime | None = None

    @property
    def achievement(self) -> AchievementSummary:
        """What it attests; every credential issued for a result or a pathway states it."""
        assert self.summary is not None, f"{self.credential_id} was issued through the VC API"
        return self.summary

    @property
    def status(self) -> Status:
        # Revocation is final and outranks a suspension that preceded it.
        if self.revoked_at is not None:
            return "revoked"
        return "suspended" if self.suspended_at is not None else "valid"

    def earlier(self) -> EarlierCredential:
        return EarlierCredential(
            self.result_id, self.revoked_at is not None, self.revocation_reason
        )

    def with_suspension(self, suspended: bool, at: datetime) -> Credential | None:
        """The credential suspended (or reinstated) at `at`; None when it already is so, as
        asking twice changes nothing. `StatusConflict` once revoked."""
        if self.revoked_at is not None:
            raise StatusConflict(f"{self.credential_id} is revoked; revocation is final")
        if (self.suspended_at is not None) == suspended:
            return None
        return replace(self, suspended_at=at if suspended else None)


@dataclass(frozen=True)
class Completion:
    """A completed pathway to stack: whose, which, and the credentials it stacks."""

    learner_id: str
    pathway_id: str
    component_ids: tuple[str, ...]

    def stacked_by(self, credential: Credential) -> bool:
        """Whether `credential` is the learner's current one for the pathway."""
        return (
            credential.learner_id == self.learner_id
            and credential.pathway_id == self.pathway_id
            and credential.revoked_at is None
        )


@dataclass(frozen=True)
class Revocation:
    credential_id: str
    reason: str
    revoked_at: datetime


@dataclass(frozen=True)
class StatusList:
    """One issuer's revocation or suspension bitstring, and its signed credential until a
    bit changes."""

    issuer_partner_id: str
    purpose: str
    bits: bytes
    changed_at: datetime
    signed: dict[str, Any] | None = None

    def with_status(self, index: int, value: bool, at: datetime) -> StatusList:
        """The list with the bit at `index` set or cleared; it is signed again when next
        read."""
        bits = bytearray(self.bits)
        set_status(bits, index, value)
        return replace(self, bits=bytes(bits), changed_at=at, signed=None)


# Taking a credential into a wallet (OpenID4VCI 1.0, pre-authorized code flow). Offers,
# codes, tokens and nonces are kept only as SHA-256 hashes: what the database holds cannot be
# redeemed. The transaction code is hashed with the offer's code, so six digits cannot be
# read back from a leaked table either.
OFFER_LIFETIME = timedelta(minutes=10)
ACCESS_TOKEN_LIFETIME = timedelta(minutes=5)
NONCE_LIFETIME = timedelta(minutes=5)
# Wrong transaction codes an offer takes before it is spent: six digits are guessable.
TX_CODE_ATTEMPTS = 5
TX_CODE_LENGTH = 6


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def tx_code_hash(pre_authorized_code: str, tx_code: str) -> str:
    return secret_hash(f"{pre_authorized_code}\n{tx_code}")


# One QR code, two protocols: the interaction URL's secret derives both the OpenID4VCI
# pre-authorized code and the VC API exchange id, so the interaction can name both while the
# database keeps only their hashes.
OID4VCI = "OID4VCI"
VC_API = "vcapi"


def derived_secret(interaction: str, protocol: str) -> str:
    return hmac.new(interaction.encode(), protocol.encode(), hashlib.sha256).hexdigest()


class OfferNotRedeemable(Invalid):
    """An unknown, expired, spent or already redeemed pre-authorized code (OAuth
    `invalid_grant`)."""


class AccessTokenRefused(NotPermitted):
    """An unknown or expired access token, or one that already took its credential."""


class ProofRefused(Invalid):
    """The wallet's proof of possession does not hold."""


class NonceRefused(ProofRefused):
    """The proof's nonce is not a fresh c_nonce of this issuer."""


class ExchangeNotFound(NotFound):
    title = "Unknown exchange"


class ExchangeClosed(Conflict):
    """The offer behind the exchange expired or already gave its credential (by either
    protocol)."""

    title = "Exchange closed"


class NotDeliverable(Conflict):
    """A revoked or suspended credential is not issued again (into a wallet, or identified)."""


@dataclass(frozen=True)
class CredentialOffer:
    """A learner's offer of one of their credentials to a wallet: single-use, short-lived."""

    offer_id: str
    credential_id: str
    learner_id: str
    code_hash: str
    tx_code_hash: str
    expires_at: datetime
    failed_attempts: int = 0
    redeemed_at: datetime | None = None
    token_hash: str | None = None
    token_expires_at: datetime | None = None
    delivered_at: datetime | None = None
    # The VC API exchange behind the same QR code, and the challenge it last asked to sign.
    exchange_hash: str | None = None
    challenge_hash: str | None = None

    def redeem(
        self, pre_authorized_code: str, tx_code: str, token: str, now: datetime
    ) -> CredentialOffer:
        """The offer traded for `token`; with a wrong transaction code, the offer with one
        attempt fewer left (the caller keeps that and refuses). `OfferNotRedeemable` when it
        cannot be traded at all."""
        if self.redeemed_at is not None:
            raise OfferNotRedeemable("The offer has been used already.")
        if now >= self.expires_at:
            raise OfferNotRedeemable("The offer has expired.")
        if self.failed_attempts >= TX_CODE_ATTEMPTS:
            raise OfferNotRedeemable("Too many wrong transaction codes: ask for a new offer.")
        if not hmac.compare_digest(tx_code_hash(pre_authorized_code, tx_code), self.tx_code_hash):
            return replace(self, failed_attempts=self.failed_attempts + 1)
        return replace(
            self,
            redeemed_at=now,
            token_hash=secret_hash(token),
            token_expires_at=now + ACCESS_TOKEN_LIFETIME,
        )

    def deliverable(self, now: datetime) -> None:
        """Refuses a token that expired or already took its one credential."""
        if self.token_expires_at is None or now >= self.token_expires_at:
            raise AccessTokenRefused("The access token has expired.")
        if self.delivered_at is not None:
            raise AccessTokenRefused("The offer's credential has been issued already.")

    def challenged(self, challenge: str, now: datetime) -> CredentialOffer:
        """The exchange asking the wallet to sign `challenge` (the last one asked counts)."""
        self.exchange_open(now)
        return replace(self, challenge_hash=secret_hash(challenge))

    def taken_through_exchange(self, challenge: str, now: datetime) -> CredentialOffer:
        """The offer spent by a presentation that signed the exchange's challenge: its
        pre-authorized code is then refused too."""
        self.exchange_open(now)
        if self.challenge_hash is None or not hmac.compare_digest(
            secret_hash(challenge), self.challenge_hash
        ):
            raise ProofRefused("The presentation's challenge is not this exchange's.")
        return replace(self, redeemed_at=now, delivered_at=now, challenge_hash=None)

    def exchange_open(self, now: datetime) -> None:
        """Refuses an exchange whose offer expired or gave its credential."""
        if self.redeemed_at is not None:
            raise ExchangeClosed("The offer has been used already.")
        if now >= self.expires_at:
            raise ExchangeClosed("The offer has expired.")


def bound_to_holder(document: dict[str, Any], holder_did: str) -> dict[str, Any]:
    """The credential as issued, unsigned, with the holder's DID as its subject: the same
    achievement and the same status entries, so revocation and suspension still reach it."""
    unsigned = {key: value for key, value in document.items() if key != "proof"}
    unsigned["credentialSubject"] = {**document["credentialSubject"], "id": holder_did}
    return unsigned


# Identifying the learner by what their token says. A credential names its learner only by
# a salted hash of their pseudonymous id; on the learner's request it is issued again with
# their e-mail address and name hashed beside it (OB 3.0 `IdentityObject`s, a fresh salt
# each), so a verifier can check what the learner tells them. The values come from the
# caller's token alone and are never stored.
IDENTITY_TYPES = {"email": "emailAddress", "name": "name"}  # OIDC claim -> OB identityType
_CLAIM_NAMES = {"email": "verified e-mail address (`email_verified`)", "name": "name"}


class IdentityNotInToken(Conflict):
    """The learner asked to be identified by a claim their token does not carry."""

    title = "Identity not in token"


def identity_objects(claims: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """The hashed `IdentityObject`s for the learner's `claims` (OIDC claim -> value), each
    with a fresh salt. An e-mail address is hashed in lower case, as verifiers try it;
    `IdentityNotInToken` names a claim without a value (never the values)."""
    missing = [claim for claim, value in claims.items() if not value]
    if missing:
        raise IdentityNotInToken(
            "Your token carries no " + " and no ".join(_CLAIM_NAMES[c] for c in missing) + "."
        )
    return [
        identity_object(
            value.strip().lower() if claim == "email" else value.strip(),
            IDENTITY_TYPES[claim],
            secrets.token_hex(16),
        )
        for claim, value in claims.items()
        if value
    ]


def identified(document: dict[str, Any], identities: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The credential as issued, unsigned, with `identities` after the identifiers it has:
    the same id, achievement and status entries, so revocation and suspension still reach it."""
    unsigned = {key: value for key, value in document.items() if key != "proof"}
    subject = document["credentialSubject"]
    unsigned["credentialSubject"] = {
        **subject,
        "identifier": [*_identifiers(subject), *identities],
    }
    return unsigned


def shown_as_issued(held: dict[str, Any], issued: dict[str, Any]) -> bool:
    """Whether `held` is the credential `issued`, exactly, or an identified copy of it (its
    content with hashed e-mail or name identities added, signed again). Either is what only
    a holder has: the content alone carries the learner's randomly salted identifier."""
    if held == issued:
        return True
    subject, original = held.get("credentialSubject"), issued.get("credentialSubject")
    if not isinstance(subject, dict) or not isinstance(original, dict):
        return False
    before, added = _identifiers(original), _identifiers(subject)
    if added[: len(before)] != before or not all(
        isinstance(identity, dict)
        and identity.get("identityType") in IDENTITY_TYPES.values()
        and identity.get("hashed") is True
        for identity in added[len(before) :]
    ):
        return False
    return {**held, "proof": None, "credentialSubject": {**subject, "identifier": None}} == {
        **issued,
        "proof": None,
        "credentialSubject": {**original, "identifier": None},
    }


def _identifiers(subject: dict[str, Any]) -> list[Any]:
    given = subject.get("identifier")
    return [] if given is None else list(given) if isinstance(given, list) else [given]
