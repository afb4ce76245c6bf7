"""Credential paths across partners, end to end on the real broker (issue 5).

A learner earns credentials at three partners through the gateway; the pathway completes and
the stacked CLR credential is issued and verifies. One recognition request is decided by a
partner's published rule, another by the recognising partner's staff. Revoking a component
revokes the stacked credential and withdraws the recognition that rested on it.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from infra.demo_journey import (
    AFTER_FOUNDATION,
    FOUNDATION,
    LAST,
    Alliance as Endpoints,
    Received,
    run_journey,
)
from shared.credentials import identity_hash
from shared.credentials.verifier import OfflineResolver, TrustedIssuers, verify
from tests.e2e.conftest import Alliance, eventually
from tests.support.identities import staff, token
from tests.support.infra import Infrastructure

RULED_PROGRAMME = "Laurea Magistrale in Data Science"  # vallombra's rule in the demo data


def _identifies(credential: dict[str, Any], learner_id: str) -> bool:
    """Whether the credential's subject is the learner (by the salted hash it carries)."""
    return any(
        identity["identityType"] == "identifier"
        and identity["identityHash"] == identity_hash(learner_id, identity["salt"])
        for identity in credential["credentialSubject"]["identifier"]
    )


async def _check_stacked(received: Received, stacked_id: str, issuing_host: str) -> None:
    """The collected CLR is the learner's stacked credential: it verifies offline with the
    alliance's verifier and holds the learner's four course credentials as issued, each of
    which verifies on its own."""
    [path] = received.clr
    clr = json.loads(path.read_bytes())
    resolver = OfflineResolver(
        [json.loads(p.read_bytes()) for p in received.did_documents],
        [json.loads(p.read_bytes()) for p in received.status_lists],
    )
    trust = TrustedIssuers.load(issuing_hosts=[issuing_host])
    report = await verify(clr, resolver, trust=trust)
    assert report.verified, report.to_dict()
    assert "ClrCredential" in clr["type"]
    assert clr["id"].rsplit("/", 1)[1] == stacked_id
    assert _identifies(clr, received.learner_id)
    components = {c["id"]: c for c in clr["credentialSubject"]["verifiableCredential"]}
    issued = [json.loads(p.read_bytes()) for p in received.credentials]
    assert components == {c["id"]: c for c in issued}
    offerings = {c["credentialSubject"]["achievement"]["id"].rsplit("/", 1)[1] for c in issued}
    assert offerings == {FOUNDATION, *AFTER_FOUNDATION, LAST}
    for component in components.values():
        assert _identifies(component, received.learner_id), component["id"]
        report = await verify(component, resolver, trust=trust)
        assert report.verified, report.to_dict()


async def test_a_pathway_completes_stacks_and_unravels_when_a_component_is_revoked(
    alliance: Alliance, infra: Infrastructure, tmp_path: Path
) -> None:
    subject = f"path-{uuid.uuid4().hex[:10]}"
    endpoints = Endpoints(
        gateway=alliance.gateway,
        catalogue=alliance.url("catalogue"),
        recognition=alliance.url("recognition"),
        issuance=alliance.url("issuance"),
        bootstrap_servers=infra.kafka_bootstrap_servers,
    )
    received = await run_journey(endpoints, tmp_path, subject=subject)
    learner = token(subject)

    async with (
        alliance.client() as gateway,
        httpx.AsyncClient(base_url=alliance.url("recognition"), timeout=10) as recognition,
        httpx.AsyncClient(base_url=alliance.url("issuance"), timeout=10) as issuance,
    ):
        wallet = (await gateway.get("/me/credentials", headers=learner)).json()["items"]
        [stacked] = [c for c in wallet if c["kind"] == "pathway"]
        foundation = next(c for c in wallet if c["offering_id"] == FOUNDATION)
        other = next(
            c
            for c in wallet
            if c["kind"] == "offering" and c["awarding_partner_id"] not in ("nordhavn", "rheinfeld")
        )
        await _check_stacked(
            received, stacked["credential_id"], urlsplit(endpoints.issuance).netloc
        )
        verified = (await gateway.get(received.share_verify)).json()
        assert verified["verified"] is True, verified

        # Decided by vallombra's published rule, without a person.
        ruled = await recognition.post(
            "/recognitions",
            json={
                "credential_id": foundation["credential_id"],
                "recognising_partner_id": "vallombra",
                "programme": RULED_PROGRAMME,
            },
            headers=learner,
        )
        assert ruled.status_code == 201, ruled.text

        async def decided(recognition_id: str) -> dict[str, Any] | None:
            view: dict[str, Any] = (
                await recognition.get(f"/recognitions/{recognition_id}", headers=learner)
            ).json()
            return view if view["status"] != "pending" else None

        automatic: Any = await eventually(lambda: decided(ruled.json()["recognition_id"]))
        assert automatic["status"] == "recognised", automatic
        assert automatic["automatic"] is True

        # No rule covers this programme: rheinfeld's staff decide.
        asked = await recognition.post(
            "/recognitions",
            json={
                "credential_id": other["credential_id"],
                "recognising_partner_id": "rheinfeld",
                "programme": f"Zertifikat {subject}",
            },
            headers=learner,
        )
        assert asked.status_code == 201, asked.text
        assert asked.json()["status"] == "pending"
        decision = await recognition.post(
            f"/recognitions/{asked.json()['recognition_id']}/decision",
            json={"decision": "recognised", "reasons": ["Matches our module Datenanalyse."]},
            headers=staff("rheinfeld"),
        )
        assert decision.status_code == 200, decision.text
        assert decision.json()["automatic"] is False

        # The issuing partner revokes a component: the stacked credential goes with it.
        revoked = await issuance.post(
            f"/credentials/{foundation['credential_id']}/revoke",
            json={"reason": "issued_in_error"},
            headers=staff("nordhavn"),
        )
        assert revoked.status_code == 200, revoked.text

        async def stack_revoked() -> bool:
            items = (await gateway.get("/me/credentials", headers=learner)).json()["items"]
            return any(
                c["credential_id"] == stacked["credential_id"] and c["status"] == "revoked"
                for c in items
            )

        await eventually(stack_revoked, timeout_s=90, what="the stacked credential revoked")
        status = (await gateway.get(received.share_verify)).json()
        assert status["verified"] is False

        async def withdrawn() -> bool:
            view = await recognition.get(
                f"/recognitions/{ruled.json()['recognition_id']}", headers=learner
            )
            return bool(view.json()["status"] == "withdrawn")

        await eventually(withdrawn, what="the recognition withdrawn")
