"""Issuance's settings: the shared ones plus where the partners' credential keys are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from shared.settings import DEVELOPMENT_SECRETS, ServiceSettings


class IssuanceSettings(ServiceSettings):
    service_name: str = "issuance"
    http_port: int = 8004
    # One folder of Ed25519 credential-signing keys, `<partner>-<n>.pem`, the highest `n`
    # the current key. Demo keys live in the repository; a real deployment mounts its own.
    credential_keys_dir: Path = DEVELOPMENT_SECRETS / "credentials"
    # `web`: did:web documents served by this service; `key`: did:key, for offline use.
    credential_did_method: Literal["web", "key"] = "web"
    # The partner that operates issuance and signs credentials by mandate of the awarding
    # partners (the operator named in the alliance registry when not set).
    issuing_partner_id: str | None = None
    # OAuth 2.0 client credentials for partner systems calling the VC API. The registered
    # clients, `{"clients": [{"client_id", "partner_id", "secret_hash", "scopes"?}]}` with
    # hashes from `python -m services.issuance.clients new`: a file, or the JSON itself. With
    # neither, a local alliance (ALLOW_DEVELOPMENT_KEYS) gets one development client per
    # partner whose secret anyone can derive; anything else registers none.
    oauth_clients_file: Path | None = None
    oauth_clients: str | None = None
    # The Ed25519 key client tokens are signed with. Unset, each process makes its own at
    # start: tokens then end with the process, and clients just ask again.
    oauth_signing_key_file: Path | None = None
    oauth_token_lifetime_s: int = Field(default=900, gt=0, le=86_400)

    def development_keys_in_use(self) -> list[str]:
        committed = self.credential_keys_dir.resolve().is_relative_to(DEVELOPMENT_SECRETS)
        return super().development_keys_in_use() + (["CREDENTIAL_KEYS_DIR"] if committed else [])
