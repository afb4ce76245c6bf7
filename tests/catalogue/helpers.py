"""Bearer tokens and offering drafts for tests that publish through the catalogue's API."""

from __future__ import annotations

from typing import Any

from shared.auth import Role
from shared.dev_idp import TokenRequest, issue_token
from shared.settings import ServiceSettings
from tests.support.builders import offering_published

ISSUER = ServiceSettings(service_name="catalogue").oidc_issuer


def bearer(subject: str, role: Role = "learner", partner_id: str | None = None) -> dict[str, str]:
    token = issue_token(ISSUER, TokenRequest(subject=subject, role=role, partner_id=partner_id))
    return {"Authorization": f"Bearer {token}"}


def staff_of(partner_id: str) -> dict[str, str]:
    return bearer(f"staff@{partner_id}", "partner_staff", partner_id)


def offering_draft(
    partner_id: str, offering_id: str | None = None, **changes: object
) -> dict[str, Any]:
    """A valid `POST /offerings` body: an offering snapshot without its version."""
    event = offering_published(partner_id, offering_id, **changes)
    return event.model_dump(mode="json", exclude={"version", "published_at"}, exclude_none=True)
