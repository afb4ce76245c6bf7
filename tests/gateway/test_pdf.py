"""The share link's PDF: in the viewer's language, carrying the signed credential as an
attached file, so that the PDF itself verifies at the gateway and with the command line."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader, PdfWriter

from shared.credentials import LearningOutcome, verify_cli
from shared.credentials.pdf import ATTACHMENT, credential_in_pdf
from tests.gateway.fake_issuance import BASE, KEYS, STATUS_LIST, FakeIssuance
from tests.gateway.pages_support import (
    NAME,
    OUTCOME,
    OUTCOME_DE,
    TITLE_DE,
    hold,
    multilingual,
    share,
)

CHECKS = ["structure", "proof", "validity", "status", "trust"]


def _with_attachment(pdf: bytes, attachment: bytes) -> bytes:
    """The same printed pages, another file attached under the credential's name."""
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        writer.add_page(page)
    writer.add_attachment(ATTACHMENT, attachment)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


async def test_the_pdf_carries_the_credential_as_issued_and_verifies_itself(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = hold(issuance, "ada", multilingual("ada", 301))
    token = await share(gateway, "ada", credential_id, show_name=NAME)
    answer = await gateway.get(f"/shared/{token}/pdf")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    pdf = answer.content
    [attached] = PdfReader(io.BytesIO(pdf)).attachments[ATTACHMENT]
    assert attached == issuance.documents[credential_id][1].encode()
    text = _text(pdf)
    for fact in ("Status: valid", "Learning outcomes", OUTCOME, "Grading scheme de-1-5",
                 f"{NAME} (matches the credential's hashed identity)",
                 "This PDF carries the signed credential"):  # fmt: skip
        assert fact in text, fact

    verified = await gateway.post(
        "/verify", content=pdf, headers={"content-type": "application/pdf"}
    )
    assert verified.status_code == 200, verified.text
    report = verified.json()
    assert [c["check"] for c in report["checks"]] == CHECKS
    assert report["verified"] is True, report
    assert report["credentialId"] == json.loads(attached)["id"]


async def test_a_pdf_with_a_tampered_credential_fails_verification(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = hold(issuance, "ada", multilingual("ada", 302))
    token = await share(gateway, "ada", credential_id)
    pdf = (await gateway.get(f"/shared/{token}/pdf")).content
    credential = credential_in_pdf(pdf)
    credential["credentialSubject"]["creditsEarned"] = 60
    tampered = _with_attachment(pdf, json.dumps(credential).encode())
    report = (await gateway.post("/verify", content=tampered)).json()
    assert report["verified"] is False
    assert [c["outcome"] for c in report["checks"]][:2] == ["passed", "failed"]

    # A PDF carrying no credential, or an unreadable one, is refused as input.
    for broken in (_with_attachment(pdf, b"not json"), b"%PDF-1.7 nothing else"):
        refused = await gateway.post("/verify", content=broken)
        assert refused.status_code == 400, refused.text
    doubled = PdfWriter(clone_from=io.BytesIO(pdf))
    doubled.add_attachment(ATTACHMENT, b"{}")
    out = io.BytesIO()
    doubled.write(out)
    assert (await gateway.post("/verify", content=out.getvalue())).status_code == 400


async def test_the_pdf_speaks_the_viewers_language(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    token = await share(gateway, "ada", hold(issuance, "ada", multilingual("ada", 303)))
    answer = await gateway.get(f"/shared/{token}/pdf", headers={"accept-language": "de"})
    assert answer.headers["content-language"] == "de"
    text = _text(answer.content)
    for fact in (TITLE_DE, "Status: gültig", "Ausstellungsdatum 2026-06-30", "Lernergebnisse",
                 "Der Nachweis nennt dies nur auf Englisch"):  # fmt: skip
        assert fact in text, fact
    for english in ("Date of issue", "Awarding body", "Learning outcomes", "Status: valid"):
        assert english not in text, english


async def test_the_pdf_shows_each_outcome_in_the_viewers_language_where_given(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    other = "Simulate a grid-tied inverter."
    outcomes = [LearningOutcome(OUTCOME, translations={"de": OUTCOME_DE}), LearningOutcome(other)]
    document = multilingual("ada", 305, outcomes=outcomes)
    token = await share(gateway, "ada", hold(issuance, "ada", document))
    text = _text((await gateway.get(f"/shared/{token}/pdf", params={"lang": "de"})).content)
    assert f"Lernergebnisse - {OUTCOME_DE} - {other} (Der Nachweis nennt dies nur auf" in text
    assert OUTCOME not in text


async def test_the_command_line_verifies_a_pdf(
    gateway: httpx.AsyncClient,
    issuance: FakeIssuance,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = await share(gateway, "ada", hold(issuance, "ada", multilingual("ada", 304)))
    pdf = (await gateway.get(f"/shared/{token}/pdf")).content
    did = tmp_path / "did.json"
    did.write_text(json.dumps(KEYS.did_document("nordhavn")))
    status = tmp_path / "status.json"
    status.write_bytes(issuance.handle(httpx.Request("GET", STATUS_LIST)).content)
    given = ["--did-document", str(did), "--status-list", str(status),
             "--issuing-host", BASE.removeprefix("http://")]  # fmt: skip
    path = tmp_path / "credential.pdf"
    path.write_bytes(pdf)
    assert await asyncio.to_thread(verify_cli.main, [str(path), *given]) == 0, (
        capsys.readouterr().out
    )
    assert capsys.readouterr().out.splitlines()[-1] == "VERIFIED"

    credential = credential_in_pdf(pdf)
    credential["validFrom"] = "2020-01-01T00:00:00Z"
    path.write_bytes(_with_attachment(pdf, json.dumps(credential).encode()))
    assert await asyncio.to_thread(verify_cli.main, [str(path), *given]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "NOT VERIFIED"

    path.write_bytes(_with_attachment(pdf, b"[1"))
    assert await asyncio.to_thread(verify_cli.main, [str(path), *given]) == 2
    assert "not JSON" in capsys.readouterr().err
