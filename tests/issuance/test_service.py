"""The issuance service as a process, on the real broker and PostgreSQL."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from services.issuance.settings import IssuanceSettings
from shared.credentials import (
    KeyResolver,
    decode_status_list,
    get_status,
    verify_credential,
)
from shared.events import (
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    Grade,
    Outcome,
    PathwayCompleted,
)
from shared.events.topics import CREDENTIALS, RESULTS
from shared.partner_system import PartnerSystem, demo_signer
from shared.registry import b58encode
from tests.issuance.conftest import (
    OPERATOR,
    TEACHER,
    Alliance,
    learner,
    new_id,
    passed_result,
    staff,
    token,
)
from tests.support.builders import offering_published
from tests.support.kafka import Record, header, wait_for, wait_until_caught_up
from tests.support.presentations import presentation

ISSUED = "eu.alliance.credential.issued.v1"
REVOKED = "eu.alliance.credential.revoked.v1"
SUSPENDED = "eu.alliance.credential.suspended.v1"
REINSTATED = "eu.alliance.credential.reinstated.v1"


def _events(records: list[Record], learner_id: str, ce_type: str) -> list[Record]:
    return [r for r in records if r.key == learner_id.encode() and header(r, "ce_type") == ce_type]


async def issued_to(alliance: Alliance, learner_id: str, count: int = 1) -> list[CredentialIssued]:
    records = await wait_for(
        alliance.bootstrap,
        CREDENTIALS,
        lambda rs: len(_events(rs, learner_id, ISSUED)) >= count,
    )
    return [
        CredentialIssued.model_validate_json(r.value) for r in _events(records, learner_id, ISSUED)
    ]


async def announced_about(
    alliance: Alliance, credential_id: str, ce_type: str, count: int = 1
) -> list[bytes]:
    """The payloads of the `ce_type` events about the credential, once `count` are there."""

    def about(records: list[Record]) -> list[bytes]:
        return [
            r.value
            for r in records
            if header(r, "ce_type") == ce_type and header(r, "ce_subject") == credential_id
        ]

    return about(
        await wait_for(alliance.bootstrap, CREDENTIALS, lambda rs: len(about(rs)) >= count)
    )


async def revoked_of(alliance: Alliance, credential_id: str) -> CredentialRevoked:
    [value] = await announced_about(alliance, credential_id, REVOKED)
    return CredentialRevoked.model_validate_json(value)


async def did_resolver(api: Any, *partners: str) -> KeyResolver:
    documents = [(await api.get(f"/partners/{p}/did.json")).json() for p in partners]
    return KeyResolver(documents)


async def status_bit(api: Any, resolver: KeyResolver, url: str, index: int) -> bool:
    """The bit at `index` of the served list, after checking the list's own proof."""
    response = await api.get(url.removeprefix(str(api.base_url)))
    assert response.status_code == 200, response.text
    status_list = response.json()
    assert verify_credential(status_list, resolver), "the status list must be signed"
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    bits = decode_status_list(status_list["credentialSubject"]["encodedList"])
    assert len(bits) * 8 >= 131_072
    return get_status(bits, index)


async def test_a_passed_result_delivered_five_times_gives_one_verifiable_revocable_credential(
    alliance: Alliance,
) -> None:
    subject, learner_id = learner()
    result = passed_result(alliance.offering, learner_id)
    await alliance.announce("assessment", result, times=5)
    # Announced again under a new event id (e.g. a replay): still the same result.
    await alliance.announce("assessment", result)
    await wait_until_caught_up(alliance.bootstrap, alliance.consumer, RESULTS)

    [issued] = await issued_to(alliance, learner_id)
    rows = await alliance.query(
        "SELECT credential_id FROM credentials WHERE learner_id = $1", learner_id
    )
    assert [r["credential_id"] for r in rows] == [issued.credential_id]
    outbox = await alliance.query(
        "SELECT count(*) AS n FROM outbox WHERE event_type = $1 AND aggregate_id = $2",
        ISSUED,
        learner_id,
    )
    assert outbox[0]["n"] == 1
    assert issued.offering_id == alliance.offering.offering_id
    assert (issued.issuing_partner_id, issued.awarding_partner_id) == (OPERATOR, TEACHER)
    assert issued.achievement.ects == alliance.offering.workload.ects

    async with alliance.api() as api:
        mine = await api.get("/credentials", headers=token(subject))
        assert mine.status_code == 200, mine.text
        [item] = mine.json()["items"]
        assert (item["credential_id"], item["status"]) == (issued.credential_id, "valid")
        one = await api.get(f"/credentials/{issued.credential_id}", headers=token(subject))
        assert one.status_code == 200, one.text
        assert one.headers["content-type"].startswith("application/ld+json")
        credential = one.json()
        # Nobody else sees it.
        other = token(new_id("learner"))
        assert (
            await api.get(f"/credentials/{issued.credential_id}", headers=other)
        ).status_code == 404
        assert (await api.get(f"/credentials/{issued.credential_id}")).status_code == 401

        resolver = await did_resolver(api, OPERATOR, TEACHER)
        assert credential["issuer"]["id"] == issued.issuer_did
        assert verify_credential(credential, resolver).verified
        # Tampering with any one field breaks the proof.
        tampered = copy.deepcopy(credential)
        tampered["credentialSubject"]["creditsEarned"] = 60
        assert not verify_credential(tampered, resolver).verified

        achievement = credential["credentialSubject"]["achievement"]
        assert achievement["achievementType"] == "MicroCredential"
        assert achievement["creator"]["id"].endswith(":partners:rheinfeld")  # awarding body
        assert "issued on its behalf by" in achievement["criteria"]["narrative"]
        targets = {a["targetType"] for a in achievement["alignment"]}
        assert {"ext:EQFLevel", "ext:AssessmentType", "ext:ModeOfLearning",
                "ext:QualityAssurance", "ext:SupervisionVerification",
                "ext:Stackability"} <= targets  # fmt: skip
        assert credential["credentialSubject"]["result"][1]["value"] == "1,7"  # grade
        status = credential["credentialStatus"]
        assert status["statusListCredential"] == issued.status.status_list_url
        index = int(status["statusListIndex"])
        assert not await status_bit(api, resolver, status["statusListCredential"], index)

        # Only the awarding partner's staff may revoke: not the issuing operator, not another
        # partner, not a partner system (even the awarding partner's), not the learner.
        path = f"/credentials/{issued.credential_id}/revoke"
        body = {"reason": "misconduct", "detail": "Plagiarism established by the exam board."}
        assert (await api.post(path, json=body, headers=staff("valdemora"))).status_code == 403
        assert (await api.post(path, json=body, headers=staff(OPERATOR))).status_code == 403
        system = token("sis", "partner_system", TEACHER)
        assert (await api.post(path, json=body, headers=system)).status_code == 403
        assert (await api.post(path, json=body, headers=token(subject))).status_code == 403
        revoked = await api.post(path, json=body, headers=staff(TEACHER))
        assert revoked.status_code == 200, revoked.text

        assert await status_bit(api, resolver, status["statusListCredential"], index)
    event = await revoked_of(alliance, issued.credential_id)
    assert (event.reason.value, event.learner_id) == ("misconduct", learner_id)


async def test_the_awarding_partners_staff_suspend_and_reinstate_but_never_undo_a_revocation(
    alliance: Alliance,
) -> None:
    subject, learner_id = learner()
    await alliance.announce("assessment", passed_result(alliance.offering, learner_id))
    [issued] = await issued_to(alliance, learner_id)
    path = f"/credentials/{issued.credential_id}"
    body = {"detail": "Under review by the exam board."}
    async with alliance.api() as api:
        resolver = await did_resolver(api, OPERATOR)
        revocation_list = issued.status.status_list_url
        suspension_list = revocation_list.removesuffix("/revocation") + "/suspension"
        index = issued.status.status_list_index
        assert not await status_bit(api, resolver, suspension_list, index)

        system = token("sis", "partner_system", TEACHER)
        for headers, refused in (
            (system, 403), (token(subject), 403), (staff(OPERATOR), 403), (staff("valdemora"), 403),
        ):  # fmt: skip
            for action in ("suspend", "reinstate"):
                answer = await api.post(f"{path}/{action}", json=body, headers=headers)
                assert answer.status_code == refused, (headers, action, answer.text)

        suspended = await api.post(f"{path}/suspend", json=body, headers=staff(TEACHER))
        assert suspended.status_code == 200, suspended.text
        assert suspended.json()["status"] == "suspended"
        assert await status_bit(api, resolver, suspension_list, index)
        assert not await status_bit(api, resolver, revocation_list, index)
        [mine] = (await api.get("/credentials", headers=token(subject))).json()["items"]
        assert mine["status"] == "suspended"

        reinstated = await api.post(f"{path}/reinstate", json={}, headers=staff(TEACHER))
        assert reinstated.status_code == 200, reinstated.text
        assert not await status_bit(api, resolver, suspension_list, index)
        [mine] = (await api.get("/credentials", headers=token(subject))).json()["items"]
        assert mine["status"] == "valid"

        await api.post(f"{path}/suspend", json=body, headers=staff(TEACHER))
        revoked = await api.post(
            f"{path}/revoke", json={"reason": "misconduct"}, headers=staff(TEACHER)
        )
        assert revoked.status_code == 200, revoked.text
        for action in ("reinstate", "suspend"):
            answer = await api.post(f"{path}/{action}", json={}, headers=staff(TEACHER))
            assert answer.status_code == 409, answer.text
        [mine] = (await api.get("/credentials", headers=token(subject))).json()["items"]
        assert mine["status"] == "revoked"
    suspensions = await announced_about(alliance, issued.credential_id, SUSPENDED, count=2)
    first = CredentialSuspended.model_validate_json(suspensions[0])
    assert (first.learner_id, first.awarding_partner_id) == (learner_id, TEACHER)
    assert first.detail == body["detail"]
    [back] = await announced_about(alliance, issued.credential_id, REINSTATED)
    assert CredentialReinstated.model_validate_json(back).learner_id == learner_id


async def test_corrections_keep_one_valid_credential_stating_the_current_result(
    alliance: Alliance,
) -> None:
    _, learner_id = learner()
    first = passed_result(alliance.offering, learner_id)
    await alliance.announce("assessment", first)
    [original] = await issued_to(alliance, learner_id)

    regraded = passed_result(
        alliance.offering, learner_id,
        result_id=new_id("res"), enrolment_id=first.enrolment_id,
        grade=Grade(value="1,3", scheme="de-1-5"), supersedes_result_id=first.result_id,
    )  # fmt: skip
    await alliance.announce("assessment", regraded)
    second = replacement = (await issued_to(alliance, learner_id, 2))[1]
    assert (await revoked_of(alliance, original.credential_id)).reason.value == "result_superseded"

    # A new grade does not lift a suspension: the replacement of a suspended credential is
    # suspended too.
    async with alliance.api() as api:
        path = f"/credentials/{replacement.credential_id}/suspend"
        assert (await api.post(path, json={}, headers=staff(TEACHER))).status_code == 200
    regraded_again = passed_result(
        alliance.offering, learner_id,
        result_id=new_id("res"), enrolment_id=first.enrolment_id,
        grade=Grade(value="1,0", scheme="de-1-5"), supersedes_result_id=regraded.result_id,
    )  # fmt: skip
    await alliance.announce("assessment", regraded_again)
    third = (await issued_to(alliance, learner_id, 3))[2]
    await announced_about(alliance, third.credential_id, SUSPENDED)
    regraded = regraded_again
    replacement = third

    failed = passed_result(
        alliance.offering, learner_id,
        result_id=new_id("res"), enrolment_id=first.enrolment_id, outcome=Outcome.FAILED,
        grade=None, supersedes_result_id=regraded.result_id,
    )  # fmt: skip
    await alliance.announce("assessment", failed)
    await revoked_of(alliance, replacement.credential_id)
    # Judged once every result is applied, so a duplicate recorded after the last revocation
    # is in this service's tables and outbox too (read there: other test runs' issuance
    # services on the same broker announce for this learner as well).
    await wait_until_caught_up(alliance.bootstrap, alliance.consumer, RESULTS)
    rows = await alliance.query(
        "SELECT credential_id, revoked_at FROM credentials WHERE learner_id = $1"
        " ORDER BY issued_at",
        learner_id,
    )
    credentials = [original.credential_id, second.credential_id, third.credential_id]
    assert [r["credential_id"] for r in rows] == credentials
    assert all(r["revoked_at"] is not None for r in rows)
    announced = await alliance.query(
        "SELECT event_type, subject FROM outbox WHERE aggregate_id = $1", learner_id
    )
    assert sorted((r["event_type"], r["subject"]) for r in announced) == sorted(
        [(ISSUED, c) for c in credentials]
        + [(REVOKED, c) for c in credentials]
        + [(SUSPENDED, second.credential_id), (SUSPENDED, third.credential_id)]
    )


async def test_the_vc_api_issues_in_the_partners_own_name_and_verifies(
    alliance: Alliance,
) -> None:
    async with alliance.api() as api:
        valdemora_did = (await api.get("/partners/valdemora/did.json")).json()["id"]
        credential = _ob_credential(valdemora_did)

        foreign = {
            **credential,
            "issuer": {
                **credential["issuer"],
                "id": valdemora_did.replace("valdemora", "nordhavn"),
            },
        }
        refused = await api.post(
            "/credentials/issue", json={"credential": foreign}, headers=staff("valdemora")
        )
        assert refused.status_code == 403, refused.text
        assert (
            await api.post("/credentials/issue", json={"credential": credential})
        ).status_code == 401

        response = await api.post(
            "/credentials/issue", json={"credential": credential, "options": {}},
            headers=staff("valdemora"),
        )  # fmt: skip
        assert response.status_code == 201, response.text
        vc = response.json()["verifiableCredential"]
        assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
        assert vc["proof"]["verificationMethod"].startswith(valdemora_did + "#")
        assert vc["credentialStatus"]["type"] == "BitstringStatusListEntry"

        good = await api.post("/credentials/verify", json={"verifiableCredential": vc})
        assert good.status_code == 200, good.text
        assert good.json()["errors"] == []
        assert {"proof", "validity", "status", "trust"} <= set(good.json()["checks"])

        # The credential in a holder's presentation, for this verifier's challenge only.
        holder = Ed25519PrivateKey.generate()
        options = {"challenge": "c-1", "domain": "https://verifier.example"}
        presented = presentation(holder, "c-1", "https://verifier.example", credentials=[vc])
        verified = await api.post(
            "/presentations/verify", json={"verifiablePresentation": presented, "options": options}
        )
        assert verified.status_code == 200, verified.text
        assert verified.json()["checks"] == ["structure", "proof"]
        assert verified.json()["credentialResults"][0]["verified"] is True
        replayed = await api.post(
            "/presentations/verify",
            json={"verifiablePresentation": presented, "options": {**options, "challenge": "c-2"}},
        )
        assert replayed.status_code == 400
        assert replayed.json()["errors"] == [
            "proof: the proof's challenge is not the one asked for"
        ]

        tampered = copy.deepcopy(vc)
        tampered["name"] = "Something else entirely"
        bad = await api.post("/credentials/verify", json={"verifiableCredential": tampered})
        assert bad.status_code == 400
        assert any(error.startswith("proof:") for error in bad.json()["errors"]), bad.text

        [row] = await alliance.query(
            "SELECT credential_id FROM credentials WHERE basis = 'vc-api' AND document LIKE $1",
            f"%{vc['id']}%",
        )
        revoke = await api.post(
            f"/credentials/{row['credential_id']}/revoke", json={"reason": "issued_in_error"},
            headers=staff("valdemora"),
        )  # fmt: skip
        assert revoke.status_code == 200, revoke.text
        after = await api.post("/credentials/verify", json={"verifiableCredential": vc})
        assert after.status_code == 400
        assert any(error.startswith("status:") for error in after.json()["errors"]), after.text

        unknown = copy.deepcopy(vc)
        unknown["issuer"]["id"] = "did:web:elsewhere.example"
        unresolved = await api.post("/credentials/verify", json={"verifiableCredential": unknown})
        assert unresolved.status_code == 400
        assert any("proof:" in e for e in unresolved.json()["errors"])

        malformed = await api.post("/credentials/verify", content=b"[1, 2]")
        assert malformed.status_code == 400


async def test_the_vc_api_refuses_to_sign_what_the_data_model_calls_invalid(
    alliance: Alliance,
) -> None:
    async with alliance.api() as api:
        did = (await api.get("/partners/valdemora/did.json")).json()["id"]
        good = _plain_credential(did)
        invalid: dict[str, tuple[dict[str, Any], str]] = {
            "no subject": (
                {k: v for k, v in good.items() if k != "credentialSubject"}, "#credential-subject"
            ),
            "not a date": ({**good, "validFrom": "not-a-date"}, "#validity-period"),
            "ends first": ({**good, "validUntil": "2020-01-01T00:00:00Z"}, "#validity-period"),
            "undefined type": (
                {**good, "@context": [VC_V2], "type": ["VerifiableCredential", "Undefined"]},
                "safe mode",
            ),
        }  # fmt: skip
        for label, (credential, rule) in invalid.items():
            response = await api.post(
                "/credentials/issue", json={"credential": credential}, headers=staff("valdemora")
            )
            assert response.status_code == 400, (label, response.text)
            problem = response.json()
            assert response.headers["content-type"] == "application/problem+json"
            assert rule in problem["type"] + problem["detail"], (label, problem)
    rows = await alliance.query("SELECT count(*) AS n FROM credentials WHERE basis = 'vc-api'")
    assert rows[0]["n"] == 0, "nothing refused is signed or kept"


async def test_the_vc_api_issues_what_the_data_model_allows(alliance: Alliance) -> None:
    async with alliance.api() as api:
        did = (await api.get("/partners/valdemora/did.json")).json()["id"]
        requested_status = {
            "id": "https://status.valdemora.example/1#5",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "suspension",
            "statusListIndex": "5",
            "statusListCredential": "https://status.valdemora.example/1",
        }
        v2 = {
            **_plain_credential(did),
            "name": [
                {"@value": "Open science", "@language": "en"},
                {"@value": "Ciencia abierta", "@language": "es"},
            ],
            "description": [{"@value": "Compartir la investigación", "@language": "es"}],
            "evidence": [{"id": "https://valdemora.example/evidence/1", "type": ["Evidence"]}],
            "termsOfUse": {"type": "TrustFrameworkPolicy"},
            "credentialStatus": requested_status,
        }
        v1 = {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiableCredential"],
            "issuer": did,
            "credentialSubject": {"id": "did:example:learner"},
        }
        for credential in (v2, v1):
            response = await api.post(
                "/credentials/issue", json={"credential": credential}, headers=staff("valdemora")
            )
            assert response.status_code == 201, response.text
            vc = response.json()["verifiableCredential"]
            verified = await api.post("/credentials/verify", json={"verifiableCredential": vc})
            assert "proof" in verified.json()["checks"], verified.text
            only_proof = await api.post(
                "/credentials/verify",
                json={"verifiableCredential": vc, "options": {"checks": ["proof"]}},
            )
            assert only_proof.status_code == 200, only_proof.text
            assert only_proof.json()["checks"] == ["proof", "structure"]
            if credential is v2:
                assert vc["name"] == v2["name"]
                # The requested entry is kept (its list is not ours to read: status fails),
                # and ours is added so the partner can revoke through this service.
                assert vc["credentialStatus"][0] == requested_status
                assert [e["statusPurpose"] for e in vc["credentialStatus"][1:]] == [
                    "revocation", "suspension",
                ]  # fmt: skip
            else:
                assert vc["issuanceDate"]
                assert vc["@context"][-1] == "https://w3id.org/security/data-integrity/v2"
                assert verified.status_code == 200, verified.text
        unknown_check = await api.post(
            "/credentials/verify",
            json={"verifiableCredential": vc, "options": {"checks": ["astrology"]}},
        )
        assert unknown_check.status_code == 400


async def test_a_suspended_vc_api_credential_is_reported_suspended_until_reinstated(
    alliance: Alliance,
) -> None:
    async with alliance.api() as api:
        did = (await api.get("/partners/valdemora/did.json")).json()["id"]
        issued = await api.post(
            "/credentials/issue", json={"credential": _plain_credential(did)},
            headers=staff("valdemora"),
        )  # fmt: skip
        assert issued.status_code == 201, issued.text
        vc = issued.json()["verifiableCredential"]
        assert [e["statusPurpose"] for e in vc["credentialStatus"]] == ["revocation", "suspension"]
        [row] = await alliance.query(
            "SELECT credential_id FROM credentials WHERE document LIKE $1", f"%{vc['id']}%"
        )
        path = f"/credentials/{row['credential_id']}"
        suspended = await api.post(f"{path}/suspend", json={}, headers=staff("valdemora"))
        assert suspended.status_code == 200, suspended.text
        report = await api.post("/credentials/verify", json={"verifiableCredential": vc})
        assert report.status_code == 400
        assert any("is suspended" in e for e in report.json()["errors"]), report.text
        reinstated = await api.post(f"{path}/reinstate", json={}, headers=staff("valdemora"))
        assert reinstated.status_code == 200, reinstated.text
        report = await api.post("/credentials/verify", json={"verifiableCredential": vc})
        assert report.status_code == 200, report.text
        assert "status" in report.json()["checks"]


async def test_a_completed_pathway_stacks_the_components_into_a_signed_clr(
    alliance: Alliance,
) -> None:
    subject, learner_id = learner()
    first = passed_result(alliance.offering, learner_id)
    second = passed_result(alliance.offering, learner_id)
    await alliance.announce("assessment", first)
    await alliance.announce("assessment", second)
    components = await issued_to(alliance, learner_id, 2)
    completed = PathwayCompleted(
        pathway_id=new_id("pth"),
        pathway_version=1,
        owner_partner_id="vallombra",
        learner_id=learner_id,
        title={"en": "Responsible AI", "it": "IA responsabile"},
        component_credential_ids=tuple(c.credential_id for c in components),
        ects_earned=10,
        completed_at=dt.datetime.now(dt.UTC),
    )
    await alliance.announce("recognition", completed, times=2)
    stacked = [c for c in await issued_to(alliance, learner_id, 3) if c.pathway_id]
    assert len(stacked) == 1
    assert set(stacked[0].component_credential_ids) == {c.credential_id for c in components}
    assert stacked[0].awarding_partner_id == "vallombra"

    async with alliance.api() as api:
        clr = (
            await api.get(f"/credentials/{stacked[0].credential_id}", headers=token(subject))
        ).json()
        resolver = await did_resolver(api, OPERATOR)
        assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
        assert verify_credential(clr, resolver).verified
        embedded = clr["credentialSubject"]["verifiableCredential"]
        assert all(verify_credential(c, resolver).verified for c in embedded)
        kinds = {a["associationType"] for a in clr["credentialSubject"]["association"]}
        assert kinds == {"isPartOf", "isChildOf"}
        verified = await api.post("/credentials/verify", json={"verifiableCredential": clr})
        assert verified.json()["errors"] == [], verified.text


async def test_no_response_ever_carries_private_key_material(alliance: Alliance) -> None:
    subject, learner_id = learner()
    await alliance.announce("assessment", passed_result(alliance.offering, learner_id))
    [issued] = await issued_to(alliance, learner_id)
    settings = IssuanceSettings()
    secrets = _private_forms(settings.credential_keys_dir.glob("*.pem"))
    async with alliance.api() as api:
        did = (await api.get("/partners/valdemora/did.json")).json()["id"]
        bodies = [
            *[(await api.get(f"/partners/{p}/did.json")).text
              for p in ("nordhavn", "valdemora", "rheinfeld", "vallombra", "lindeveld")],
            (await api.get(issued.status.status_list_url.removeprefix(alliance.service.url))).text,
            (await api.get("/credentials", headers=token(subject))).text,
            (await api.get(f"/credentials/{issued.credential_id}", headers=token(subject))).text,
            (await api.post("/credentials/issue", json={"credential": _ob_credential(did)},
                            headers=staff("valdemora"))).text,
            (await api.post("/credentials/verify", json={"verifiableCredential": {}})).text,
            (await api.get("/openapi.json")).text,
        ]  # fmt: skip
    log = alliance.service.log_path.read_text(errors="replace")
    for text in [*bodies, log]:
        assert "PRIVATE KEY" not in text
        for secret in secrets:
            assert secret not in text


def _private_forms(paths: Any) -> list[str]:
    """Every usual spelling of each private key (PEM body, raw hex, base64, base58)."""
    forms = []
    for path in paths:
        key = load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
        forms += [
            pem.splitlines()[1],
            raw.hex(),
            base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
            b58encode(raw),
        ]
    return forms


VC_V2 = "https://www.w3.org/ns/credentials/v2"


def _plain_credential(issuer_did: str) -> dict[str, Any]:
    """A VC 2.0 credential with no profile, as the W3C suites send them."""
    return {
        "@context": [VC_V2, "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": issuer_did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "alumniOf": "Example School"},
    }


def _ob_credential(issuer_did: str) -> dict[str, Any]:
    """An unsigned Open Badges 3.0 credential as a partner's system would send it."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": f"urn:uuid:{new_id('x')[2:]}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_did, "type": ["Profile"], "name": "Universidad de Valdemora"},
        "validFrom": now,
        "name": "Open science basics",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityHash": "sha256$" + "0" * 64,
                            "identityType": "identifier", "hashed": True, "salt": "s"}],
            "achievement": {
                "id": "https://valdemora.example.eu/achievements/open-science",
                "type": ["Achievement"],
                "name": "Open science basics",
                "description": "Sharing research openly.",
                "criteria": {"narrative": "Pass the project."},
            },
        },
    }  # fmt: skip


async def test_a_result_that_overtakes_its_offering_waits_for_it(alliance: Alliance) -> None:
    _, learner_id = learner()
    later = offering_published(TEACHER)
    await alliance.announce("assessment", passed_result(later, learner_id))
    await wait_until_caught_up(alliance.bootstrap, alliance.consumer, RESULTS)
    waiting = await alliance.query(
        "SELECT count(*) AS n FROM deferred_events WHERE waiting_for = $1",
        f"offering:{later.offering_id}",
    )
    assert waiting[0]["n"] == 1

    async with PartnerSystem(alliance.bootstrap, demo_signer(TEACHER)) as partner:
        await partner.publish(later)
    [issued] = await issued_to(alliance, learner_id)
    assert issued.offering_id == later.offering_id
