"""Generate an event-signing key for a partner or service: `python -m shared.keygen ID OUT.pem`.

Writes the private key (PKCS#8 PEM, mode 0600) and prints the registry entry with the
public key; the private key stays with its owner and is never sent anywhere.

With `--seal "LEGAL NAME" --country CC`, writes instead a partner's Europass seal: a P-256
key (OUT.pem) and a self-signed X.509 certificate for it (OUT.crt), for sealing ELM exports
in a local alliance (see shared/credentials/jades.py for what a real eIDAS seal needs).
"""

from __future__ import annotations

import argparse
import os
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID

from shared.clock import utc_now
from shared.registry import public_key_multibase

SEAL_CERTIFICATE_DAYS = 3650


def _write_private(out: Path, pem: bytes) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def generate(out: Path) -> str:
    key = Ed25519PrivateKey.generate()
    _write_private(out, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return public_key_multibase(key.public_key())


def generate_seal(out: Path, legal_name: str, country: str) -> Path:
    """A seal key at `out` and its self-signed certificate beside it (`.crt`), naming the
    institution as a seal certificate does (organisation, country); returns the certificate's
    path."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, legal_name),
            x509.NameAttribute(NameOID.COMMON_NAME, legal_name),
        ]
    )
    now = utc_now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=SEAL_CERTIFICATE_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # A seal certificate is for signatures that commit the institution.
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(out, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    certificate_path = out.with_suffix(".crt")
    certificate_path.write_bytes(certificate.public_bytes(Encoding.PEM))
    return certificate_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("key_id", help="the key's id in the registry, e.g. nordhavn-2026-1")
    parser.add_argument("out", type=Path, help="where to write the private key")
    parser.add_argument("--seal", metavar="LEGAL_NAME", help="a Europass seal for this partner")
    parser.add_argument("--country", help="the partner's country (ISO 3166-1 alpha-2), --seal")
    args = parser.parse_args()
    if args.seal:
        if not args.country:
            parser.error("--seal needs --country")
        print(f"{args.key_id}: seal certificate {generate_seal(args.out, args.seal, args.country)}")
        return
    public = generate(args.out)
    print(f"- id: {args.key_id}\n  public_key_multibase: {public}")


if __name__ == "__main__":
    main()
