"""Verifying a credential as any verifier would, with the alliance's verifier library.

The gateway does not take issuance's word for a credential: it reads the issuer's DID
document and status list where issuance publishes them and checks proof, dates, status and
trust itself. Those documents are read from issuance at its internal address (`ISSUANCE_URL`),
matched by their public one (`ISSUANCE_PUBLIC_URL`), which differ behind a proxy or in
containers. Nothing else is fetched: every credential a learner holds comes from issuance,
and a public endpoint that fetched whatever URL a submitted credential names could be steered
at hosts inside the network. did:key needs no fetching.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from services.gateway.downstream import Downstream, DownstreamRefused
from shared.credentials.verifier import (
    HttpResolver,
    ResolutionError,
    TrustedIssuers,
    VerificationReport,
    json_object,
    verify,
)
from shared.problems import Problem
from shared.registry import AllianceRegistry


class IssuanceDocuments(HttpResolver):
    """The verifier's `Resolver`: DID documents and status lists issuance publishes, read
    from issuance itself rather than over the internet."""

    def __init__(self, issuance: Downstream, public_url: str) -> None:
        super().__init__()
        self._issuance = issuance
        self._host = urlsplit(public_url).netloc.lower()

    async def status_list(self, url: str) -> dict[str, Any]:
        # Whatever its scheme: `fetch` reads only what issuance publishes.
        return await self.fetch(url)

    async def fetch(self, url: str) -> dict[str, Any]:
        parts = urlsplit(url)
        if parts.netloc.lower() != self._host:
            raise ResolutionError(
                f"{url} is not published by the alliance's issuance service; this verifier "
                "reads no other sources"
            )
        try:
            response = await self._issuance.call("GET", parts.path, None)
        except (Problem, DownstreamRefused) as exc:
            raise ResolutionError(f"cannot read {url}: {exc}") from exc
        return json_object(url, response.content)


class WalletVerifier:
    def __init__(self, issuance: Downstream, public_url: str, registry: AllianceRegistry) -> None:
        self._documents = IssuanceDocuments(issuance, public_url)
        # Partner DIDs under issuance's own host are the alliance's, by mandate.
        self._trust = TrustedIssuers(registry, issuing_hosts=[urlsplit(public_url).netloc])

    async def verify(self, credential: Any) -> VerificationReport:
        return await verify(credential, self._documents, trust=self._trust)
