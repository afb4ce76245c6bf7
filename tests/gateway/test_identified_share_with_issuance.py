"""Sharing identified by e-mail on real processes: the gateway forwards the learner's token
to issuance, which signs the identified copy; the link confirms the address, verifies (its
suspension looked up at issuance with the copy), and its Europass export is the credential's.
Real broker and PostgreSQL."""

from __future__ import annotations

import httpx

from tests.conftest import ServiceFactory
from tests.gateway.test_wallet_with_issuance import hold_a_credential
from tests.issuance.conftest import TEACHER, staff
from tests.support.identities import token
from tests.support.infra import Infrastructure

EMAIL = "Ada.Lovelace@Example.org"
CHECKS = ("structure", "proof", "validity", "status", "trust")


async def test_a_link_identified_by_e_mail_confirms_it_and_verifies(
    infra: Infrastructure, service_process: ServiceFactory
) -> None:
    holder = await hold_a_credential(infra, service_process)
    ada = token(holder.subject, email=EMAIL)
    share = f"/me/credentials/{holder.credential_id}/share"
    async with (
        httpx.AsyncClient(base_url=holder.gateway.url, timeout=15) as wallet,
        httpx.AsyncClient(base_url=holder.issuance.url, timeout=15) as issuer,
    ):
        made = await wallet.post(share, headers=ada, json={"identify_by": ["email"]})
        assert made.status_code == 201, made.text
        link = made.json()["token"]
        plain = (await wallet.post(share, headers=ada, json={})).json()["token"]
        lacking = await wallet.post(
            share, headers=token(holder.subject), json={"identify_by": ["email"]}
        )
        assert lacking.status_code == 409, lacking.text
        assert lacking.json()["title"] == "Identity not in token"

        async def matches(on: str, identity: str) -> bool:
            answer = await wallet.post(f"/shared/{on}/identity-check", json={"identity": identity})
            assert answer.status_code == 200, answer.text
            matched: bool = answer.json()["match"]
            return matched

        assert await matches(link, EMAIL)
        assert await matches(link, EMAIL.lower())
        assert not await matches(link, "grace@example.org")
        assert not await matches(plain, EMAIL)
        assert EMAIL.lower() not in (await wallet.get(f"/shared/{link}")).text.lower()

        report = (await wallet.get(f"/verify/{link}")).json()
        assert [(c["check"], c["outcome"]) for c in report["checks"]] == [
            (name, "passed") for name in CHECKS
        ], report
        elm = await wallet.get(f"/shared/{link}/elm")
        assert elm.status_code == 200, elm.text

        # The copy is the same credential: suspending it shows on the identified link.
        path = f"/credentials/{holder.credential_id}/suspend"
        suspended = await issuer.post(path, json={}, headers=staff(TEACHER))
        assert suspended.status_code == 200, suspended.text
        report = (await wallet.get(f"/verify/{link}")).json()
        assert report["verified"] is False, report

        # A suspended credential is not issued again, as it is not offered to a wallet.
        again = await wallet.post(share, headers=ada, json={"identify_by": ["email"]})
        assert again.status_code == 409, again.text
        assert again.json()["title"] != "Identity not in token"
