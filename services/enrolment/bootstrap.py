"""Enrolment's composition root: settings in, a running service out."""

from __future__ import annotations

from fastapi import FastAPI

from services.enrolment import handlers
from services.enrolment.api import build_router
from services.enrolment.unit_of_work import EnrolmentUnitOfWork
from shared.event_runtime import build_runtime
from shared.events import (
    EnrolmentAccepted,
    EnrolmentRejected,
    EnrolmentRequested,
    EnrolmentWaitlisted,
    EnrolmentWithdrawn,
)
from shared.service import create_app
from shared.settings import ServiceSettings


def bootstrap(settings: ServiceSettings | None = None) -> FastAPI:
    runtime = build_runtime(
        settings or ServiceSettings(service_name="enrolment"), EnrolmentUnitOfWork
    )
    handlers.register(runtime.consumer)
    runtime.declare_emits(
        [
            EnrolmentRequested,
            EnrolmentAccepted,
            EnrolmentWaitlisted,
            EnrolmentRejected,
            EnrolmentWithdrawn,
        ]
    )
    return create_app(
        runtime,
        title="Alliance enrolment",
        description=(
            "Learners enrol in any partner's offering: prerequisites checked against the "
            "credentials they earned anywhere in the alliance, places never overbooked, and a "
            "waiting list. Operated by Universidad de Valdemora."
        ),
        routers=[build_router(runtime.units_of_work)],
    )
