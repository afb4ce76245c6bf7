"""A learner takes a credential into a wallet by a W3C CCG VC API exchange (DID
authentication, as DCC's Learner Credential Wallet does), reached from the same QR code as
the OpenID4VCI offer, on real issuance and gateway processes, a real broker and PostgreSQL.

The wallet is an in-test holder with an Ed25519 did:key that signs its presentation itself;
what it receives is checked by issuance's own verifier and by Digital Bazaar's
(`tests/independent`). The refusals are driven against the same processes, and then a
presentation signed by Digital Bazaar's libraries with eddsa-rdfc-2022
(`tests/independent/present.mjs`) takes the credential. DCC's wallet itself signs with
Ed25519Signature2020: its exchange steps, on its own libraries (`infra/wallet`), take a
credential too.
"""

from __future__ import annotations

import html
import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from infra import wallet as wallet_client
from shared.credentials import did_key
from tests.conftest import ServiceFactory
from tests.gateway.test_wallet_with_issuance import hold_a_credential
from tests.independent.test_digitalbazaar import (  # noqa: F401 - node is a fixture
    HERE as INDEPENDENT,
    NODE_TIMEOUT_S,
    _files,
    _independent,
    node,
)
from tests.support.infra import Infrastructure
from tests.support.presentations import presentation
from tests.wallet.test_oid4vci import ask_offer, code_of, credential_as_issued, reaching, trade

HOLDER_SEED = bytes(range(11, 43))
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HOLDER = Ed25519PrivateKey.from_private_bytes(HOLDER_SEED)


def independent_presentation(
    node: str,  # noqa: F811 - the fixture's value
    tmp_path: Path,
    challenge: str,
    domain: str,
) -> dict[str, Any]:
    """The same holder's DID authentication signed by Digital Bazaar's libraries."""
    run = subprocess.run(
        [
            node,
            str(INDEPENDENT / "present.mjs"),
            HOLDER_SEED.hex(),
            challenge,
            domain,
            *_files(tmp_path, {}).contexts,
        ],
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        check=False,
    )
    assert run.returncode == 0, f"present.mjs failed: {run.stderr[-2000:]}"
    signed: dict[str, Any] = json.loads(run.stdout)
    return signed


async def protocols(client: httpx.AsyncClient, offer: dict[str, Any]) -> dict[str, str]:
    answer = await client.get(offer["interaction_url"])
    assert answer.status_code == 200, answer.text
    found: dict[str, str] = answer.json()["protocols"]
    return found


async def challenge_of(client: httpx.AsyncClient, exchange: str) -> dict[str, Any]:
    answer = await client.post(exchange, json={})
    assert answer.status_code == 200, answer.text
    request: dict[str, Any] = answer.json()["verifiablePresentationRequest"]
    return request


async def test_a_learner_takes_a_credential_by_did_authentication_in_an_exchange(
    infra: Infrastructure,
    service_process: ServiceFactory,
    node: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    holder = await hold_a_credential(infra, service_process)
    async with reaching(holder) as (gateway, issuer):
        as_issued = await credential_as_issued(gateway, holder)
        offer = await ask_offer(gateway, holder)
        # One QR code: the interaction URL, naming both protocols.
        interaction = offer["interaction_url"]
        assert interaction.endswith("?iuv=1")
        assert offer["qr_code"] == segno.make(interaction, error="m").svg_data_uri(scale=4)
        found = await protocols(issuer, offer)
        assert found["OID4VCI"] == offer["offer_link"]
        exchange = found["vcapi"]
        assert "/workflows/" in exchange
        assert "/exchanges/" in exchange
        # A browser that opens it reads directions in HTML, with the OpenID4VCI link (VCALM:
        # JSON only for a request that takes it).
        page = await issuer.get(interaction, headers={"Accept": BROWSER_ACCEPT})
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert f'href="{html.escape(offer["offer_link"])}"' in page.text
        wanted = await issuer.get(interaction, headers={"Accept": "application/json"})
        assert wanted.json()["protocols"] == found
        # Without iuv, a browser is sent on to the wallet app's OpenID4VCI link.
        browser = await issuer.get(interaction.removesuffix("?iuv=1"))
        assert browser.status_code == 303
        assert browser.headers["location"] == offer["offer_link"]

        request = await challenge_of(issuer, exchange)
        [query] = request["query"]
        assert query["type"] == "DIDAuthentication"
        assert request["interact"]["service"][0]["serviceEndpoint"] == exchange
        signed = presentation(HOLDER, request["challenge"], request["domain"])
        answer = await issuer.post(exchange, json={"verifiablePresentation": signed})
        assert answer.status_code == 200, answer.text
        [credential] = answer.json()["verifiablePresentation"]["verifiableCredential"]
        holder_did = did_key(HOLDER.public_key())
        assert credential["credentialSubject"]["id"] == holder_did
        for same in ("id", "issuer", "credentialStatus", "validFrom", "type"):
            assert credential[same] == as_issued[same], same
        assert (
            credential["credentialSubject"]["achievement"]
            == (as_issued["credentialSubject"]["achievement"])
        )

        # Issuance's own verifier and Digital Bazaar's both verify it.
        ours = await issuer.post("/credentials/verify", json={"verifiableCredential": credential})
        assert ours.status_code == 200, ours.text
        assert ours.json()["verified"], ours.json()
        partner = credential["issuer"]["id"].rsplit(":", 1)[-1]
        did_document = (await issuer.get(f"/partners/{partner}/did.json")).json()
        status_url = credential["credentialStatus"]["statusListCredential"]
        status_list = (await issuer.get(urlsplit(status_url).path)).json()
        result = _independent(node, _files(tmp_path, did_document), credential, status_list)
        assert result["verified"], result["error"]

        # Single-use, for both protocols: the exchange and the OpenID4VCI code are spent.
        again = await issuer.post(exchange, json={"verifiablePresentation": signed})
        assert (again.status_code, again.json()["title"]) == (409, "Exchange closed")
        assert (await issuer.post(exchange, json={})).status_code == 409
        assert (await issuer.get(interaction)).status_code == 409
        traded = await trade(issuer, code_of(offer), offer["tx_code"])
        assert (traded.status_code, traded.json()["error"]) == (400, "invalid_grant")


async def test_the_learner_credential_wallets_exchange_client_takes_a_credential(
    infra: Infrastructure,
    service_process: ServiceFactory,
    node: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """DCC's wallet's own steps on its own libraries (`infra/wallet/lcw-exchange.mjs`):
    protocols from the QR code's URL, `{}` to the exchange, DID authentication signed with
    Ed25519Signature2020 over a VC 1.1 or 2.0 presentation."""
    try:
        lcw = wallet_client.command(wallet_client.LCW)
    except wallet_client.WalletError as exc:
        pytest.fail(str(exc))
    holder = await hold_a_credential(infra, service_process)
    async with reaching(holder) as (gateway, issuer):
        for vc_version in (1, 2):
            offer = await ask_offer(gateway, holder)
            taken = wallet_client.exchange(lcw, offer["interaction_url"], HOLDER_SEED, vc_version)
            assert "credential" in taken, taken
            assert taken["presentation"]["proof"]["type"] == "Ed25519Signature2020"
            credential = taken["credential"]
            assert credential["credentialSubject"]["id"] == taken["holder"]
            assert taken["holder"] == did_key(HOLDER.public_key())
            partner = credential["issuer"]["id"].rsplit(":", 1)[-1]
            did_document = (await issuer.get(f"/partners/{partner}/did.json")).json()
            status_url = credential["credentialStatus"]["statusListCredential"]
            status_list = (await issuer.get(urlsplit(status_url).path)).json()
            result = _independent(node, _files(tmp_path, did_document), credential, status_list)
            assert result["verified"], result["error"]
            # The offer is spent: the wallet is refused the second time.
            again = wallet_client.exchange(lcw, offer["interaction_url"], HOLDER_SEED, vc_version)
            assert "credential" not in again
            assert "409" in again["error"], again


async def test_exchanges_refuse_a_wrong_challenge_domain_signature_reuse_and_expiry(
    infra: Infrastructure,
    service_process: ServiceFactory,
    node: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    holder = await hold_a_credential(infra, service_process)
    async with reaching(holder) as (gateway, issuer):
        offer = await ask_offer(gateway, holder)
        exchange = (await protocols(issuer, offer))["vcapi"]
        unknown = await issuer.post(exchange[:-6] + "000000", json={})
        assert (unknown.status_code, unknown.json()["title"]) == (404, "Unknown exchange")

        request = await challenge_of(issuer, exchange)
        challenge, domain = request["challenge"], request["domain"]

        async def present(signed: dict[str, Any]) -> httpx.Response:
            return await issuer.post(exchange, json={"verifiablePresentation": signed})

        refusals = {
            "a challenge never asked": presentation(HOLDER, "not-the-challenge", domain),
            "another domain": presentation(HOLDER, challenge, "https://verifier.example"),
            "an assertion, not authentication": presentation(
                HOLDER, challenge, domain, "assertionMethod"
            ),
        }
        tampered = presentation(HOLDER, challenge, domain)
        tampered["holder"] = did_key(Ed25519PrivateKey.generate().public_key())
        refusals["a holder not the signer"] = tampered
        forged = presentation(HOLDER, challenge, domain)
        other = presentation(Ed25519PrivateKey.generate(), challenge, domain)
        forged["proof"]["proofValue"] = other["proof"]["proofValue"]
        refusals["a bad signature"] = forged
        for why, signed in refusals.items():
            refused = await present(signed)
            assert refused.status_code == 422, (why, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json"), why

        # A new challenge replaces the old one.
        stale = challenge
        challenge = (await challenge_of(issuer, exchange))["challenge"]
        assert (await present(presentation(HOLDER, stale, domain))).status_code == 422
        # The refusals spent nothing; the right presentation, signed here by Digital Bazaar's
        # libraries (eddsa-rdfc-2022), takes the credential, once.
        independent = independent_presentation(node, tmp_path, challenge, domain)
        assert independent["holder"] == did_key(HOLDER.public_key())
        taken = await present(independent)
        assert taken.status_code == 200, taken.text
        [credential] = taken.json()["verifiablePresentation"]["verifiableCredential"]
        assert credential["credentialSubject"]["id"] == independent["holder"]
        reused = await present(independent)
        assert reused.status_code == 409, reused.text

        # An offer traded through OpenID4VCI closes its exchange.
        traded_offer = await ask_offer(gateway, holder)
        traded_exchange = (await protocols(issuer, traded_offer))["vcapi"]
        traded = await trade(issuer, code_of(traded_offer), traded_offer["tx_code"])
        assert traded.status_code == 200, traded.text
        assert (await issuer.post(traded_exchange, json={})).status_code == 409

        # An exchange past its offer's time is refused.
        late = await ask_offer(gateway, holder)
        late_exchange = (await protocols(issuer, late))["vcapi"]
        late_challenge = (await challenge_of(issuer, late_exchange))["challenge"]
        engine = create_async_engine(holder.issuance.env["DATABASE_URL"])
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE credential_offers SET expires_at = now() - interval '1 second'")
                )
        finally:
            await engine.dispose()
        expired = await issuer.post(
            late_exchange,
            json={"verifiablePresentation": presentation(HOLDER, late_challenge, domain)},
        )
        assert expired.status_code == 409, expired.text
        assert "expired" in expired.json()["detail"]
        assert (await issuer.get(late["interaction_url"])).status_code == 409
