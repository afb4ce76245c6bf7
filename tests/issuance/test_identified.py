"""A learner's credential issued again with their e-mail address and name hashed into it:
signed by the same issuer, verifying, carrying only salted hashes, and still recognised by
issuance as the credential it copies. The rules in process with the demo keys (and Digital
Bazaar's verifier); the route on the service as a process (real broker and PostgreSQL)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.issuance.domain import (
    IdentityNotInToken,
    identified,
    identity_objects,
    shown_as_issued,
)
from shared.credentials import KeyResolver, build_did_document, verify_credential
from shared.credentials.clr import ClrData, build_clr
from shared.credentials.data_model import check_credential
from shared.credentials.microcredential import Organisation, identity_hash
from shared.events import PathwayCompleted
from tests.gateway.fake_issuance import BASE, KEYS, learner, signed_credential
from tests.independent.test_digitalbazaar import (
    ISSUER as DID_ISSUER,
    _files,
    _independent,
    _micro_credential,
    _signed,
    node as node,  # the fixture: Node.js ready
)
from tests.issuance.conftest import (
    OPERATOR,
    TEACHER,
    Alliance,
    learner as new_learner,
    new_id,
    passed_result,
    staff,
    token,
)
from tests.issuance.test_service import did_resolver, issued_to

EMAIL = "Ada.Lovelace@Example.org"
NAME = "Ada Lovelace"
RESOLVER = KeyResolver([KEYS.did_document("nordhavn")])


def _signed_copy(document: dict[str, Any], claims: dict[str, str | None]) -> dict[str, Any]:
    """What `CredentialService.identified_copy` signs, without the database around it."""
    unsigned = identified(document, identity_objects(claims))
    return KEYS.sign("nordhavn", unsigned, "2026-07-01T09:00:00Z")


def _micro() -> dict[str, Any]:
    issued: dict[str, Any] = json.loads(signed_credential(learner("ada"), 7))
    return issued


def _stacked() -> dict[str, Any]:
    nordhavn = Organisation(KEYS.did("nordhavn"), "Nordhavn University of Technology", "DK")
    unsigned = build_clr(
        ClrData(
            credential_id=f"{BASE}/credentials/cred-stacked-1",
            achievement_id=f"{BASE}/pathways/pth-1",
            issuer=nordhavn,
            awarding_body=nordhavn,
            learner_id=learner("ada"),
            title="Responsible AI",
            description="Two stacked micro-credentials, 10 ECTS.",
            criteria="Completion of the alliance pathway pth-1.",
            valid_from="2026-06-30T12:00:00Z",
            ects=10,
            components=[_micro(), _micro()],
            status_list_credential=f"{BASE}/status/nordhavn/revocation",
            status_list_index=9,
        )
    )
    return KEYS.sign("nordhavn", unsigned, "2026-06-30T12:00:00Z")


def _identity(credential: dict[str, Any], kind: str) -> dict[str, Any]:
    identity: dict[str, Any]
    [identity] = [
        i for i in credential["credentialSubject"]["identifier"] if i["identityType"] == kind
    ]
    return identity


@pytest.mark.parametrize("issued", [_micro(), _stacked()], ids=["micro-credential", "clr"])
def test_the_identified_copy_verifies_and_carries_only_the_hashes(issued: dict[str, Any]) -> None:
    assert verify_credential(issued, RESOLVER).verified
    copied = _signed_copy(issued, {"email": EMAIL, "name": f" {NAME} "})

    assert verify_credential(copied, RESOLVER).verified
    check_credential(copied)
    # The same credential: id, issuer, achievement and status entry, so its status applies.
    for key in ("id", "issuer", "validFrom", "credentialStatus", "type"):
        assert copied[key] == issued[key]
    subject, original = copied["credentialSubject"], issued["credentialSubject"]
    assert subject["identifier"][: len(original["identifier"])] == original["identifier"]
    assert {k: v for k, v in subject.items() if k != "identifier"} == {
        k: v for k, v in original.items() if k != "identifier"
    }
    email, name = _identity(copied, "emailAddress"), _identity(copied, "name")
    assert email["hashed"] is name["hashed"] is True
    assert email["salt"] != name["salt"] != original["identifier"][0]["salt"]
    # E-mail addresses are hashed in lower case; names as given, trimmed.
    assert email["identityHash"] == identity_hash(EMAIL.lower(), email["salt"])
    assert name["identityHash"] == identity_hash(NAME, name["salt"])
    text = json.dumps(copied)
    for plain in (EMAIL, EMAIL.lower(), NAME, "Lovelace"):
        assert plain not in text
    # Each copy gets salts of its own.
    again = _signed_copy(issued, {"email": EMAIL})
    assert _identity(again, "emailAddress")["salt"] != email["salt"]


def test_a_claim_the_token_lacks_is_refused_without_naming_any_value() -> None:
    with pytest.raises(IdentityNotInToken, match="verified e-mail") as refused:
        identity_objects({"email": None, "name": NAME})
    assert NAME not in str(refused.value)
    with pytest.raises(IdentityNotInToken, match=r"^Your token carries no name\.$"):
        identity_objects({"name": ""})


def test_issuance_knows_the_identified_copy_as_the_credential_it_copies() -> None:
    issued = _micro()
    copied = _signed_copy(issued, {"email": EMAIL})
    assert shown_as_issued(issued, issued)
    assert shown_as_issued(copied, issued)

    altered = copy.deepcopy(copied)
    altered["credentialSubject"]["result"][0]["status"] = "Failed"
    assert not shown_as_issued(altered, issued)
    # An identifier replaced, not added to, is not the learner's credential.
    replaced = copy.deepcopy(copied)
    replaced["credentialSubject"]["identifier"] = replaced["credentialSubject"]["identifier"][1:]
    assert not shown_as_issued(replaced, issued)
    # Only hashed e-mail and name identities may be added.
    foreign = copy.deepcopy(copied)
    foreign["credentialSubject"]["identifier"].append(
        {"type": "IdentityObject", "identityType": "identifier", "hashed": True,
         "identityHash": "sha256$00", "salt": "00"}
    )  # fmt: skip
    assert not shown_as_issued(foreign, issued)
    unhashed = copy.deepcopy(copied)
    unhashed["credentialSubject"]["identifier"][-1]["hashed"] = False
    assert not shown_as_issued(unhashed, issued)
    assert not shown_as_issued(copied, _micro())


async def test_the_learner_gets_an_identified_copy_of_their_own_credentials_only(
    alliance: Alliance,
) -> None:
    subject, learner_id = new_learner()
    for _ in range(2):
        await alliance.announce("assessment", passed_result(alliance.offering, learner_id))
    components = await issued_to(alliance, learner_id, 2)
    await alliance.announce(
        "recognition",
        PathwayCompleted(
            pathway_id=new_id("pth"),
            pathway_version=1,
            owner_partner_id="vallombra",
            learner_id=learner_id,
            title={"en": "Responsible AI"},
            component_credential_ids=tuple(c.credential_id for c in components),
            ects_earned=10,
            completed_at=dt.datetime.now(dt.UTC),
        ),
    )
    [stacked] = [c for c in await issued_to(alliance, learner_id, 3) if c.pathway_id]
    mine = token(subject, email=EMAIL, name=NAME)
    async with alliance.api() as api:
        resolver = await did_resolver(api, OPERATOR)
        for credential_id in (components[0].credential_id, stacked.credential_id):
            path = f"/credentials/{credential_id}"
            issued = (await api.get(path, headers=mine)).json()
            answer = await api.post(
                f"{path}/identified", headers=mine, json={"identify_by": ["email", "name"]}
            )
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"] == "application/ld+json"
            copied = answer.json()
            assert verify_credential(copied, resolver).verified
            assert copied["credentialStatus"] == issued["credentialStatus"]
            email = _identity(copied, "emailAddress")
            assert email["identityHash"] == identity_hash(EMAIL.lower(), email["salt"])
            assert NAME not in answer.text
            assert EMAIL.lower() not in answer.text
            verified = await api.post("/credentials/verify", json={"verifiableCredential": copied})
            assert verified.json()["errors"] == [], verified.text
            # Holding the copy is holding the credential: its status is answered.
            held = await api.post(f"{path}/current-status", json=copied)
            assert held.status_code == 200, held.text
            assert held.json()["status"] == "valid"

        path = f"/credentials/{components[0].credential_id}/identified"
        email_only = {"identify_by": ["email"]}
        lacking = await api.post(path, headers=token(subject, name=NAME), json=email_only)
        assert lacking.status_code == 409, lacking.text
        assert lacking.json()["title"] == "Identity not in token"
        theirs = await api.post(
            path, headers=token(new_id("learner"), email=EMAIL), json=email_only
        )
        assert theirs.status_code == 404, theirs.text
        assert (await api.post(path, headers=staff(TEACHER), json=email_only)).status_code == 403
        unknown = await api.post(path, headers=mine, json={"identify_by": ["phone"]})
        assert unknown.status_code == 422
    # Nor did the service write them anywhere it logs to.
    logged = alliance.service.log_path.read_text(errors="replace")
    assert EMAIL.lower() not in logged.lower()
    assert NAME not in logged


def test_an_independent_verifier_accepts_the_identified_copy(node: str, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    files = _files(tmp_path, build_did_document(DID_ISSUER, [key.public_key()]))
    issued = _micro_credential(key, DID_ISSUER)
    unsigned = identified(issued, identity_objects({"email": EMAIL, "name": NAME}))
    copied = _signed(unsigned, key, DID_ISSUER)
    result = _independent(node, files, copied)
    assert result["verified"], result["error"]
    # The added identities are signed: changing one breaks the proof there too.
    copied["credentialSubject"]["identifier"][-1]["identityHash"] = "sha256$00"
    assert not _independent(node, files, copied)["verified"]
