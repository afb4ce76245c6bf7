"""The wallet on real processes: issuance issues a credential from a recorded result, the
learner holds, shares and withdraws it through the gateway, anyone verifies it, and a
revocation shows in the verification. Real broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import httpx

from shared.credentials import KeyResolver, verify_credential
from shared.credentials.data_model import as_list
from shared.events import OfferingPublished
from shared.events.topics import OFFERINGS
from shared.partner_system import PartnerSystem, demo_signer
from tests.conftest import ServiceFactory
from tests.issuance.conftest import (
    OPERATOR,
    TEACHER,
    learner,
    passed_result,
    service_signer,
    staff as staff_of,
    token as bearer,
)
from tests.support.builders import offering_published
from tests.support.infra import Infrastructure
from tests.support.kafka import wait_until_caught_up
from tests.support.services import ServiceProcess

DEADLINE_S = 30.0


@dataclass(frozen=True)
class Holder:
    """A learner holding one credential in the wallet, and the processes serving it."""

    issuance: ServiceProcess
    gateway: ServiceProcess
    subject: str
    credential_id: str
    offering: OfferingPublished


async def hold_a_credential(
    infra: Infrastructure, service_process: ServiceFactory, **gateway_env: str
) -> Holder:
    """Issuance issues a credential from a recorded result; waits until the learner's wallet
    in the gateway lists it."""
    issuance = await service_process(
        "issuance",
        CONSUMER_MAX_ATTEMPTS="2",
        CONSUMER_BACKOFF_INITIAL_S="0.01",
        CONSUMER_BACKOFF_MAX_S="0.05",
    )
    gateway = await service_process("gateway", ISSUANCE_URL=issuance.url, **gateway_env)
    await asyncio.gather(asyncio.to_thread(issuance.start), asyncio.to_thread(gateway.start))

    offering = offering_published(TEACHER)
    async with PartnerSystem(infra.kafka_bootstrap_servers, demo_signer(TEACHER)) as partner:
        await partner.publish(offering)
    await wait_until_caught_up(
        infra.kafka_bootstrap_servers, issuance.env["CONSUMER_NAME"], OFFERINGS
    )
    subject, learner_id = learner()
    async with PartnerSystem(
        infra.kafka_bootstrap_servers, service_signer("assessment")
    ) as assessment:
        await assessment.publish(passed_result(offering, learner_id))
    async with httpx.AsyncClient(base_url=gateway.url, timeout=15) as wallet:
        deadline = time.monotonic() + DEADLINE_S
        while not (
            items := (await wallet.get("/me/credentials", headers=bearer(subject))).json()["items"]
        ):
            assert time.monotonic() < deadline, "no credential in the wallet"
            await asyncio.sleep(0.1)
    [item] = items
    assert (item["kind"], item["awarding_partner_id"]) == ("offering", TEACHER)
    return Holder(issuance, gateway, subject, item["credential_id"], offering)


async def test_a_learner_holds_shares_and_withdraws_a_credential_anyone_can_verify(
    infra: Infrastructure, service_process: ServiceFactory
) -> None:
    holder = await hold_a_credential(infra, service_process)
    issuance, gateway, offering = holder.issuance, holder.gateway, holder.offering
    credential_id = holder.credential_id
    ada, grace = bearer(holder.subject), bearer(learner()[0])
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=15) as wallet,
        httpx.AsyncClient(base_url=issuance.url, timeout=15) as issuer,
    ):
        as_issued = await wallet.get(f"/me/credentials/{credential_id}", headers=ada)
        assert as_issued.status_code == 200, as_issued.text
        direct = await issuer.get(f"/credentials/{credential_id}", headers=ada)
        assert as_issued.content == direct.content
        documents = [
            (await issuer.get(f"/partners/{p}/did.json")).json() for p in (OPERATOR, TEACHER)
        ]
        assert verify_credential(json.loads(as_issued.content), KeyResolver(documents)).verified

        path = f"/me/credentials/{credential_id}"
        assert (await wallet.get(path, headers=grace)).status_code == 404
        assert (await wallet.post(f"{path}/share", headers=grace)).status_code == 404

        made = await wallet.post(f"{path}/share", json={"expires_in_days": 30}, headers=ada)
        assert made.status_code == 201, made.text
        token = made.json()["token"]
        assert made.json()["url"] == f"{gateway.url}/shared/{token}"

        shared = await wallet.get(f"/shared/{token}")
        assert shared.content == as_issued.content
        page = await wallet.get(f"/shared/{token}/page")
        assert page.status_code == 200, page.text
        assert offering.title["en"] in page.text
        assert "<svg" in page.text
        assert "Status: valid" in page.text
        pdf = await wallet.get(f"/shared/{token}/pdf")
        assert pdf.content.startswith(b"%PDF")
        report = (await wallet.get(f"/verify/{token}")).json()
        assert [(c["check"], c["outcome"]) for c in report["checks"]] == [
            (name, "passed") for name in ("structure", "proof", "validity", "status", "trust")
        ], report

        revoked = await issuer.post(
            f"/credentials/{credential_id}/revoke",
            json={"reason": "misconduct"},
            headers=staff_of(TEACHER),  # revoking is the awarding partner's decision
        )
        assert revoked.status_code == 200, revoked.text
        report = (await wallet.get(f"/verify/{token}")).json()
        status = report["checks"][3]
        assert (status["check"], status["outcome"]) == ("status", "failed"), report
        assert "revoked" in status["message"]
        assert "Status: revoked" in (await wallet.get(f"/shared/{token}/page")).text

        assert (await wallet.delete(f"/me/shares/{token}", headers=ada)).status_code == 200
        assert (await wallet.get(f"/shared/{token}")).status_code == 410
        assert (await wallet.get(f"/verify/{token}")).status_code == 410


async def test_a_suspended_badge_shows_suspended_where_it_is_shared_until_reinstated(
    infra: Infrastructure, service_process: ServiceFactory
) -> None:
    """An Open Badge carries only its revocation entry: the share page and the verification
    learn of a suspension from issuance when they are viewed."""
    holder = await hold_a_credential(infra, service_process)
    path = f"/credentials/{holder.credential_id}"
    async with (
        httpx.AsyncClient(base_url=holder.gateway.url, timeout=15) as wallet,
        httpx.AsyncClient(base_url=holder.issuance.url, timeout=15) as issuer,
    ):
        made = await wallet.post(f"/me{path}/share", headers=bearer(holder.subject))
        assert made.status_code == 201, made.text
        token = made.json()["token"]
        credential = (await wallet.get(f"/shared/{token}")).json()
        purposes = [entry["statusPurpose"] for entry in as_list(credential["credentialStatus"])]
        assert purposes == ["revocation"]

        async def shown() -> tuple[str, str, bool]:
            report = (await wallet.get(f"/verify/{token}")).json()
            status = report["checks"][3]
            assert status["check"] == "status"
            page = (await wallet.get(f"/shared/{token}/page")).text
            word = page.split("Status: ", 1)[1].split("<", 1)[0].strip()
            return word, status["message"], report["verified"]

        assert (await shown())[::2] == ("valid", True)
        suspended = await issuer.post(f"{path}/suspend", json={}, headers=staff_of(TEACHER))
        assert suspended.status_code == 200, suspended.text
        word, message, verified = await shown()
        assert (word, verified) == ("suspended", False)
        assert message.startswith("the credential is suspended")

        reinstated = await issuer.post(f"{path}/reinstate", json={}, headers=staff_of(TEACHER))
        assert reinstated.status_code == 200, reinstated.text
        assert (await shown())[::2] == ("valid", True)

        # Issuance answers only whoever shows it the credential as issued.
        asked = f"{path}/current-status"
        assert (await issuer.post(asked, json=credential)).json()["status"] == "valid"
        altered = {**credential, "name": "Something else"}
        assert (await issuer.post(asked, json=altered)).status_code == 404
