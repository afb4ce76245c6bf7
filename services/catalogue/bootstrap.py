"""The catalogue's composition root: settings in, a running service out."""

from __future__ import annotations

from fastapi import FastAPI

from services.catalogue import handlers
from services.catalogue.api import build_publishing_router, build_router
from services.catalogue.unit_of_work import CatalogueUnitOfWork
from shared.event_runtime import build_runtime
from shared.events import OfferingPublished, OfferingUpdated, OfferingWithdrawn
from shared.service import create_app
from shared.settings import ServiceSettings


def bootstrap(settings: ServiceSettings | None = None) -> FastAPI:
    runtime = build_runtime(
        settings or ServiceSettings(service_name="catalogue"), CatalogueUnitOfWork
    )
    handlers.register(runtime.consumer)
    runtime.declare_emits([OfferingPublished, OfferingUpdated, OfferingWithdrawn])
    return create_app(
        runtime,
        title="Alliance catalogue",
        description="Every partner's micro-credential offerings, fed by offering events "
        "from partners' systems or published by partners through this API.",
        routers=[
            build_router(runtime.units_of_work),
            build_publishing_router(
                runtime.units_of_work, runtime.registry, runtime.settings.source
            ),
        ],
    )
