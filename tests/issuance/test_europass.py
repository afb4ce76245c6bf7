"""Europass seals: the ELM export sealed with JAdES by the credential's issuer, verifying with
the certificate it carries (`x5c`) and failing once anything sealed is changed; the partners'
seal keys and self-signed certificates as `python -m shared.keygen --seal` makes them."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import NameOID

from services.issuance.domain import Credential
from services.issuance.europass import SEALS_FOLDER, PartnerSeals
from shared.credentials.elm import to_elm
from shared.credentials.jades import SealInvalid, seal, verify_seal
from shared.keygen import generate_seal
from shared.problems import Problem
from shared.registry import AllianceRegistry, decode_b64url
from shared.settings import DEVELOPMENT_SECRETS
from tests.credentials.test_elm import _data, _issued

# A seal is made while its certificate is valid: the certificates here are made now.
SIGNED_AT = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).replace(microsecond=0)


@pytest.fixture
def sealer(tmp_path: Path) -> tuple[EllipticCurvePrivateKey, x509.Certificate]:
    certificate = generate_seal(tmp_path / "nordhavn.pem", "Nordhavn University", "DK")
    key = load_pem_private_key((tmp_path / "nordhavn.pem").read_bytes(), password=None)
    assert isinstance(key, EllipticCurvePrivateKey)
    return key, x509.load_pem_x509_certificate(certificate.read_bytes())


def _header(sealed: dict[str, Any]) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(decode_b64url(sealed["signatures"][0]["protected"]))
    return header


def test_a_seal_verifies_with_the_certificate_it_carries(
    sealer: tuple[EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    key, certificate = sealer
    document = {"type": ["VerifiableCredential"], "name": {"da": "Kursus i dataetik"}}
    sealed = seal(document, key, certificate, SIGNED_AT)
    header = _header(sealed)
    assert header["alg"] == "ES256"
    assert header["sigT"] == SIGNED_AT.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert set(header["crit"]) == {"sigT", "b64"}
    [carried] = header["x5c"]
    assert x509.load_der_x509_certificate(base64.b64decode(carried)) == certificate
    # The payload is left readable, as Europass's sealed credentials are.
    assert json.loads(sealed["payload"]) == document

    verified = verify_seal(json.loads(json.dumps(sealed)))
    assert (verified.document, verified.certificate, verified.signed_at) == (
        document,
        certificate,
        SIGNED_AT,
    )


def test_a_changed_payload_or_header_fails(
    sealer: tuple[EllipticCurvePrivateKey, x509.Certificate], tmp_path: Path
) -> None:
    key, certificate = sealer
    sealed = seal({"name": {"en": "Data ethics"}, "credit": 5}, key, certificate, SIGNED_AT)
    verify_seal(sealed)

    tampered = copy.deepcopy(sealed)
    tampered["payload"] = tampered["payload"].replace('"credit":5', '"credit":6')
    assert tampered["payload"] != sealed["payload"]
    with pytest.raises(SealInvalid, match="signature"):
        verify_seal(tampered)

    # Another certificate (with its own reference) in the header breaks the signature too.
    other = x509.load_pem_x509_certificate(
        generate_seal(tmp_path / "other.pem", "Someone Else", "DE").read_bytes()
    )
    forged = seal({"name": {"en": "Data ethics"}, "credit": 5}, key, other, SIGNED_AT)
    with pytest.raises(SealInvalid, match="signature"):
        verify_seal(forged)
    swapped = {**sealed, "signatures": [{**sealed["signatures"][0]}]}
    swapped["signatures"][0]["protected"] = forged["signatures"][0]["protected"]
    with pytest.raises(SealInvalid, match="signature"):
        verify_seal(swapped)

    with pytest.raises(SealInvalid, match="certificate was not valid"):
        verify_seal(seal({"a": 1}, key, certificate, SIGNED_AT + dt.timedelta(days=4000)))
    with pytest.raises(SealInvalid):
        verify_seal({"payload": sealed["payload"], "signatures": []})


def test_each_partner_has_a_self_signed_seal_naming_it() -> None:
    registry = AllianceRegistry.load()
    folder = DEVELOPMENT_SECRETS / "credentials" / SEALS_FOLDER
    for partner in registry.partners.values():
        certificate = x509.load_pem_x509_certificate((folder / f"{partner.id}.crt").read_bytes())
        organisation = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        country = certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
        assert [organisation[0].value, country[0].value] == [partner.legal_name, partner.country]
        assert certificate.issuer == certificate.subject  # self-signed: a local alliance only
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        assert (usage.digital_signature, usage.content_commitment) == (True, True)


def _credential(document: dict[str, Any], **changes: Any) -> Credential:
    credential = Credential(
        credential_id="cred-0001-elm",
        basis="result",
        issuer_partner_id="nordhavn",
        awarding_partner_id="rheinfeld",
        status_list_index=42,
        document=json.dumps(document),
        issued_at=SIGNED_AT,
        learner_id="learner-1",
    )
    return replace(credential, **changes)


def test_issuance_seals_the_export_with_the_issuers_seal() -> None:
    issued = _issued(_data(), Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    seals = PartnerSeals.load(DEVELOPMENT_SECRETS / "credentials")
    verified = verify_seal(seals.sealed_export(_credential(issued)))
    assert verified.document == to_elm(issued)
    organisation = verified.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert organisation[0].value == "Nordhavn University of Technology"
    assert abs(verified.signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)

    # A revoked or suspended credential is not exported: the export carries no status.
    for state in ({"revoked_at": SIGNED_AT}, {"suspended_at": SIGNED_AT}):
        with pytest.raises(Problem) as refused:
            seals.sealed_export(_credential(issued, **state))
        assert refused.value.status == 409
    with pytest.raises(Problem) as unsealed:
        seals.sealed_export(_credential(issued, issuer_partner_id="elsewhere"))
    assert unsealed.value.status == 503


def test_a_seal_key_without_its_certificate_is_refused(tmp_path: Path) -> None:
    generate_seal(tmp_path / SEALS_FOLDER / "nordhavn.pem", "Nordhavn", "DK")
    generate_seal(tmp_path / "elsewhere.pem", "Elsewhere", "DK")
    (tmp_path / "elsewhere.crt").replace(tmp_path / SEALS_FOLDER / "nordhavn.crt")
    with pytest.raises(ValueError, match="not for its key"):
        PartnerSeals.load(tmp_path)
