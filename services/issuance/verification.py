"""Verifying any credential for the VC API with the alliance's verifier library.

DID documents of the alliance's partners come from this service's own keys (no network);
any did:key resolves by itself; another did:web is not fetched and fails the proof check
with a clear reason. Status lists this service publishes are read from its own database;
others are fetched over HTTPS.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from services.issuance.application import CredentialService
from services.issuance.unit_of_work import IssuanceUnitOfWork
from shared.credentials.verifier import (
    HttpResolver,
    PresentationReport,
    ResolutionError,
    TrustedIssuers,
    VerificationReport,
    did_key_document,
    verify,
    verify_presentation,
)
from shared.db.uow import UnitOfWorkFactory, run_committed
from shared.registry import AllianceRegistry, Partner


class _LocalResolver:
    def __init__(
        self, service: CredentialService, units_of_work: UnitOfWorkFactory[IssuanceUnitOfWork]
    ) -> None:
        self._service = service
        self._units_of_work = units_of_work
        self._documents = {
            document["id"]: document
            for document in (service.keys.did_document(p) for p in service.keys.partners)
        }
        self._remote = HttpResolver()

    async def did_document(self, did: str) -> dict[str, Any]:
        if did in self._documents:
            return self._documents[did]
        if did.startswith("did:key:"):
            return did_key_document(did)
        raise ResolutionError(
            f"{did} is not the DID of an alliance partner; other did:web issuers are not "
            "resolved by this service"
        )

    async def status_list(self, url: str) -> dict[str, Any]:
        local = self._service.local_status_list(url)
        if local is None:
            return await self._remote.status_list(url)
        partner_id, purpose = local
        return await run_committed(
            self._units_of_work,
            lambda uow: self._service.signed_status_list(uow, partner_id, purpose),
        )


class _AllianceTrust(TrustedIssuers):
    """The registry's rules, plus the did:key of every key held for a partner (when the
    service issues with did:key, for offline use)."""

    def __init__(self, registry: AllianceRegistry, service: CredentialService, host: str) -> None:
        super().__init__(registry, issuing_hosts=[host])
        self._registry = registry
        self._dids = service.keys.trusted_issuers()

    def partner_for(self, did: str) -> Partner | None:
        partner = super().partner_for(did)
        if partner is None and did in self._dids:
            return self._registry.partners.get(self._dids[did])
        return partner


class CredentialVerifier:
    def __init__(
        self,
        service: CredentialService,
        units_of_work: UnitOfWorkFactory[IssuanceUnitOfWork],
        registry: AllianceRegistry,
        public_base_url: str,
    ) -> None:
        self._resolver = _LocalResolver(service, units_of_work)
        self._trust = _AllianceTrust(registry, service, urlsplit(public_base_url).netloc)

    async def verify(self, credential: dict[str, Any]) -> VerificationReport:
        return await verify(credential, self._resolver, trust=self._trust)

    async def verify_presentation(
        self, presentation: dict[str, Any], challenge: str | None, domain: str | None
    ) -> PresentationReport:
        return await verify_presentation(
            presentation, self._resolver, challenge=challenge, domain=domain, trust=self._trust
        )
