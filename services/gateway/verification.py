"""Verifying a credential as any verifier would, with the alliance's verifier library.

The gateway does not take issuance's word for a credential: it reads the issuer's DID
document and status list where issuance publishes them and checks proof, dates, status and
trust itself. Those documents are read from issuance at its internal address (`ISSUANCE_URL`),
matched by their public one (`ISSUANCE_PUBLIC_URL`), which differ behind a proxy or in
containers. Nothing else is fetched: every credential a learner holds comes from issuance,
and a public endpoint that fetched whatever URL a submitted credential names could be steered
at hosts inside the network. did:key needs no fetching.

A badge (Open Badges 3.0, CLR 2.0) may carry one status entry only, its revocation, so no
status list shows that it is suspended: for a credential issuance issued, the gateway asks
issuance its current status too, showing issuance the credential as it holds it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel

from services.gateway.downstream import Downstream, DownstreamRefused
from shared.credentials.verifier import (
    Check,
    CheckName,
    HttpResolver,
    Outcome,
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


# The path of a credential issuance issued, within its public URL.
_ISSUED_PATH = re.compile(r"/credentials/(cred-[a-z0-9-]{4,64})")


class _CurrentStatus(BaseModel):
    status: Literal["valid", "suspended", "revoked"]


class WalletVerifier:
    def __init__(self, issuance: Downstream, public_url: str, registry: AllianceRegistry) -> None:
        self._issuance = issuance
        self._host = urlsplit(public_url).netloc.lower()
        self._documents = IssuanceDocuments(issuance, public_url)
        # Partner DIDs under issuance's own host are the alliance's, by mandate.
        self._trust = TrustedIssuers(registry, issuing_hosts=[urlsplit(public_url).netloc])

    async def verify(self, credential: Any) -> VerificationReport:
        report = await verify(credential, self._documents, trust=self._trust)
        status = report.check(CheckName.STATUS)
        issued = self._issued_id(credential)
        # Asked only once the proof holds (the credential is as issued) and no status list
        # already says it is revoked or suspended.
        if issued is None or not (report.check(CheckName.PROOF).passed and status.passed):
            return report
        found = await self._status_now(issued, credential)
        if found is None:
            return report
        checks = tuple(found if check is status else check for check in report.checks)
        return dataclasses.replace(report, checks=checks)

    def _issued_id(self, credential: Any) -> str | None:
        """The id issuance gave the credential, when issuance issued it."""
        url = credential.get("id") if isinstance(credential, dict) else None
        if not isinstance(url, str):
            return None
        parts = urlsplit(url)
        found = _ISSUED_PATH.fullmatch(parts.path)
        return found[1] if found and parts.netloc.lower() == self._host else None

    async def _status_now(self, credential_id: str, credential: dict[str, Any]) -> Check | None:
        """A failed status check when issuance's record says the credential is suspended or
        revoked, or cannot be read; None when it is valid, or issuance does not know the
        credential as given (the status lists' answer stands then)."""
        path = f"/credentials/{credential_id}/current-status"
        try:
            response = await self._issuance.call("POST", path, None, body=credential)
            status = self._issuance.read(response, _CurrentStatus).status
        except DownstreamRefused:
            return None
        except Problem as exc:
            # As for a status list that cannot be read: the status is not known.
            message = f"cannot read the credential's status from issuance: {exc.detail}"
            return Check(CheckName.STATUS, Outcome.FAILED, message)
        if status == "valid":
            return None
        # Worded as a status list's finding is, so that every page shows the same word.
        message = f"the credential is {status} (its issuer's record, read from issuance)"
        return Check(CheckName.STATUS, Outcome.FAILED, message)
