"""The credential verifier: every check, in order, on credentials signed with the library."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.credentials import (
    MicroCredentialData,
    build_did_document,
    build_microcredential,
    build_status_list_credential,
    did_key,
    did_key_verification_method,
    did_web,
    new_status_list,
    set_status,
    sign_credential,
    verification_method_id,
    verify_cli,
)
from shared.credentials.loader import OB_V3P0
from shared.credentials.verifier import (
    CheckName,
    HttpResolver,
    OfflineResolver,
    Outcome,
    ResolutionError,
    TrustedIssuers,
    VerificationReport,
    vc_api_response,
    verify,
)
from shared.registry import AllianceRegistry
from tests.credentials.test_proof import TAMPERING, _set

ISSUING_HOST = "issuance.alliance.example"
ISSUER = did_web(ISSUING_HOST, "partners", "valdemora")
STATUS_URL = f"https://{ISSUING_HOST}/status/1"
CREATED = "2025-06-30T12:00:01Z"
NOW = datetime(2026, 1, 15, tzinfo=UTC)
LATER_CHECKS = [CheckName.PROOF, CheckName.VALIDITY, CheckName.STATUS, CheckName.TRUST]


@dataclass
class Issued:
    """A signed credential, its issuer's DID document and its signed status list."""

    credential: dict[str, Any]
    did_document: dict[str, Any]
    status_list: dict[str, Any]
    key: Ed25519PrivateKey
    index: int

    def resolver(self, **changes: Any) -> OfflineResolver:
        parts = {"did_documents": [self.did_document], "status_lists": [self.status_list]}
        return OfflineResolver(**{**parts, **changes})


def _sign(document: dict[str, Any], key: Ed25519PrivateKey, issuer: str) -> dict[str, Any]:
    method = (
        did_key_verification_method(key.public_key())
        if issuer.startswith("did:key:")
        else verification_method_id(issuer, key.public_key())
    )
    return sign_credential(document, key, method, CREATED)


def _status_list(
    issuer: str, key: Ed25519PrivateKey, revoked: int | None = None, purpose: str = "revocation"
) -> dict[str, Any]:
    bits = new_status_list()
    if revoked is not None:
        set_status(bits, revoked)
    unsigned = build_status_list_credential(STATUS_URL, issuer, CREATED, bits, purpose)
    return _sign(unsigned, key, issuer)


def _issue(data: MicroCredentialData, key: Ed25519PrivateKey, issuer: str = ISSUER) -> Issued:
    data = replace(data, issuer=replace(data.issuer, id=issuer), status_list_credential=STATUS_URL)
    credential = _sign(build_microcredential(data), key, issuer)
    document = build_did_document(issuer, [key.public_key()])
    assert data.status_list_index is not None
    return Issued(credential, document, _status_list(issuer, key), key, data.status_list_index)


@pytest.fixture
def issued(data: MicroCredentialData, issuer_key: Ed25519PrivateKey) -> Issued:
    return _issue(data, issuer_key)


@pytest.fixture(scope="module")
def trust() -> TrustedIssuers:
    return TrustedIssuers(AllianceRegistry.load(), issuing_hosts=[ISSUING_HOST])


async def _verify(
    credential: dict[str, Any], resolver: OfflineResolver, trust: TrustedIssuers
) -> VerificationReport:
    return await verify(credential, resolver, trust=trust, now=NOW)


def _outcomes(report: VerificationReport) -> dict[str, Outcome]:
    return {str(check.name): check.outcome for check in report.checks}


async def test_a_good_credential_passes_every_check_in_order(
    issued: Issued, trust: TrustedIssuers
) -> None:
    report = await _verify(issued.credential, issued.resolver(), trust)
    assert [check.name for check in report.checks] == list(CheckName)
    assert all(check.outcome is Outcome.PASSED for check in report.checks), report.to_dict()
    assert report.verified
    assert report.partner_id == "valdemora"
    assert "Universidad de Valdemora" in report.check(CheckName.TRUST).message
    assert "not revoked" in report.check(CheckName.STATUS).message
    assert vc_api_response(report) == {
        "verified": True,
        "checks": ["structure", "proof", "validity", "status", "trust"],
        "warnings": [],
        "errors": [],
    }
    assert report.to_dict()["partner"] == {
        "id": "valdemora",
        "legalName": "Universidad de Valdemora",
    }


# Every change in test_proof's list still leaves a well-formed credential, so only the
# signature can notice; removing a context is caught earlier, by the structure check.
SIGNED_FIELD_CHANGES = [label for label in TAMPERING if label != "context removed"]


@pytest.mark.parametrize("change", SIGNED_FIELD_CHANGES)
async def test_a_single_changed_field_fails_the_proof(
    change: str, issued: Issued, trust: TrustedIssuers
) -> None:
    tampered = copy.deepcopy(issued.credential)
    TAMPERING[change](tampered)
    report = await _verify(tampered, issued.resolver(), trust)
    proof = report.check(CheckName.PROOF)
    assert proof.outcome is Outcome.FAILED
    assert "signature does not match" in proof.message
    assert report.check(CheckName.STRUCTURE).passed
    assert not report.verified
    assert any(error.startswith("proof:") for error in vc_api_response(report)["errors"])


def _without_assertion_method(issued: Issued) -> OfflineResolver:
    document = copy.deepcopy(issued.did_document)
    document["assertionMethod"] = []
    return issued.resolver(did_documents=[document])


class _Impostor(OfflineResolver):
    """Answers for any DID with a document that names another."""

    async def did_document(self, did: str) -> dict[str, Any]:
        return {**await super().did_document(did), "id": "did:web:elsewhere"}


def _impostor_document(issued: Issued) -> OfflineResolver:
    return _Impostor([issued.did_document], [issued.status_list])


def _revoked(issued: Issued) -> OfflineResolver:
    return issued.resolver(status_lists=[_status_list(ISSUER, issued.key, revoked=issued.index)])


def _forged_list(issued: Issued) -> OfflineResolver:
    """The revoked list with its bit cleared by someone without the issuer's key."""
    revoked = _status_list(ISSUER, issued.key, revoked=issued.index)
    revoked["credentialSubject"]["encodedList"] = issued.status_list["credentialSubject"][
        "encodedList"
    ]
    return issued.resolver(status_lists=[revoked])


def _foreign_list(issued: Issued) -> OfflineResolver:
    intruder = Ed25519PrivateKey.generate()
    return issued.resolver(status_lists=[_status_list(did_key(intruder.public_key()), intruder)])


# What the resolver answers -> the check that must fail and the words saying why.
FAILURES: dict[str, tuple[Callable[[Issued], OfflineResolver], CheckName, str]] = {
    "key not an assertion method": (_without_assertion_method, CheckName.PROOF, "assertion"),
    "issuer DID unresolvable": (
        lambda issued: issued.resolver(did_documents=[]),
        CheckName.PROOF,
        "no DID document given",
    ),
    "document of another DID": (_impostor_document, CheckName.PROOF, "names did:web:elsewhere"),
    "revoked": (_revoked, CheckName.STATUS, "the credential is revoked (index"),
    "status list forged": (_forged_list, CheckName.STATUS, "proof does not hold"),
    "status list of another issuer": (_foreign_list, CheckName.STATUS, "not by the credential's"),
    "status list missing": (
        lambda issued: issued.resolver(status_lists=[]),
        CheckName.STATUS,
        "cannot read the status list",
    ),
}


@pytest.mark.parametrize("case", list(FAILURES))
async def test_a_failing_check_says_why(case: str, issued: Issued, trust: TrustedIssuers) -> None:
    resolver, name, words = FAILURES[case]
    report = await _verify(issued.credential, resolver(issued), trust)
    assert report.check(name).outcome is Outcome.FAILED
    assert words in report.check(name).message
    assert report.check(CheckName.STRUCTURE).passed
    assert report.check(CheckName.TRUST).passed
    assert not report.verified


async def test_only_the_credentials_own_bit_counts(issued: Issued, trust: TrustedIssuers) -> None:
    other = _status_list(ISSUER, issued.key, revoked=(issued.index + 1) % 131072)
    report = await _verify(issued.credential, issued.resolver(status_lists=[other]), trust)
    assert report.check(CheckName.STATUS).passed


async def test_validity_dates(
    data: MicroCredentialData, issuer_key: Ed25519PrivateKey, trust: TrustedIssuers
) -> None:
    expired = _issue(replace(data, valid_until="2025-12-31T23:59:59Z"), issuer_key)
    report = await _verify(expired.credential, expired.resolver(), trust)
    validity = report.check(CheckName.VALIDITY)
    assert validity.outcome is Outcome.FAILED
    assert "expired on 2025-12-31T23:59:59Z" in validity.message
    assert report.check(CheckName.PROOF).passed  # the signature itself still holds
    assert not report.verified

    current = _issue(replace(data, valid_until="2030-01-01T00:00:00Z"), issuer_key)
    report = await _verify(current.credential, current.resolver(), trust)
    assert report.check(CheckName.VALIDITY).passed
    assert "until 2030-01-01T00:00:00Z" in report.check(CheckName.VALIDITY).message

    early = await verify(
        current.credential, current.resolver(), trust=trust, now=datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert early.check(CheckName.VALIDITY).outcome is Outcome.FAILED
    assert "not valid before" in early.check(CheckName.VALIDITY).message


async def test_a_suspended_credential_fails_the_status_check(
    issued: Issued, trust: TrustedIssuers
) -> None:
    credential = copy.deepcopy(issued.credential)
    del credential["proof"]
    credential["credentialStatus"]["statusPurpose"] = "suspension"
    credential = _sign(credential, issued.key, ISSUER)
    suspended = _status_list(ISSUER, issued.key, revoked=issued.index, purpose="suspension")
    report = await _verify(credential, issued.resolver(status_lists=[suspended]), trust)
    assert report.check(CheckName.PROOF).passed
    status = report.check(CheckName.STATUS)
    assert status.outcome is Outcome.FAILED
    assert "suspended" in status.message
    # A revocation list cannot answer for a suspension entry.
    report = await _verify(credential, issued.resolver(), trust)
    assert report.check(CheckName.STATUS).outcome is Outcome.FAILED
    assert "not a suspension list" in report.check(CheckName.STATUS).message


async def test_an_issuer_outside_the_registry_fails_trust_only(
    data: MicroCredentialData, issuer_key: Ed25519PrivateKey, trust: TrustedIssuers
) -> None:
    outsider = _issue(data, issuer_key, did_web("diploma-mill.example", "partners", "valdemora"))
    report = await _verify(outsider.credential, outsider.resolver(), trust)
    assert _outcomes(report) == {
        "structure": Outcome.PASSED,
        "proof": Outcome.PASSED,
        "validity": Outcome.PASSED,
        "status": Outcome.PASSED,
        "trust": Outcome.FAILED,
    }
    assert not report.verified
    assert report.partner_id is None
    response = vc_api_response(report)
    assert response["errors"] == []
    assert response["warnings"] == [f"trust: {report.check(CheckName.TRUST).message}"]


async def test_malformed_structure_skips_the_other_checks(
    issued: Issued, trust: TrustedIssuers
) -> None:
    malformed: dict[str, Callable[[dict[str, Any]], None]] = {
        "@context": lambda c: c["@context"].remove(OB_V3P0),
        "type": _set(("type",), ["OpenBadgeCredential"]),
        "validFrom": _set(("validFrom",), "30 June 2025"),
        "subject": _set(("credentialSubject",), [{"type": "AchievementSubject"}]),
        "achievement": lambda c: c["credentialSubject"]["achievement"].pop("criteria"),
        "learner": lambda c: c["credentialSubject"].pop("identifier"),
        "issuer": _set(("issuer",), {"name": "No id"}),
        "status index": _set(("credentialStatus", "statusListIndex"), 7),
    }
    for label, change in malformed.items():
        credential = copy.deepcopy(issued.credential)
        change(credential)
        report = await _verify(credential, issued.resolver(), trust)
        assert report.check(CheckName.STRUCTURE).outcome is Outcome.FAILED, label
        assert [report.check(name).outcome for name in LATER_CHECKS] == [Outcome.SKIPPED] * 4
        assert not report.verified
    report = await verify([], issued.resolver(), trust=trust)  # type: ignore[arg-type]
    assert report.check(CheckName.STRUCTURE).outcome is Outcome.FAILED


async def test_a_did_key_issuer_resolves_offline(
    data: MicroCredentialData, issuer_key: Ed25519PrivateKey, trust: TrustedIssuers
) -> None:
    issuer = did_key(issuer_key.public_key())
    issued = _issue(data, issuer_key, issuer)
    report = await _verify(issued.credential, OfflineResolver([], [issued.status_list]), trust)
    assert report.check(CheckName.PROOF).passed, report.to_dict()
    assert report.check(CheckName.STATUS).passed, report.to_dict()
    # A did:key names no partner, so the alliance cannot vouch for it.
    assert report.check(CheckName.TRUST).outcome is Outcome.FAILED


def test_issuer_dids_map_to_partners_by_documented_rules() -> None:
    registry = AllianceRegistry.load()
    trust = TrustedIssuers(registry, issuing_hosts=["127.0.0.1:8004", "issuer.example"])

    def partner(did: str) -> str | None:
        found = trust.partner_for(did)
        return found.id if found else None

    # Issued by mandate on a configured issuing host (with port: that port only).
    assert partner(did_web("127.0.0.1:8004", "partners", "rheinfeld")) == "rheinfeld"
    assert partner(did_web("127.0.0.1:9999", "partners", "rheinfeld")) is None
    assert partner(did_web("issuer.example", "partners", "lindeveld")) == "lindeveld"
    assert partner(did_web("issuer.example", "partners", "atlantis")) is None
    # nordhavn operates issuance, so its domain is an issuing host too.
    assert partner(did_web("issuance.nordhavn.example.eu", "partners", "vallombra")) == "vallombra"
    # A partner's own domain (or a subdomain) is that partner.
    assert partner("did:web:valdemora.example.eu") == "valdemora"
    assert partner("did:web:credentials.valdemora.example.eu:badges") == "valdemora"
    # Any other host is not enough, nor a look-alike domain, nor did:key.
    assert partner(did_web("evil.example", "partners", "nordhavn")) is None
    assert partner("did:web:notvaldemora.example.eu") is None
    assert partner("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK") is None


def _http_client(documents: dict[str, Any]) -> httpx.AsyncClient:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if str(request.url) in documents:
            return httpx.Response(200, json=documents[str(request.url)])
        return httpx.Response(404)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    client.seen = seen  # type: ignore[attr-defined]
    return client


async def test_http_resolver_follows_did_web(issuer_key: Ed25519PrivateKey) -> None:
    remote = did_web("issuer.example", "partners", "nordhavn")
    local = did_web("127.0.0.1:8004", "partners", "nordhavn")
    remote_document = build_did_document(remote, [issuer_key.public_key()])
    local_document = build_did_document(local, [issuer_key.public_key()])
    status_list = _status_list(remote, issuer_key)
    client = _http_client(
        {
            "https://issuer.example/partners/nordhavn/did.json": remote_document,
            "http://127.0.0.1:8004/partners/nordhavn/did.json": local_document,
            STATUS_URL: status_list,
        }
    )
    async with client:
        resolver = HttpResolver(client)
        assert await resolver.did_document(remote) == remote_document
        assert await resolver.did_document(local) == local_document  # http on loopback only
        assert await resolver.status_list(STATUS_URL) == status_list
        key_did = did_key(issuer_key.public_key())
        assert (await resolver.did_document(key_did))["id"] == key_did
        with pytest.raises(ResolutionError, match="answered 404"):
            await resolver.did_document("did:web:issuer.example")
        with pytest.raises(ResolutionError, match="not https"):
            await resolver.status_list("http://issuer.example/status/1")
        with pytest.raises(ResolutionError, match="only did:web and did:key"):
            await resolver.did_document("did:example:123")
    assert client.seen == [  # type: ignore[attr-defined]
        "https://issuer.example/partners/nordhavn/did.json",
        "http://127.0.0.1:8004/partners/nordhavn/did.json",
        STATUS_URL,
        "https://issuer.example/.well-known/did.json",
    ]


async def test_offline_resolver_falls_back(issued: Issued) -> None:
    resolver = OfflineResolver(fallback=issued.resolver())
    assert await resolver.did_document(ISSUER) == issued.did_document
    assert await resolver.status_list(STATUS_URL) == issued.status_list
    with pytest.raises(ResolutionError, match="no status list credential given"):
        await OfflineResolver().status_list(STATUS_URL)


def _write(folder: Path, name: str, document: Any) -> str:
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def test_cli_prints_each_check_and_exits_by_the_verdict(
    issued: Issued, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    credential = _write(tmp_path, "credential.json", issued.credential)
    files = [
        "--did-document",
        _write(tmp_path, "did.json", issued.did_document),
        "--status-list",
        _write(tmp_path, "status.json", issued.status_list),
        "--issuing-host",
        ISSUING_HOST,
    ]
    assert verify_cli.main([credential, *files]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[2:7]] == ["✓"] * 5
    assert [line.split()[1] for line in lines[2:7]] == [str(name) for name in CheckName]
    assert lines[-1] == "VERIFIED"

    # Without the DID document (offline) the proof and the status list's proof fail.
    assert verify_cli.main([credential, *files[2:], "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["verified"] is False
    assert [c["outcome"] for c in report["checks"]] == [
        "passed",
        "failed",
        "passed",
        "failed",
        "passed",
    ]
    assert report["partner"] == {"id": "valdemora", "legalName": "Universidad de Valdemora"}

    broken = copy.deepcopy(issued.credential)
    broken["type"] = ["OpenBadgeCredential"]
    assert verify_cli.main([_write(tmp_path, "broken.json", broken), *files]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].startswith("✗ structure")
    assert all(line.startswith(verify_cli.MARKS[Outcome.SKIPPED]) for line in lines[3:7])
    assert lines[-1] == "NOT VERIFIED"

    assert verify_cli.main([str(tmp_path / "missing.json")]) == 2
    assert "cannot read the input" in capsys.readouterr().err


async def test_a_plain_vc_with_a_did_key_issuer_verifies_offline() -> None:
    # The shape the W3C VC API verifier suites send: VC 2.0 only, a did:key issuer.
    key = Ed25519PrivateKey.generate()
    issuer = did_key(key.public_key())
    plain = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2",
        ],
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    }
    signed = sign_credential(
        plain, key, did_key_verification_method(key.public_key()), "2026-01-01T00:00:00Z"
    )
    report = await verify(signed, OfflineResolver())
    assert report.check("structure").outcome is Outcome.PASSED
    assert report.check("proof").outcome is Outcome.PASSED, report.check("proof").message
    assert report.check("trust").outcome is Outcome.FAILED  # a did:key is no alliance partner
    assert vc_api_response(report)["errors"] == []

    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    assert (await verify(tampered, OfflineResolver())).check("proof").outcome is Outcome.FAILED
