"""OAuth 2.0 client credentials for partner systems: the token endpoint (RFC 6749 §4.4, errors
per §5.2), its metadata (RFC 8414), and the VC API accepting its tokens as the partner's
system, in process and on the running service."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi import FastAPI

from services.issuance import clients
from services.issuance.settings import IssuanceSettings
from shared.auth import PartnerCaller, TokenVerifier
from shared.problems import install_problem_handlers
from shared.settings import ServiceSettings
from tests.conftest import ServiceFactory
from tests.support.identities import staff

BASE_URL = "http://issuance.test"
PARTNERS = ("rheinfeld", "valdemora")
VC_V2 = "https://www.w3.org/ns/credentials/v2"


def _settings(**changes: Any) -> IssuanceSettings:
    return IssuanceSettings(
        **{"public_base_url": BASE_URL, "allow_development_keys": True, **changes}
    )


def _app(settings: IssuanceSettings) -> tuple[FastAPI, clients.TokenSigner]:
    """The token endpoint beside stand-ins for VC API routes, as bootstrap mounts them."""
    defaults = ServiceSettings(service_name="issuance")
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(
        defaults.oidc_issuer, defaults.oidc_audience, defaults.oidc_jwks_url
    )
    install_problem_handlers(app)

    @app.post("/credentials/issue")
    async def issue(caller: PartnerCaller) -> dict[str, Any]:
        return {"role": caller.role, "partner_id": caller.partner_id, "subject": caller.subject}

    @app.post("/credentials/{credential_id}/revoke")
    async def revoke(credential_id: str, caller: PartnerCaller) -> dict[str, Any]:
        return {"revoked": credential_id}

    return app, clients.install(app, settings, PARTNERS)


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    app, _ = _app(_settings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


def _basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _token(api: httpx.AsyncClient, partner: str, **form: str) -> str:
    client_id, secret = clients.development_client(partner)
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", **form},
        headers=_basic(client_id, secret),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def test_a_registered_client_gets_a_bearer_token_by_basic_or_form_authentication(
    api: httpx.AsyncClient,
) -> None:
    client_id, secret = clients.development_client("valdemora")
    by_basic = await api.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=_basic(client_id, secret)
    )
    by_form = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    for response in (by_basic, by_form):
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        answer = response.json()
        assert answer["token_type"] == "Bearer"
        assert answer["expires_in"] == 900
        assert answer["scope"] == "issue:credentials verify:credentials"
        claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
        assert claims["iss"] == BASE_URL
        assert (claims["alliance_role"], claims["partner_id"]) == ("partner_system", "valdemora")
        assert claims["exp"] - claims["iat"] == 900

    narrowed = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "issue:credentials"},
        headers=_basic(client_id, secret),
    )
    assert narrowed.json()["scope"] == "issue:credentials"


@pytest.mark.parametrize(
    ("label", "form", "headers", "status", "error"),
    [
        (
            "wrong secret",
            {"grant_type": "client_credentials"},
            _basic(clients.development_client("valdemora")[0], "not-the-secret"),
            401,
            "invalid_client",
        ),
        (
            "wrong secret in the form",
            {
                "grant_type": "client_credentials",
                "client_id": clients.development_client("valdemora")[0],
                "client_secret": "not-the-secret",
            },
            {},
            401,
            "invalid_client",
        ),
        (
            "unknown client",
            {"grant_type": "client_credentials"},
            _basic("nobody-client", clients.development_client("valdemora")[1]),
            401,
            "invalid_client",
        ),
        (
            "no client authentication",
            {"grant_type": "client_credentials"},
            {},
            401,
            "invalid_client",
        ),
        (
            "unsupported grant",
            {"grant_type": "password", "username": "u", "password": "p"},
            _basic(*clients.development_client("valdemora")),
            400,
            "unsupported_grant_type",
        ),
        ("no grant", {}, _basic(*clients.development_client("valdemora")), 400, "invalid_request"),
        (
            "a scope not granted",
            {"grant_type": "client_credentials", "scope": "issue:credentials admin"},
            _basic(*clients.development_client("valdemora")),
            400,
            "invalid_scope",
        ),
        (
            "another audience",
            {"grant_type": "client_credentials", "audience": "https://elsewhere.example"},
            _basic(*clients.development_client("valdemora")),
            400,
            "invalid_target",
        ),
    ],
)
async def test_the_token_endpoint_answers_errors_as_rfc_6749_says(
    api: httpx.AsyncClient,
    label: str,
    form: dict[str, str],
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    response = await api.post("/oauth/token", data=form, headers=headers)
    assert response.status_code == status, (label, response.text)
    assert response.json()["error"] == error, label
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic")


async def test_parameters_must_come_as_a_form_and_once(api: httpx.AsyncClient) -> None:
    as_json = await api.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
    twice = await api.post(
        "/oauth/token",
        content="grant_type=client_credentials&grant_type=client_credentials",
        headers={**_basic(*clients.development_client("valdemora")), "Content-Type": clients.FORM},
    )
    assert (twice.status_code, twice.json()["error"]) == (400, "invalid_request")


async def test_the_server_metadata_describes_the_token_endpoint_and_key(
    api: httpx.AsyncClient,
) -> None:
    metadata = (await api.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["issuer"] == BASE_URL
    assert metadata["token_endpoint"] == f"{BASE_URL}/oauth/token"
    assert metadata["grant_types_supported"] == ["client_credentials"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    keys = (await api.get(metadata["jwks_uri"].removeprefix(BASE_URL))).json()["keys"]
    token = await _token(api, "rheinfeld")
    [key] = [k for k in keys if k["kid"] == jwt.get_unverified_header(token)["kid"]]
    public = jwt.PyJWK(key).key
    assert jwt.decode(token, public, algorithms=["EdDSA"], audience=BASE_URL)["sub"] == (
        "rheinfeld-dev-client"
    )


async def test_the_vc_api_takes_a_client_token_as_its_partners_system_and_nothing_more(
    api: httpx.AsyncClient,
) -> None:
    token = await _token(api, "valdemora")
    issued = await api.post("/credentials/issue", headers=_bearer(token))
    assert issued.status_code == 200, issued.text
    assert issued.json() == {
        "role": "partner_system",
        "partner_id": "valdemora",
        "subject": "valdemora-dev-client",
    }
    # The identity provider's tokens still work beside them.
    assert (await api.post("/credentials/issue", headers=staff("rheinfeld"))).status_code == 200

    outside = await api.post("/credentials/cred-abcd/revoke", headers=_bearer(token))
    assert outside.status_code == 403, outside.text
    verify_only = await _token(api, "valdemora", scope="verify:credentials")
    narrow = await api.post("/credentials/issue", headers=_bearer(verify_only))
    assert narrow.status_code == 403, narrow.text


async def test_expired_forged_and_foreign_tokens_are_refused(tmp_path: Path) -> None:
    key_file = _key_file(tmp_path)
    app, signer = _app(_settings(oauth_signing_key_file=key_file))
    client = clients.RegisteredClient(
        client_id="valdemora-erp", partner_id="valdemora", secret_hash=clients.hash_secret("x")
    )
    expired = signer.sign(client, clients.SCOPES, now=int(time.time()) - 3600)
    stranger = clients.TokenSigner(
        signer.issuer, signer.audience, Ed25519PrivateKey.generate(), signer.key_id, 900
    )
    forged = stranger.sign(client, clients.SCOPES)
    claims = jwt.decode(signer.sign(client, clients.SCOPES), options={"verify_signature": False})
    as_staff = jwt.encode(
        {**claims, "alliance_role": "partner_staff"},
        signer.key,
        algorithm="EdDSA",
        headers={"kid": signer.key_id},
    )
    other_audience = jwt.encode(
        {**claims, "aud": "https://elsewhere.example"},
        signer.key,
        algorithm="EdDSA",
        headers={"kid": signer.key_id},
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as api:
        for label, token in [
            ("expired", expired),
            ("forged", forged),
            ("a staff role", as_staff),
            ("another audience", other_audience),
        ]:
            response = await api.post("/credentials/issue", headers=_bearer(token))
            assert response.status_code == 401, (label, response.text)
        good = signer.sign(client, clients.SCOPES)
        assert (await api.post("/credentials/issue", headers=_bearer(good))).status_code == 200


def test_secrets_are_kept_only_as_salted_hashes() -> None:
    stored = clients.hash_secret("s3cret")
    assert "s3cret" not in stored
    assert stored != clients.hash_secret("s3cret")
    assert clients.secret_matches("s3cret", stored)
    assert not clients.secret_matches("s3cret ", stored)
    assert not clients.secret_matches("s3cret", "plain:s3cret")


def test_development_clients_exist_only_in_a_local_alliance(tmp_path: Path) -> None:
    client_id, secret = clients.development_client("valdemora")
    local = clients.ClientRegistry.from_settings(_settings(), PARTNERS)
    assert local.authenticate(client_id, secret) is not None
    deployed = clients.ClientRegistry.from_settings(
        _settings(allow_development_keys=False), PARTNERS
    )
    assert deployed.authenticate(client_id, secret) is None

    registered = clients.RegisteredClient(
        client_id="valdemora-erp",
        partner_id="valdemora",
        secret_hash=clients.hash_secret("erp-secret"),
        scopes=("issue:credentials",),
    )
    clients_file = tmp_path / "clients.json"
    clients_file.write_text(json.dumps({"clients": [registered.model_dump(mode="json")]}))
    for settings in (
        _settings(oauth_clients_file=clients_file),
        _settings(allow_development_keys=False, oauth_clients=clients_file.read_text()),
    ):
        configured = clients.ClientRegistry.from_settings(settings, PARTNERS)
        assert configured.authenticate("valdemora-erp", "erp-secret") == registered
        # A configured registry replaces the development clients, also in a local alliance.
        assert configured.authenticate(client_id, secret) is None

    stranger = registered.model_copy(update={"partner_id": "atlantis"})
    clients_file.write_text(json.dumps({"clients": [stranger.model_dump(mode="json")]}))
    with pytest.raises(ValueError, match="atlantis"):
        clients.ClientRegistry.from_settings(_settings(oauth_clients_file=clients_file), PARTNERS)


def _key_file(folder: Path) -> Path:
    path = folder / "client-tokens.pem"
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    )
    return path


def _credential(issuer_did: str) -> dict[str, Any]:
    return {
        "@context": [VC_V2, "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": issuer_did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "alumniOf": "Example School"},
    }


async def test_a_partner_system_issues_in_its_own_name_with_a_client_token(
    service_process: ServiceFactory, tmp_path: Path
) -> None:
    key_file = _key_file(tmp_path)
    service = await service_process("issuance", OAUTH_SIGNING_KEY_FILE=str(key_file))
    service.start()
    async with httpx.AsyncClient(base_url=service.url, timeout=15) as api:
        metadata = (await api.get("/.well-known/oauth-authorization-server")).json()
        token_endpoint = metadata["token_endpoint"].removeprefix(service.url)
        client_id, secret = clients.development_client("valdemora")

        wrong = await api.post(
            token_endpoint,
            data={"grant_type": "client_credentials"},
            headers=_basic(client_id, "guessed"),
        )
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
        unknown = await api.post(
            token_endpoint,
            data={"grant_type": "client_credentials"},
            headers=_basic("atlantis-dev-client", secret),
        )
        assert unknown.status_code == 401
        grant = await api.post(
            token_endpoint,
            data={"grant_type": "authorization_code", "code": "x"},
            headers=_basic(client_id, secret),
        )
        assert (grant.status_code, grant.json()["error"]) == (400, "unsupported_grant_type")

        answer = await api.post(
            token_endpoint,
            data={"grant_type": "client_credentials", "audience": metadata["issuer"]},
            headers=_basic(client_id, secret),
        )
        assert answer.status_code == 200, answer.text
        bearer = _bearer(answer.json()["access_token"])

        own_did = (await api.get("/partners/valdemora/did.json")).json()["id"]
        other_did = (await api.get("/partners/rheinfeld/did.json")).json()["id"]
        issued = await api.post(
            "/credentials/issue", json={"credential": _credential(own_did)}, headers=bearer
        )
        assert issued.status_code == 201, issued.text
        vc = issued.json()["verifiableCredential"]
        assert vc["proof"]["verificationMethod"].startswith(own_did + "#")
        verified = await api.post("/credentials/verify", json={"verifiableCredential": vc})
        assert verified.status_code == 200, verified.text

        # An absent issuer is the partner's own; an explicit null is refused, not filled in.
        null_issuer = {**_credential(own_did), "issuer": None}
        refused_null = await api.post(
            "/credentials/issue", json={"credential": null_issuer}, headers=bearer
        )
        assert refused_null.status_code == 400, refused_null.text
        assert "issuer" in refused_null.json()["type"]
        absent = {k: v for k, v in _credential(own_did).items() if k != "issuer"}
        filled = await api.post("/credentials/issue", json={"credential": absent}, headers=bearer)
        assert filled.status_code == 201, filled.text
        assert filled.json()["verifiableCredential"]["issuer"] == own_did

        for_another = await api.post(
            "/credentials/issue", json={"credential": _credential(other_did)}, headers=bearer
        )
        assert for_another.status_code == 403, for_another.text

        signer = clients.TokenSigner.from_settings(
            IssuanceSettings(public_base_url=metadata["issuer"], oauth_signing_key_file=key_file)
        )
        client = clients.RegisteredClient(
            client_id=client_id, partner_id="valdemora", secret_hash=clients.hash_secret(secret)
        )
        expired = signer.sign(client, clients.SCOPES, now=int(time.time()) - 3600)
        refused = await api.post(
            "/credentials/issue",
            json={"credential": _credential(own_did)},
            headers=_bearer(expired),
        )
        assert refused.status_code == 401, refused.text
