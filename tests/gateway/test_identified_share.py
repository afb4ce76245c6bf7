"""Sharing a credential identified by the learner's e-mail address and name: the link holds
the copy issuance signs with the token's claims hashed into it, and its identity check, page,
PDF and verification all read that copy. Over a stand-in issuance that makes the copy with
issuance's own rules and the demo keys."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jwt
import pytest

from services.issuance.domain import identified, identity_objects, shown_as_issued
from shared.credentials import KeyResolver, verify_credential
from shared.credentials.pdf import credential_in_pdf
from tests.gateway.fake_issuance import KEYS, FakeIssuance
from tests.support.identities import token

EMAIL = "Ada.Lovelace@Example.org"
NAME = "Ada Lovelace"


class IdentifyingIssuance(FakeIssuance):
    """The stand-in, with issuance's identified copies and its holder check."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path.endswith("/identified"):
            self.seen.append(request)
            return self._identified(path.split("/")[2], request)
        return super().handle(request)

    def _identified(self, credential_id: str, request: httpx.Request) -> httpx.Response:
        claims: dict[str, Any] = jwt.decode(
            request.headers["authorization"].partition(" ")[2],
            options={"verify_signature": False},
        )
        given = {
            "email": claims.get("email") if claims.get("email_verified") is True else None,
            "name": claims.get("name"),
        }
        asked = json.loads(request.content)["identify_by"]
        if any(given[claim] is None for claim in asked):
            return httpx.Response(409, json={"title": "Identity not in token", "status": 409})
        document = json.loads(self.documents[credential_id][1])
        unsigned = identified(document, identity_objects({c: given[c] for c in asked}))
        signed = KEYS.sign("nordhavn", unsigned, "2026-07-01T09:00:00Z")
        return httpx.Response(200, json=signed, headers={"content-type": "application/ld+json"})

    def _current_status(self, credential_id: str, held: Any) -> httpx.Response:
        stored = self.documents.get(credential_id)
        if stored is None or not shown_as_issued(held, json.loads(stored[1])):
            return httpx.Response(404, json={"title": "Not found", "status": 404})
        return httpx.Response(200, json={"credential_id": credential_id, "status": "valid"})


@pytest.fixture
def issuance() -> FakeIssuance:
    return IdentifyingIssuance()


async def _share(
    gateway: httpx.AsyncClient, credential_id: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await gateway.post(f"/me/credentials/{credential_id}/share", headers=headers, json=body)


async def _matches(gateway: httpx.AsyncClient, link: str, identity: str) -> bool:
    answer = await gateway.post(f"/shared/{link}/identity-check", json={"identity": identity})
    assert answer.status_code == 200, answer.text
    matched: bool = answer.json()["match"]
    return matched


async def test_a_link_shared_identified_by_e_mail_confirms_that_address_only(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = issuance.issue("ada")
    ada = token("ada", email=EMAIL, name=NAME)
    made = await _share(gateway, credential_id, ada, identify_by=["email"], show_name=NAME)
    assert made.status_code == 201, made.text
    assert issuance.seen[-1].headers["authorization"] == ada["Authorization"]
    link = made.json()["token"]

    assert await _matches(gateway, link, EMAIL)
    assert await _matches(gateway, link, EMAIL.upper())
    assert await _matches(gateway, link, f" {EMAIL.lower()} ")
    assert not await _matches(gateway, link, "grace.hopper@example.org")
    # Only the e-mail address was asked for: the name shown is not confirmed.
    assert not await _matches(gateway, link, NAME)

    served = (await gateway.get(f"/shared/{link}")).content
    copied = json.loads(served)
    assert copied["id"] == json.loads(issuance.documents[credential_id][1])["id"]
    assert EMAIL.lower() not in served.decode()
    assert EMAIL not in served.decode()
    resolver = KeyResolver([KEYS.did_document("nordhavn")])
    assert verify_credential(copied, resolver).verified
    report = (await gateway.get(f"/verify/{link}")).json()
    assert report["verified"] is True, report
    # The PDF carries the identified copy, and verifies as it.
    pdf = (await gateway.get(f"/shared/{link}/pdf")).content
    assert credential_in_pdf(pdf) == copied
    from_pdf = await gateway.post(
        "/verify", content=pdf, headers={"content-type": "application/pdf"}
    )
    assert from_pdf.json()["verified"] is True, from_pdf.text


async def test_a_name_asked_for_confirms_the_name_shown_on_the_page(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = issuance.issue("ada")
    ada = token("ada", email=EMAIL, name=NAME)
    made = await _share(gateway, credential_id, ada, identify_by=["email", "name"], show_name=NAME)
    link = made.json()["token"]
    assert await _matches(gateway, link, NAME)
    assert await _matches(gateway, link, EMAIL)
    page = (await gateway.get(f"/shared/{link}/page")).text
    assert "not confirmed by the credential" not in page

    plain = (await _share(gateway, credential_id, ada, show_name=NAME)).json()["token"]
    assert "not confirmed by the credential" in (await gateway.get(f"/shared/{plain}/page")).text


async def test_without_identify_by_the_credential_as_issued_matches_no_e_mail(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = issuance.issue("ada")
    ada = token("ada", email=EMAIL, name=NAME)
    made = await _share(gateway, credential_id, ada)
    assert made.status_code == 201, made.text
    link = made.json()["token"]
    assert (await gateway.get(f"/shared/{link}")).content == issuance.documents[credential_id][
        1
    ].encode()
    assert not await _matches(gateway, link, EMAIL)
    assert not await _matches(gateway, link, NAME)


async def test_a_claim_the_token_lacks_is_refused_and_nothing_is_shared(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = issuance.issue("ada")
    refused = await _share(gateway, credential_id, token("ada", name=NAME), identify_by=["email"])
    assert refused.status_code == 409, refused.text
    assert refused.json()["title"] == "Identity not in token"
    assert (await gateway.get("/me/shares", headers=token("ada"))).json() == []
    bad = await _share(gateway, credential_id, token("ada"), identify_by=["phone"])
    assert bad.status_code == 422
    empty = await _share(gateway, credential_id, token("ada"), identify_by=[])
    assert empty.status_code == 422
