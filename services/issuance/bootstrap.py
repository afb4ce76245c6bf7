"""Issuance's composition root: settings in, a running service out."""

from __future__ import annotations

from fastapi import FastAPI

from services.issuance import handlers
from shared.service import build_runtime, create_app
from shared.settings import ServiceSettings


def bootstrap(settings: ServiceSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings or ServiceSettings(service_name="issuance"))
    handlers.register(runtime.consumer)
    return create_app(
        runtime,
        title="Alliance issuance",
        description="Signed, verifiable micro-credentials issued on behalf of awarding partners.",
        routers=[],
    )
