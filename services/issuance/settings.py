"""Issuance's settings: the shared ones plus where the partners' credential keys are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from shared.registry import REPO_ROOT
from shared.settings import ServiceSettings


class IssuanceSettings(ServiceSettings):
    service_name: str = "issuance"
    http_port: int = 8004
    # One folder of Ed25519 credential-signing keys, `<partner>-<n>.pem`, the highest `n`
    # the current key. Demo keys live in the repository; a real deployment mounts its own.
    credential_keys_dir: Path = REPO_ROOT / "alliance" / "demo-secrets" / "credentials"
    # `web`: did:web documents served by this service; `key`: did:key, for offline use.
    credential_did_method: Literal["web", "key"] = "web"
    # The partner that operates issuance and signs credentials by mandate of the awarding
    # partners (the operator named in the alliance registry when not set).
    issuing_partner_id: str | None = None
