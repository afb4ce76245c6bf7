"""A service refuses the committed development keys unless told it runs a local alliance."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from services.issuance.settings import IssuanceSettings
from shared.db.uow import UnitOfWork
from shared.event_runtime import build_runtime
from shared.settings import DevelopmentKeysRefused, ServiceSettings
from tests.conftest import ServiceFactory


def _own_key(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    )
    return path


def test_each_setting_left_at_a_committed_key_is_named(tmp_path: Path) -> None:
    settings = IssuanceSettings(allow_development_keys=False, dev_idp_enabled=True)
    with pytest.raises(DevelopmentKeysRefused) as refused:
        build_runtime(settings, UnitOfWork)
    for setting in ("OIDC_JWKS_URL", "DEV_IDP_ENABLED", "SIGNING_KEY_FILE", "CREDENTIAL_KEYS_DIR"):
        assert setting in str(refused.value)
    assert "ALLOW_DEVELOPMENT_KEYS" in str(refused.value)


def test_a_deployment_with_its_own_keys_starts_without_the_development_setting(
    tmp_path: Path,
) -> None:
    keys = tmp_path / "credentials"
    keys.mkdir()
    _own_key(keys, "nordhavn-1.pem")
    settings = IssuanceSettings(
        allow_development_keys=False,
        oidc_jwks_url="https://idp.example.eu/jwks.json",
        signing_key_file=_own_key(tmp_path, "issuance.pem"),
        credential_keys_dir=keys,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
    )
    assert settings.development_keys_in_use() == []
    build_runtime(settings, UnitOfWork).relay.stop()


def test_the_development_setting_is_off_unless_set() -> None:
    assert ServiceSettings.model_fields["allow_development_keys"].default is False


async def test_a_service_process_on_committed_keys_does_not_start(
    service_process: ServiceFactory,
) -> None:
    catalogue = await service_process("catalogue", ALLOW_DEVELOPMENT_KEYS="false")
    with pytest.raises(AssertionError) as failed:
        catalogue.start()
    assert "ALLOW_DEVELOPMENT_KEYS" in str(failed.value)
    assert "OIDC_JWKS_URL" in str(failed.value)
