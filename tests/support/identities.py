"""Who acts in a test: the alliance services' event signers and callers' access tokens."""

from __future__ import annotations

import uuid

from shared.auth import Role
from shared.dev_idp import TokenRequest, issue_token
from shared.envelope import EventSigner
from shared.registry import REPO_ROOT, SERVICE_URN
from shared.settings import ServiceSettings

ISSUER = ServiceSettings(service_name="gateway").oidc_issuer


def service_signer(service: str) -> EventSigner:
    """Signs events as an alliance service would (its demo key)."""
    return EventSigner.from_pem_file(
        SERVICE_URN + service,
        f"{service}-2026-1",
        REPO_ROOT / "alliance" / "demo-secrets" / f"{service}.pem",
    )


def token(
    subject: str,
    role: Role = "learner",
    partner_id: str | None = None,
    *,
    email: str | None = None,
    name: str | None = None,
) -> dict[str, str]:
    """Headers with a development access token (a learner's may carry a verified e-mail
    address and a name)."""
    request = TokenRequest(
        subject=subject, role=role, partner_id=partner_id, email=email, name=name
    )
    issued = issue_token(ISSUER, request)
    return {"Authorization": f"Bearer {issued}"}


def staff(partner_id: str) -> dict[str, str]:
    return token(f"staff-{partner_id}", "partner_staff", partner_id)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"
