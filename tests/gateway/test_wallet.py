"""The wallet routes over a stand-in issuance (`httpx.MockTransport`): real signed
credentials, DID documents and status lists, the gateway's own database on SQLite."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from services.gateway.bootstrap import bootstrap
from services.gateway.presentation import essentials
from services.gateway.settings import GatewaySettings
from services.gateway.shares import ShareState, new_share, shared_document, state_of, withdraw
from shared.credentials import KeyResolver, verify_credential
from shared.db.migrate import upgrade
from shared.problems import Problem
from tests.catalogue.helpers import bearer, staff_of
from tests.gateway.fake_issuance import BASE, KEYS, TITLE, FakeIssuance

CHECKS = ["structure", "proof", "validity", "status", "trust"]


async def shared_by(gateway: httpx.AsyncClient, subject: str, credential_id: str) -> str:
    made = await gateway.post(f"/me/credentials/{credential_id}/share", headers=bearer(subject))
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


async def test_the_wallet_lists_and_hands_over_the_credential_byte_for_byte(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = issuance.issue("ada")
    issuance.issue("grace")
    ada = bearer("ada")
    mine = await gateway.get("/me/credentials", headers=ada)
    assert mine.status_code == 200, mine.text
    [item] = mine.json()["items"]
    assert (item["credential_id"], item["status"]) == (credential_id, "valid")
    assert "url" not in item  # issuance's own address means nothing to the learner

    one = await gateway.get(f"/me/credentials/{credential_id}", headers=ada)
    assert one.status_code == 200, one.text
    assert one.headers["content-type"] == "application/ld+json"
    assert one.content == issuance.documents[credential_id][1].encode()
    resolver = KeyResolver([KEYS.did_document("nordhavn")])
    assert verify_credential(json.loads(one.content), resolver).verified
    assert issuance.seen[-1].headers["authorization"] == ada["Authorization"]

    other = await gateway.get(f"/me/credentials/{credential_id}", headers=bearer("grace"))
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    assert (await gateway.get("/me/credentials", headers=staff_of("rheinfeld"))).status_code == 403


async def test_a_share_link_serves_the_credential_a_page_a_pdf_and_its_verification(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = issuance.issue("ada")
    made = await gateway.post(f"/me/credentials/{credential_id}/share", headers=bearer("ada"))
    assert made.status_code == 201, made.text
    link = made.json()
    token = link["token"]
    assert len(token) == 43  # 256 random bits, URL-safe base64
    assert link["url"] == f"https://wallet.example/shared/{token}"
    assert link["status"] == "active"

    document = await gateway.get(f"/shared/{token}")  # no token needed
    assert document.status_code == 200
    assert document.content == issuance.documents[credential_id][1].encode()
    assert document.headers["cache-control"] == "no-store"

    page = await gateway.get(f"/shared/{token}/page")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]
    html = page.text
    assert f"<h1>{TITLE}</h1>" in html
    assert "<svg" in html
    assert "Status: valid" in html
    for fact in ("Technische Hochschule Rheinfeld (Germany, DE)", "5 ECTS", "Project work",
                 "1,7", "2026-06-30", "Size a converter for a wind turbine."):  # fmt: skip
        assert fact in html, fact
    # Text from the credential is escaped, never markup.
    assert "&lt;in practice&gt;" in html
    assert "<in practice>" not in html
    assert f'href="https://wallet.example/verify/{token}"' in html

    pdf = await gateway.get(f"/shared/{token}/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert b"/Subtype /Image" in pdf.content  # the QR code

    verified = await gateway.get(f"/verify/{token}")
    assert verified.status_code == 200, verified.text
    report = verified.json()
    assert [c["check"] for c in report["checks"]] == CHECKS
    assert all(c["outcome"] == "passed" for c in report["checks"]), report
    assert report["verified"] is True
    assert report["partner"]["id"] == "nordhavn"
    readable = await gateway.get(f"/verify/{token}", headers={"accept": "text/html"})
    assert readable.headers["content-type"].startswith("text/html")
    assert "<td>proof</td><td>passed</td>" in readable.text


async def test_a_withdrawn_link_is_gone_and_only_its_owner_may_withdraw_it(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = issuance.issue("ada")
    token = await shared_by(gateway, "ada", credential_id)
    assert (await gateway.delete(f"/me/shares/{token}", headers=bearer("grace"))).status_code == 404
    # Another learner cannot share what they do not hold: issuance says so.
    refused = await gateway.post(f"/me/credentials/{credential_id}/share", headers=bearer("grace"))
    assert refused.status_code == 404, refused.text

    withdrawn = await gateway.delete(f"/me/shares/{token}", headers=bearer("ada"))
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    for path in (f"/shared/{token}", f"/shared/{token}/page", f"/shared/{token}/pdf",
                 f"/verify/{token}"):  # fmt: skip
        gone = await gateway.get(path)
        assert gone.status_code == 410, path
        assert gone.headers["content-type"] == "application/problem+json"
    [listed] = (await gateway.get("/me/shares", headers=bearer("ada"))).json()
    assert (listed["token"], listed["status"], listed["title"]) == (token, "withdrawn", TITLE)
    assert (await gateway.get("/me/shares", headers=bearer("grace"))).json() == []
    unknown = "A" * 43
    assert (await gateway.get(f"/shared/{unknown}")).status_code == 404


async def test_verification_reports_a_revoked_credential_check_by_check(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = issuance.issue("ada")
    token = await shared_by(gateway, "ada", credential_id)
    issuance.revoked.add(issuance.index_of(credential_id))
    report = (await gateway.get(f"/verify/{token}")).json()
    outcomes = {c["check"]: c["outcome"] for c in report["checks"]}
    assert outcomes == {"structure": "passed", "proof": "passed", "validity": "passed",
                        "status": "failed", "trust": "passed"}  # fmt: skip
    assert report["verified"] is False
    page = (await gateway.get(f"/shared/{token}/page")).text
    assert "Status: revoked" in page


async def test_a_suspended_badge_is_reported_suspended_though_no_status_list_says_so(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = issuance.issue("ada")
    token = await shared_by(gateway, "ada", credential_id)
    issuance.suspended.add(credential_id)
    report = (await gateway.get(f"/verify/{token}")).json()
    status = report["checks"][3]
    assert (status["check"], status["outcome"]) == ("status", "failed"), report
    assert status["message"].startswith("the credential is suspended")
    assert report["verified"] is False
    assert "Status: suspended" in (await gateway.get(f"/shared/{token}/page")).text
    # Issuance was shown the credential as issued, and no one's token.
    asked = next(r for r in reversed(issuance.seen) if r.url.path.endswith("/current-status"))
    assert json.loads(asked.content) == json.loads(issuance.documents[credential_id][1])
    assert "authorization" not in asked.headers

    issuance.suspended.clear()
    assert (await gateway.get(f"/verify/{token}")).json()["verified"] is True
    assert "Status: valid" in (await gateway.get(f"/shared/{token}/page")).text


async def test_a_credential_issuance_does_not_hold_keeps_what_the_status_lists_say(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = issuance.issue("ada")
    credential = json.loads(issuance.documents.pop(credential_id)[1])
    report = (await gateway.post("/verify", json=credential)).json()
    assert report["verified"] is True, report
    assert issuance.seen[-1].url.path == f"/credentials/{credential_id}/current-status"


async def test_issuance_unreachable_for_the_status_fails_the_status_check(
    issuance: FakeIssuance, tmp_path: Path
) -> None:
    credential_id = issuance.issue("ada")

    def no_status(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/current-status"):
            raise httpx.ConnectError("refused", request=request)
        return issuance.handle(request)

    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    await asyncio.to_thread(upgrade, "gateway", url)
    app = bootstrap(GatewaySettings(database_url=url), httpx.MockTransport(no_status))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as gateway:
        credential = json.loads(issuance.documents[credential_id][1])
        report = (await gateway.post("/verify", json=credential)).json()
    status = report["checks"][3]
    assert (status["outcome"], report["verified"]) == ("failed", False), report
    assert "cannot read the credential's status" in status["message"]


async def test_anyone_can_verify_a_credential_and_sees_which_check_fails(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential = json.loads(issuance.documents[issuance.issue("ada")][1])
    passed = await gateway.post("/verify", json=credential)
    assert passed.status_code == 200
    assert passed.json()["verified"] is True
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["creditsEarned"] = 60
    report = (await gateway.post("/verify", json=tampered)).json()
    assert [c["outcome"] for c in report["checks"]][:2] == ["passed", "failed"]
    assert (await gateway.post("/verify", content=b"not json")).status_code == 400
    malformed = (await gateway.post("/verify", json=[1, 2])).json()
    assert [c["outcome"] for c in malformed["checks"]] == ["failed"] + ["skipped"] * 4


async def test_documents_are_read_only_where_issuance_publishes_them(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    elsewhere = "http://169.254.169.254/status/nordhavn/revocation"
    credential_id = issuance.issue("ada", status_list=elsewhere)
    token = await shared_by(gateway, "ada", credential_id)
    report = (await gateway.get(f"/verify/{token}")).json()
    status = report["checks"][3]
    assert status["outcome"] == "failed"
    assert "not published by the alliance's issuance service" in status["message"]
    assert all(r.url.host == "127.0.0.1" for r in issuance.seen)
    assert BASE.endswith(str(issuance.seen[-1].url.port))


def test_a_link_expires_and_a_withdrawn_one_keeps_no_copy() -> None:
    now = datetime(2026, 7, 1, tzinfo=UTC)
    share = new_share("cred-0001", "lrn-1", "T", "{}", now, expires_in_days=2)
    assert share.expires_at == now + timedelta(days=2)
    assert state_of(share, now + timedelta(days=1)) is ShareState.ACTIVE
    assert state_of(share, now + timedelta(days=2)) is ShareState.EXPIRED
    with pytest.raises(Problem) as expired:
        shared_document(share, now + timedelta(days=3))
    assert expired.value.status == 410
    # SQLite hands timestamps back without their zone.
    share.expires_at = share.expires_at.replace(tzinfo=None)
    assert state_of(share, now) is ShareState.ACTIVE
    withdraw(share, now)
    assert (state_of(share, now), share.document) == (ShareState.WITHDRAWN, None)
    assert new_share("c", "l", "t", "{}", now).token != share.token


def test_the_essentials_of_a_stacked_credential_list_its_components() -> None:
    fake = FakeIssuance()
    component = json.loads(fake.documents[fake.issue("ada")][1])
    clr = {
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": "Sustainable Energy Systems",
        "validFrom": "2026-09-01T00:00:00Z",
        "issuer": component["issuer"],
        "credentialSubject": {
            "type": ["ClrSubject"],
            "verifiableCredential": [component],
            "achievement": [{"name": "Sustainable Energy Systems", "creditsAvailable": 15,
                             "creator": component["issuer"]}],
        },
    }  # fmt: skip
    facts = essentials(clr)
    assert facts.title == "Sustainable Energy Systems"
    assert ("Workload", "15 ECTS") in facts.rows()
    assert ("Awarding body", "Nordhavn University of Technology (Denmark, DK)") in facts.rows()
    [part] = facts.components
    assert (part.title, part.ects, part.eqf_level) == (TITLE, "5", "6")
    assert essentials({}).title == "Credential"
