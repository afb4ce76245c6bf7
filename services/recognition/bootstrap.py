"""Recognition's composition root: settings in, a running service out."""

from __future__ import annotations

from fastapi import FastAPI

from services.recognition import handlers
from services.recognition.api import build_router
from services.recognition.unit_of_work import RecognitionUnitOfWork
from shared.event_runtime import build_runtime
from shared.events import (
    PathwayCompleted,
    PathwayProgressed,
    RecognitionDecided,
    RecognitionRequested,
)
from shared.events.pathways import PathwayCompletionRevoked, PathwayDefined
from shared.events.recognition import RecognitionWithdrawn
from shared.service import create_app
from shared.settings import ServiceSettings


def bootstrap(settings: ServiceSettings | None = None) -> FastAPI:
    runtime = build_runtime(
        settings or ServiceSettings(service_name="recognition"), RecognitionUnitOfWork
    )
    handlers.register(runtime.consumer)
    runtime.declare_emits(
        [
            PathwayDefined,
            PathwayProgressed,
            PathwayCompleted,
            PathwayCompletionRevoked,
            RecognitionRequested,
            RecognitionDecided,
            RecognitionWithdrawn,
        ]
    )
    return create_app(
        runtime,
        title="Alliance recognition",
        description="Each learner's credentials across partners and their progress on the "
        "alliance's pathways (stacked credentials when complete); recognition of one "
        "partner's credentials by another, by published rules or by its staff.",
        routers=[build_router(runtime.units_of_work, runtime.registry, runtime.settings.source)],
    )
