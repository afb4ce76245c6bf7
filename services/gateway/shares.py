"""Share links: a learner's public link to one of their credentials, until they withdraw it
or it expires.

A link is a random token of 256 bits: whoever has it may read the credential, and nobody can
guess one. A withdrawn or expired link answers 410 Gone, so a verifier holding an old link
learns that the learner took it back rather than that it never existed.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from services.gateway.tables import ShareLinkRecord
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
) -> ShareLinkRecord:
    return ShareLinkRecord(
        token=new_token(),
        credential_id=credential_id,
        learner_id=learner_id,
        title=title,
        document=document,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
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
    """Ends the link and erases the copy of the credential; withdrawing twice changes nothing."""
    if share.withdrawn_at is None:
        share.withdrawn_at = now
    share.document = None


def shared_document(share: ShareLinkRecord | None, now: datetime) -> str:
    """The credential behind a public link, or the problem the link answers with."""
    if share is None:
        raise Problem(404, "Not found", "There is no such share link.")
    state = state_of(share, now)
    if state is ShareState.WITHDRAWN or share.document is None:
        raise Problem(410, "Gone", "The learner has withdrawn this share link.")
    if state is ShareState.EXPIRED:
        raise Problem(410, "Gone", "This share link has expired.")
    return share.document
