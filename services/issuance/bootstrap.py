"""Issuance's composition root: settings in, a running service out."""

from __future__ import annotations

from fastapi import FastAPI

from services.issuance import clients, handlers
from services.issuance.api import build_router
from services.issuance.application import CredentialService
from services.issuance.europass import PartnerSeals, build_europass_router
from services.issuance.exchanges import build_exchanges_router
from services.issuance.keys import CredentialKeys
from services.issuance.oid4vci import build_oid4vci_router
from services.issuance.settings import IssuanceSettings
from services.issuance.status_api import build_status_router
from services.issuance.unit_of_work import IssuanceUnitOfWork
from services.issuance.verification import CredentialVerifier
from shared.event_runtime import build_runtime
from shared.events import (
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
)
from shared.service import create_app
from shared.settings import ServiceSettings


def bootstrap(settings: ServiceSettings | None = None) -> FastAPI:
    """Plain service settings are completed with issuance's own from the environment."""
    if not isinstance(settings, IssuanceSettings):
        given = settings.model_dump(exclude_unset=True) if settings else {}
        settings = IssuanceSettings(**given)
    runtime = build_runtime(settings, IssuanceUnitOfWork)
    base_url = settings.resolved_public_base_url
    keys = CredentialKeys.load(
        settings.credential_keys_dir, base_url, settings.credential_did_method
    )
    credentials = CredentialService(
        keys,
        runtime.registry,
        base_url,
        settings.issuing_partner_id or runtime.registry.services["issuance"].operator,
    )
    verifier = CredentialVerifier(credentials, runtime.units_of_work, runtime.registry, base_url)
    handlers.register(runtime.consumer, credentials)
    runtime.declare_emits(
        [CredentialIssued, CredentialRevoked, CredentialSuspended, CredentialReinstated]
    )
    app = create_app(
        runtime,
        title="Alliance issuance",
        description=(
            "Signed, verifiable micro-credentials issued on behalf of awarding partners: "
            "Open Badges 3.0 with eddsa-rdfc-2022 proofs, Bitstring Status Lists, did:web "
            "documents, and the W3C VC API (`/credentials/issue`, `/credentials/verify`, "
            "`/presentations/verify`)."
        ),
        routers=[
            build_router(runtime.units_of_work, credentials, verifier),
            build_status_router(runtime.units_of_work),
            build_oid4vci_router(runtime.units_of_work, credentials, base_url),
            build_exchanges_router(runtime.units_of_work, credentials, base_url),
            build_europass_router(
                runtime.units_of_work, PartnerSeals.load(settings.credential_keys_dir)
            ),
        ],
    )
    clients.install(app, settings, keys.partners)
    return app
