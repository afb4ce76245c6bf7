"""A learner takes a credential into a wallet (OpenID4VCI 1.0, pre-authorized code with a
transaction code), on real issuance and gateway processes, a real broker and PostgreSQL.

The wallets are two independent clients from the npm registry (`infra/wallet`): Animo's,
which `make demo` uses too, and Sphereon's; what each receives is checked with Digital
Bazaar's verifier (`tests/independent`). The refusals are driven by hand against the same processes.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import OKPKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from infra import wallet as wallet_client
from services.issuance.oid4vci import CREDENTIAL_DETAILS, PRE_AUTHORIZED_GRANT, PROOF_TYPE
from shared.credentials import did_key_verification_method
from tests.conftest import ServiceFactory
from tests.gateway.test_wallet_with_issuance import Holder, hold_a_credential
from tests.independent.test_digitalbazaar import _files, _independent, node  # noqa: F401
from tests.issuance.conftest import TEACHER, learner, staff, token as bearer
from tests.support.infra import Infrastructure

HOLDER_SEED = bytes(range(7, 39))


@pytest.fixture(
    scope="module", params=[wallet_client.ANIMO, wallet_client.SPHEREON], ids=["animo", "sphereon"]
)
def wallet(request: pytest.FixtureRequest) -> list[str]:
    """The command that runs each independent wallet (Animo's 1.0 client, Sphereon's
    draft-15 client), with the pinned packages installed when missing."""
    try:
        return wallet_client.command(request.param)
    except wallet_client.WalletError as exc:
        pytest.fail(str(exc))


def redeem(wallet: list[str], link: str, tx_code: str) -> dict[str, Any]:
    return wallet_client.redeem(wallet, link, tx_code, HOLDER_SEED)


@asynccontextmanager
async def reaching(holder: Holder) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Clients of the learner's gateway and of the credential issuer a wallet talks to."""
    async with (
        httpx.AsyncClient(base_url=holder.gateway.url, timeout=15) as gateway,
        httpx.AsyncClient(base_url=holder.issuance.url, timeout=15) as issuer,
    ):
        yield gateway, issuer


async def credential_as_issued(gateway: httpx.AsyncClient, holder: Holder) -> dict[str, Any]:
    answer = await gateway.get(
        f"/me/credentials/{holder.credential_id}", headers=bearer(holder.subject)
    )
    credential: dict[str, Any] = answer.json()
    return credential


async def ask_offer(gateway: httpx.AsyncClient, holder: Holder) -> dict[str, Any]:
    answer = await gateway.post(
        f"/me/credentials/{holder.credential_id}/offer", headers=bearer(holder.subject)
    )
    assert answer.status_code == 201, answer.text
    offer: dict[str, Any] = answer.json()
    return offer


def code_of(offer: dict[str, Any]) -> str:
    code: str = offer["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    return code


async def trade(issuer: httpx.AsyncClient, code: str, tx_code: str, **extra: str) -> httpx.Response:
    return await issuer.post(
        "/oid4vci/token",
        data={
            "grant_type": PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": code,
            "tx_code": tx_code,
            **extra,
        },
    )


def proof(key: Ed25519PrivateKey, audience: str, nonce: str | None) -> str:
    # The fully specified name (RFC 9864); the npm wallet sends the older EdDSA.
    header = {
        "alg": "Ed25519",
        "typ": PROOF_TYPE,
        "kid": did_key_verification_method(key.public_key()),
    }
    claims = {"aud": audience, "nonce": nonce, "iat": int(time.time())}
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(header, claims, OKPKey.import_key(key), algorithms=["Ed25519"])


async def test_the_learner_takes_a_credential_into_an_independent_wallet(
    infra: Infrastructure,
    service_process: ServiceFactory,
    node: str,  # noqa: F811
    wallet: list[str],
    tmp_path: Path,
) -> None:
    holder = await hold_a_credential(infra, service_process)
    async with reaching(holder) as (gateway, issuer):
        as_issued = await credential_as_issued(gateway, holder)
        offer = await ask_offer(gateway, holder)
        link = offer["offer_link"]
        assert link.startswith("openid-credential-offer://?credential_offer=")
        assert (
            json.loads(parse_qs(urlsplit(link).query)["credential_offer"][0])
            == (offer["credential_offer"])
        )
        assert offer["qr_code"].startswith("data:image/svg+xml")
        assert len(offer["tx_code"]) == 6
        assert offer["tx_code"].isdigit()

        received = redeem(wallet, link, offer["tx_code"])
        assert "credential" in received, received
        credential = received["credential"]
        holder_did = received["holder"]
        assert holder_did.startswith("did:key:z6Mk")
        assert credential["credentialSubject"]["id"] == holder_did
        assert credential["id"] == as_issued["id"]
        for same in ("issuer", "credentialStatus", "validFrom", "type"):
            assert credential[same] == as_issued[same], same
        assert (
            credential["credentialSubject"]["achievement"]
            == (as_issued["credentialSubject"]["achievement"])
        )

        # Digital Bazaar's verifier, given the issuer's DID document and its status list.
        partner = credential["issuer"]["id"].rsplit(":", 1)[-1]
        did_document = (await issuer.get(f"/partners/{partner}/did.json")).json()
        status_url = credential["credentialStatus"]["statusListCredential"]

        async def status_list() -> dict[str, Any]:
            listed: dict[str, Any] = (await issuer.get(urlsplit(status_url).path)).json()
            return listed

        files = _files(tmp_path, did_document)
        result = _independent(node, files, credential, await status_list())
        assert result["verified"], result["error"]
        assert result["status"]["checked"] == ["revocation: clear"]

        # Used once: the same offer is refused to the wallet the second time.
        again = redeem(wallet, link, offer["tx_code"])
        assert "credential" not in again
        refusal = json.dumps(again)
        # Sphereon's client names the token endpoint's 400 but not the error in its body.
        assert "invalid_grant" in refusal or (
            "/oid4vci/token" in refusal and "failed with status: 400" in refusal
        ), again

        # The wallet's copy carries the same status entry: revoking reaches it.
        revoked = await issuer.post(
            f"/credentials/{holder.credential_id}/revoke",
            json={"reason": "issued_in_error"},
            headers=staff(TEACHER),
        )
        assert revoked.status_code == 200, revoked.text
        result = _independent(node, files, credential, await status_list())
        assert not result["verified"]
        assert "revocation bit set" in result["error"]


async def test_offers_refuse_the_wrong_learner_code_proof_and_an_expired_offer(
    infra: Infrastructure, service_process: ServiceFactory
) -> None:
    holder = await hold_a_credential(infra, service_process)
    base = holder.issuance.url.rstrip("/")
    async with reaching(holder) as (gateway, issuer):
        metadata = (await issuer.get("/.well-known/openid-credential-issuer")).json()
        audience = metadata["credential_issuer"]
        assert metadata["nonce_endpoint"].startswith(audience)
        [server] = metadata["authorization_servers"]
        path = urlsplit(server).path
        server_metadata = await issuer.get(f"/.well-known/oauth-authorization-server{path}")
        assert server_metadata.json()["issuer"] == server
        assert PRE_AUTHORIZED_GRANT in server_metadata.json()["grant_types_supported"]
        # No configuration has a scope: authorization_details is how a wallet names one.
        assert server_metadata.json()["authorization_details_types_supported"] == [
            CREDENTIAL_DETAILS
        ]
        # Also where OIDC-minded wallets (Sphereon's client) append the well-known path.
        appended = await issuer.get(f"{path}/.well-known/oauth-authorization-server")
        assert appended.json() == server_metadata.json()
        # The partner systems' client-credentials server is still at the root.
        root = (await issuer.get("/.well-known/oauth-authorization-server")).json()
        assert root["grant_types_supported"] == ["client_credentials"]

        # Another learner cannot have the credential offered.
        other = await gateway.post(
            f"/me/credentials/{holder.credential_id}/offer", headers=bearer(learner()[0])
        )
        assert other.status_code == 404, other.text

        # A wrong transaction code is refused; the right one still works, once.
        offer = await ask_offer(gateway, holder)
        code = code_of(offer)
        wrong = "0" * 6 if offer["tx_code"] != "0" * 6 else "1" * 6
        refused = await trade(issuer, code, wrong)
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
        traded = await trade(issuer, code, offer["tx_code"])
        assert traded.status_code == 200, traded.text
        access = {"Authorization": f"Bearer {traded.json()['access_token']}"}
        reused = await trade(issuer, code, offer["tx_code"])
        assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")

        # Proofs with a nonce never handed out, or for another audience, are refused.
        key = Ed25519PrivateKey.from_private_bytes(HOLDER_SEED)

        [configuration] = offer["credential_offer"]["credential_configuration_ids"]

        async def ask(
            proof_jwt: str, token: dict[str, str] = access, **named: str
        ) -> httpx.Response:
            return await issuer.post(
                "/oid4vci/credential",
                json={
                    **(named or {"credential_configuration_id": configuration}),
                    "proofs": {"jwt": [proof_jwt]},
                },
                headers=token,
            )

        async def nonce() -> str:
            answer = await issuer.post("/oid4vci/nonce")
            assert answer.status_code == 200, answer.text
            c_nonce: str = answer.json()["c_nonce"]
            return c_nonce

        made_up = await ask(proof(key, audience, "a-nonce-never-handed-out"))
        assert (made_up.status_code, made_up.json()["error"]) == (400, "invalid_nonce")
        # No nonce at all is an invalid proof (1.0 §8.3.1.2), not a stale nonce.
        no_nonce = await ask(proof(key, audience, None))
        assert (no_nonce.status_code, no_nonce.json()["error"]) == (400, "invalid_proof")
        # The credential is named by its configuration or by the token's identifier.
        unnamed = await issuer.post(
            "/oid4vci/credential",
            json={"proofs": {"jwt": [proof(key, audience, await nonce())]}},
            headers=access,
        )
        assert (unnamed.status_code, unnamed.json()["error"]) == (
            400,
            "invalid_credential_request",
        )
        elsewhere = await ask(proof(key, "https://another-issuer.example", await nonce()))
        assert (elsewhere.status_code, elsewhere.json()["error"]) == (400, "invalid_proof")
        no_token = await issuer.post("/oid4vci/credential", json={"proofs": {"jwt": ["x"]}})
        assert no_token.status_code == 401
        # The refusals spent nothing: a good proof takes the credential, once.
        c_nonce = await nonce()
        taken = await ask(proof(key, audience, c_nonce))
        assert taken.status_code == 200, taken.text
        [entry] = taken.json()["credentials"]
        assert entry["credential"]["credentialSubject"]["id"].startswith("did:key:")
        assert base in audience
        twice = await ask(proof(key, audience, await nonce()))
        assert (twice.status_code, twice.json()["error"]) == (401, "invalid_token")

        # A wallet that names the configuration in authorization_details gets the
        # credential identifier to ask with (1.0 §6.2, §8.2).
        detailed = await ask_offer(gateway, holder)
        detail = {
            "type": CREDENTIAL_DETAILS,
            "credential_configuration_id": configuration,
            "locations": [audience],
        }
        refused_details = await trade(
            issuer,
            code_of(detailed),
            detailed["tx_code"],
            authorization_details=json.dumps([{**detail, "locations": ["https://x.example"]}]),
        )
        assert refused_details.json()["error"] == "invalid_authorization_details"
        granted = await trade(
            issuer,
            code_of(detailed),
            detailed["tx_code"],
            authorization_details=json.dumps([detail]),
        )
        assert granted.status_code == 200, granted.text
        [details] = granted.json()["authorization_details"]
        assert details["credential_configuration_id"] == configuration
        [identifier] = details["credential_identifiers"]
        bearer_token = {"Authorization": f"Bearer {granted.json()['access_token']}"}
        unknown = await ask(
            proof(key, audience, await nonce()), bearer_token, credential_identifier="other"
        )
        assert (unknown.status_code, unknown.json()["error"]) == (
            400,
            "unknown_credential_identifier",
        )
        identified = await ask(
            proof(key, audience, await nonce()), bearer_token, credential_identifier=identifier
        )
        assert identified.status_code == 200, identified.text

        # An offer past its time is refused.
        late = await ask_offer(gateway, holder)
        engine = create_async_engine(holder.issuance.env["DATABASE_URL"])
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE credential_offers SET expires_at = now() - interval '1 second'")
                )
        finally:
            await engine.dispose()
        expired = await trade(issuer, code_of(late), late["tx_code"])
        assert (expired.status_code, expired.json()["error"]) == (400, "invalid_grant")
        assert "expired" in expired.json()["error_description"]
