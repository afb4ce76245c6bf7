"""Recognition's composition root: settings in, a running service out."""

from __future__ import annotations

from fastapi import FastAPI

from services.recognition import handlers
from services.recognition.api import build_router
from shared.service import build_runtime, create_app
from shared.settings import ServiceSettings


def bootstrap(settings: ServiceSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings or ServiceSettings(service_name="recognition"))
    handlers.register(runtime.consumer)
    return create_app(
        runtime,
        title="Alliance recognition",
        description="Each learner's credentials across partners; pathways and recognition.",
        routers=[build_router(runtime.sessions)],
    )
