"""The gateway's composition root: settings in, the learners' API out."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI

from services.gateway.api import build_router
from services.gateway.downstream import Downstreams, install_refusal_handler
from services.gateway.offers import build_offers_router
from services.gateway.settings import GatewaySettings
from services.gateway.unit_of_work import GatewayUnitOfWork
from services.gateway.verification import WalletVerifier
from services.gateway.wallet import build_wallet_router
from shared import dev_idp
from shared.service import create_app, service_defaults
from shared.settings import ServiceSettings


def bootstrap(
    settings: ServiceSettings | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`transport` stands in for the network to the services (tests).

    Plain service settings are completed with the gateway's own from the environment.
    """
    if not isinstance(settings, GatewaySettings):
        given = settings.model_dump(exclude_unset=True) if settings else {}
        settings = GatewaySettings(**given)
    # The gateway consumes and announces no events: no messaging, only what every service
    # has (health, metrics, tracing, problem details and its database of share links).
    runtime = service_defaults(settings, GatewayUnitOfWork)
    services = Downstreams.connect(
        {
            "catalogue": settings.catalogue_url,
            "enrolment": settings.enrolment_url,
            "assessment": settings.assessment_url,
            "issuance": settings.issuance_url,
            "recognition": settings.recognition_url,
        },
        settings.downstream_timeout_s,
        transport,
        traced=bool(settings.otel_exporter_otlp_endpoint),
    )
    runtime.on_shutdown(services.aclose)

    verifier = WalletVerifier(
        services.issuance, settings.resolved_issuance_public_url, runtime.registry
    )
    wallet = build_wallet_router(
        services.issuance, runtime.units_of_work, verifier, settings.resolved_public_base_url
    )
    routers: list[APIRouter] = [
        build_router(services),
        wallet,
        build_offers_router(services.issuance),
    ]
    if settings.dev_idp_enabled:
        routers.append(dev_idp.build_router(settings.oidc_issuer))
    app = create_app(
        runtime,
        title="Alliance gateway",
        description="The learners' API: find offerings across the alliance, enrol, follow "
        "your results and pathways, hold and share your credentials; anyone can verify a "
        "shared credential. Send `Authorization: Bearer <token>` on `/me` routes.",
        routers=routers,
    )
    install_refusal_handler(app)
    return app
