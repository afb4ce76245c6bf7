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
    # Per request to a service; past it the learner gets 504 rather than waiting on.
    downstream_timeout_s: float = 5.0
