"""Share links: a learner's public link to one of their credentials, until they withdraw it
or it expires.

A link is a random token of 256 bits: whoever has it may read the credential, and nobody can
guess one. A withdrawn or expired link answers 410 Gone, so a verifier holding an old link
learns that the learner took it back rather than that it never existed.

The credential identifies the learner by salted hashes only (OB 3.0 `IdentityObject`s): of
their pseudonymous id, and of their verified e-mail address and name when they share a copy
issuance signed with those (`identify_by`). The learner may show their name on the link; a
verifier may check a name or e-mail address the learner gives against those hashes and
learns only whether it matches. That tells nobody
more than the credential does: whoever holds the link holds the hashes and their salt.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from services.gateway.tables import ShareLinkRecord
from shared.credentials.microcredential import identity_hash
from shared.problems import Problem

TOKEN_BYTES = 32
# `secrets.token_urlsafe(32)`: 43 characters of the URL-safe base64 alphabet.
SHARE_TOKEN = r"^[A-Za-z0-9_-]{43}$"  # noqa: S105 (a pattern, not a secret)


class ShareState(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_share(
    credential_id: str,
    learner_id: str,
    title: str,
    document: str,
    now: datetime,
    expires_in_days: int | None = None,
    learner_name: str | None = None,
) -> ShareLinkRecord:
    return ShareLinkRecord(
        token=new_token(),
        credential_id=credential_id,
        learner_id=learner_id,
        title=title,
        document=document,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        learner_name=learner_name,
    )


def _aware(moment: datetime) -> datetime:
    # SQLite gives timestamps back without their zone; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def state_of(share: ShareLinkRecord, now: datetime) -> ShareState:
    if share.withdrawn_at is not None:
        return ShareState.WITHDRAWN
    if share.expires_at is not None and _aware(share.expires_at) <= now:
        return ShareState.EXPIRED
    return ShareState.ACTIVE


def withdraw(share: ShareLinkRecord, now: datetime) -> None:
    """Ends the link and erases the copy of the credential and the name shown with it;
    withdrawing twice changes nothing."""
    if share.withdrawn_at is None:
        share.withdrawn_at = now
    share.document = None
    share.learner_name = None


@dataclass(frozen=True)
class Shared:
    """What a public link shows: the credential as issued, and the name the learner chose
    to show with it."""

    document: str
    learner_name: str | None


def shared_document(share: ShareLinkRecord | None, now: datetime) -> str:
    """The credential behind a public link, or the problem the link answers with."""
    return shared_link(share, now).document


def shared_link(share: ShareLinkRecord | None, now: datetime) -> Shared:
    """What a public link shows, or the problem the link answers with."""
    if share is None:
        raise Problem(404, "Not found", "There is no such share link.")
    state = state_of(share, now)
    if state is ShareState.WITHDRAWN or share.document is None:
        raise Problem(410, "Gone", "The learner has withdrawn this share link.")
    if state is ShareState.EXPIRED:
        raise Problem(410, "Gone", "This share link has expired.")
    return Shared(share.document, share.learner_name)


def identity_matches(credential: Any, claimed: str) -> bool:
    """Whether `claimed` (a name, an e-mail address, an identifier) is one the credential
    identifies its learner by: hashed with each identity's salt, as OB 3.0 hashes it."""
    subject = credential.get("credentialSubject") if isinstance(credential, dict) else None
    identities = subject.get("identifier") if isinstance(subject, dict) else None
    given = claimed.strip()
    # E-mail addresses are hashed as written or in lower case; names as written.
    values = {given, given.lower()} if "@" in given else {given}
    for identity in identities if isinstance(identities, list) else [identities]:
        if not isinstance(identity, dict) or not isinstance(identity.get("identityHash"), str):
            continue
        stated: str = identity["identityHash"]
        salt = identity.get("salt")
        if identity.get("hashed") is True:
            if not isinstance(salt, str):
                continue
            candidates = [identity_hash(value, salt) for value in values]
        else:
            candidates = list(values)
        if any(hmac.compare_digest(c.encode(), stated.encode()) for c in candidates):
            return True
    return False
