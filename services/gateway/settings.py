"""The gateway's settings: the shared ones plus where the services it reads through answer."""

from __future__ import annotations

from shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    catalogue_url: str = "http://127.0.0.1:8001"
    enrolment_url: str = "http://127.0.0.1:8002"
    assessment_url: str = "http://127.0.0.1:8003"
    issuance_url: str = "http://127.0.0.1:8004"
    recognition_url: str = "http://127.0.0.1:8005"
    # Where issuance says it is in the DIDs and status list URLs of its credentials, when
    # that is not `issuance_url` (behind a proxy, in containers).
    issuance_public_url: str = ""
    # Per request to a service; past it the learner gets 504 rather than waiting on.
    downstream_timeout_s: float = 5.0

    @property
    def resolved_issuance_public_url(self) -> str:
        return self.issuance_public_url or self.issuance_url
