"""Every credential of the run, read from the issuance API as its learner reads it, and
verified independently of the service (shared.credentials.verifier: proof against the DID
document issuance serves, validity, status list, and that the issuer is an alliance partner).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.journeys import Learner
from shared.credentials.verifier import HttpResolver, ResolutionError, TrustedIssuers, verify
from shared.registry import AllianceRegistry


class CachingResolver:
    """DID documents and status lists fetched once per run: they do not change under load
    (nothing is revoked)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._http = HttpResolver(client)
        self._documents: dict[str, dict[str, Any]] = {}
        self._lists: dict[str, dict[str, Any]] = {}

    async def did_document(self, did: str) -> dict[str, Any]:
        if did not in self._documents:
            self._documents[did] = await self._http.did_document(did)
        return self._documents[did]

    async def status_list(self, url: str) -> dict[str, Any]:
        if url not in self._lists:
            self._lists[url] = await self._http.status_list(url)
        return self._lists[url]


@dataclass
class Verification:
    held: dict[str, set[str]] = field(default_factory=dict)
    """learner id -> the credential ids the issuance API lists for them"""
    unverified: dict[str, str] = field(default_factory=dict)
    """credential id -> the first check that failed"""
    verified: int = 0


async def verify_all(
    issuance_url: str, learners: Sequence[Learner], concurrency: int
) -> Verification:
    outcome = Verification()
    trust = TrustedIssuers.load(issuing_hosts=[urlsplit(issuance_url).netloc])
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=issuance_url, timeout=30) as client:
        resolver = CachingResolver(client)
        # Each status list is signed when first asked for, and a verification checks it at
        # the moment the verification began: have them signed before any begins.
        for partner_id in AllianceRegistry.load().partners:
            url = f"{issuance_url}/status/{partner_id}/revocation"
            with contextlib.suppress(ResolutionError):
                await resolver.status_list(url)

        async def one(learner: Learner) -> None:
            headers = {"authorization": f"Bearer {learner.token}"}
            async with gate:
                listing = await client.get("/credentials", headers=headers)
                listing.raise_for_status()
                ids = [item["credential_id"] for item in listing.json()["items"]]
                outcome.held[learner.learner_id] = set(ids)
                for credential_id in ids:
                    answer = await client.get(f"/credentials/{credential_id}", headers=headers)
                    answer.raise_for_status()
                    try:
                        report = await verify(answer.json(), resolver, trust=trust)
                    except Exception as exc:
                        # `verify` never fails for a bad credential; this is the verifier's
                        # own fault, reported as such rather than stopping the check.
                        outcome.unverified[credential_id] = f"verifier raised {exc!r}"[:300]
                        continue
                    if report.verified:
                        outcome.verified += 1
                    else:
                        failed = next(c for c in report.checks if not c.passed)
                        outcome.unverified[credential_id] = f"{failed.name}: {failed.message}"

        await asyncio.gather(*(one(learner) for learner in learners))
    return outcome
