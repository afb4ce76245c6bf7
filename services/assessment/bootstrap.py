"""The assessment service's composition root: settings in, a running service out."""

from __future__ import annotations

from fastapi import FastAPI

from services.assessment import handlers
from services.assessment.api import build_router
from services.assessment.unit_of_work import AssessmentUnitOfWork
from shared.event_runtime import build_runtime
from shared.events import ResultRecorded
from shared.service import create_app
from shared.settings import ServiceSettings


def bootstrap(settings: ServiceSettings | None = None) -> FastAPI:
    runtime = build_runtime(
        settings or ServiceSettings(service_name="assessment"), AssessmentUnitOfWork
    )
    handlers.register(runtime.consumer)
    runtime.declare_emits([ResultRecorded])
    return create_app(
        runtime,
        title="Alliance assessment",
        description=(
            "Results recorded by the teaching partner, from its own system as an event or "
            "through this API, checked against offerings and enrolments."
        ),
        routers=[build_router(runtime.units_of_work)],
    )
