"""The gateway's settings: the shared ones plus where the services it reads through answer."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from shared.keygen import generate
from shared.settings import ServiceSettings


@functools.cache
def _throwaway_signing_key() -> Path:
    # The gateway announces no events, but the shared runtime builds an event signer for
    # every service. A key made at start-up and listed nowhere in the registry can sign
    # nothing any consumer would accept.
    path = Path(tempfile.mkdtemp(prefix="gateway-")) / "unused-signing-key.pem"
    generate(path)
    return path


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    catalogue_url: str = "http://127.0.0.1:8001"
    enrolment_url: str = "http://127.0.0.1:8002"
    assessment_url: str = "http://127.0.0.1:8003"
    issuance_url: str = "http://127.0.0.1:8004"
    recognition_url: str = "http://127.0.0.1:8005"
    # Per request to a service; past it the learner gets 504 rather than waiting on.
    downstream_timeout_s: float = 5.0

    @property
    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or _throwaway_signing_key()
