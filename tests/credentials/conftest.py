"""Shared builders for the credential tests."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.credentials import MicroCredentialData
from shared.credentials.bench import sample_data


@pytest.fixture
def data() -> MicroCredentialData:
    return sample_data(1)


@pytest.fixture
def issuer_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
