"""Generate an event-signing key for a partner or service: `python -m shared.keygen ID OUT.pem`.

Writes the private key (PKCS#8 PEM, mode 0600) and prints the registry entry with the
public key; the private key stays with its owner and is never sent anywhere.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from shared.registry import public_key_multibase


def generate(out: Path) -> str:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return public_key_multibase(key.public_key())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("key_id", help="the key's id in the registry, e.g. nordhavn-2026-1")
    parser.add_argument("out", type=Path, help="where to write the private key")
    args = parser.parse_args()
    public = generate(args.out)
    print(f"- id: {args.key_id}\n  public_key_multibase: {public}")


if __name__ == "__main__":
    main()
