"""A learner's credential issued again with their e-mail address and name hashed into it:
signed by the same issuer, verifying, carrying only salted hashes, and still recognised by
issuance as the credential it copies. In process, with the demo keys."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from services.issuance.domain import (
    IdentityNotInToken,
    identified,
    identity_objects,
    shown_as_issued,
)
from shared.credentials import KeyResolver, verify_credential
from shared.credentials.clr import ClrData, build_clr
from shared.credentials.data_model import check_credential
from shared.credentials.microcredential import Organisation, identity_hash
from tests.gateway.fake_issuance import BASE, KEYS, learner, signed_credential

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
