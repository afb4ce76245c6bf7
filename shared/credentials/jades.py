"""JAdES seals (ETSI TS 119 182-1, baseline B-B) on a JSON document, as the European Digital
Credentials are sealed: a JWS in the general JSON serialization whose protected header
carries the signer's X.509 certificate (`x5c`), its SHA-256 digest (`x5t#S256`, the
signing-certificate reference JAdES requires) and the claimed signing time (`sigT`, marked
critical). The payload is left unencoded (RFC 7797, `b64: false`), so the sealed file shows
the credential as readable JSON, as Europass's own sealed credentials do.

A seal made with a self-signed certificate proves only that the document is unchanged since
the holder of that key sealed it. For an eIDAS advanced or qualified seal that Europass
accepts, a partner needs a (qualified) certificate for electronic seals issued to the
institution by a qualified trust service provider on the EU trusted lists, its
`organizationIdentifier` the institution's legal identifier (VAT or national registration
number), with the private key kept in a qualified seal creation device (a QSCD, typically an
HSM or a QTSP's remote signing service); the seal is then made there, not from a key file.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ec import (
    SECP256R1,
    EllipticCurvePrivateKey,
    EllipticCurvePublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.registry import HeaderParameter

from shared.credentials.verifier import MAX_DOCUMENT_BYTES
from shared.registry import decode_b64url, encode_b64url

JADES_MEDIA_TYPE = "application/jose+json"
ALGORITHM = "ES256"
# JAdES's claimed signing time; a verifier that does not know it must refuse the seal.
_REGISTRY = jws.JWSRegistry(
    header_registry={"sigT": HeaderParameter("Claimed signing time", "str", True)},
    algorithms=[ALGORITHM],
)
# The header carries a certificate chain and the payload a whole credential: more than
# joserfc's defaults for tokens.
_REGISTRY.max_header_length = 16 * 1024
_REGISTRY.max_payload_length = MAX_DOCUMENT_BYTES


class SealInvalid(Exception):
    """The seal does not verify, or is not a JAdES seal this module makes."""


@dataclass(frozen=True)
class VerifiedSeal:
    document: dict[str, Any]
    certificate: x509.Certificate
    signed_at: datetime


def _sig_time(moment: datetime) -> str:
    # JAdES writes the claimed signing time in UTC to the second.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seal(
    document: dict[str, Any],
    key: EllipticCurvePrivateKey,
    certificate: x509.Certificate,
    signed_at: datetime,
) -> dict[str, Any]:
    """`document` sealed with `key`, whose certificate the seal carries."""
    if not isinstance(key.curve, SECP256R1):
        raise ValueError("a JAdES ES256 seal needs a P-256 key")
    der = certificate.public_bytes(Encoding.DER)
    header = {
        "alg": ALGORITHM,
        "cty": "application/ld+json",
        "x5c": [base64.b64encode(der).decode("ascii")],
        "x5t#S256": encode_b64url(hashlib.sha256(der).digest()),
        "sigT": _sig_time(signed_at),
        "b64": False,
        "crit": ["sigT", "b64"],
    }
    payload = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    sealed = jws.serialize_json(
        [{"protected": header}], payload, ECKey.import_key(key), registry=_REGISTRY
    )
    return dict(sealed)


def verify_seal(sealed: Any) -> VerifiedSeal:
    """The sealed document, once its signature verifies with the certificate in `x5c` and
    the certificate was valid at the claimed signing time. Whether that certificate is one
    to trust (a qualified seal, the institution it names) is for the caller to judge."""
    if not isinstance(sealed, dict) or len(sealed.get("signatures", ())) != 1:
        raise SealInvalid("not a JAdES seal in the JSON serialization, with one signature")
    try:
        header = json.loads(decode_b64url(sealed["signatures"][0]["protected"]))
        certificate = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
        signed_at = datetime.strptime(header["sigT"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise SealInvalid(f"the seal's protected header is not JAdES: {exc}") from exc
    der = certificate.public_bytes(Encoding.DER)
    if header.get("x5t#S256") != encode_b64url(hashlib.sha256(der).digest()):
        raise SealInvalid("the signing-certificate reference does not match the certificate")
    if not certificate.not_valid_before_utc <= signed_at <= certificate.not_valid_after_utc:
        raise SealInvalid("the certificate was not valid at the claimed signing time")
    public = certificate.public_key()
    if not isinstance(public, EllipticCurvePublicKey):
        raise SealInvalid("the certificate holds no elliptic-curve key for ES256")
    try:
        verified = jws.deserialize_json(
            sealed,  # type: ignore[call-overload]
            ECKey.import_key(public),
            registry=_REGISTRY,
        )
        document = json.loads(verified.payload)
    except (JoseError, ValueError) as exc:
        raise SealInvalid(f"the signature does not verify: {exc}") from exc
    if not isinstance(document, dict):
        raise SealInvalid("the sealed payload is not a JSON object")
    return VerifiedSeal(document, certificate, signed_at)
