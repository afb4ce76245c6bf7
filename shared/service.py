"""What every service is made of, assembled the same way in each service's composition root.

As eShop's ServiceDefaults, the runtime is in two parts. Every service gets `service_defaults`:
logging, tracing, the alliance registry, its database and units of work, health, metrics and
problem details, as a FastAPI app (its HTTP API, OpenAPI at /docs). A service that consumes or
announces events builds `shared.event_runtime.build_runtime` instead, which adds messaging: its
Kafka consumer, outbox relay and dead-letter publisher (FastStream, AsyncAPI at /asyncapi), and
readiness that waits for the broker. A service with no events (the gateway) has none of that,
nor loads it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic

from fastapi import APIRouter, FastAPI, Response
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth import TokenVerifier
from shared.db.engine import create_engine, session_factory
from shared.db.migrate import head as migrations_head
from shared.db.uow import UnitOfWorkFactory, UowT
from shared.logs import configure_logging
from shared.metrics import DEPENDENCY_UP, HttpMetricsMiddleware
from shared.problems import install_problem_handlers
from shared.registry import AllianceRegistry
from shared.settings import ServiceSettings
from shared.telemetry import configure_tracing, scrub_server_span

log = logging.getLogger(__name__)

# How often the dependency, consumer lag and outbox backlog gauges are refreshed.
GAUGE_INTERVAL_S = 2.0
# Readiness values that inform rather than decide.
_INFORMATIVE = frozenset({"assigned_partitions"})

# FastAPI's own OpenTelemetry support traces every request (a server span, then one per
# dependency, endpoint and serialization) whenever a tracer provider is set, even one that
# records nothing: 0.1 ms of CPU a request here. The services' HTTP spans come from
# OpenTelemetry's FastAPI instrumentation instead, applied only when traces are exported.
NO_NATIVE_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


class ServiceRuntime(Generic[UowT]):
    """The infrastructure every service has; the domain and routes are wired onto it."""

    def __init__(
        self,
        settings: ServiceSettings,
        registry: AllianceRegistry,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        units_of_work: UnitOfWorkFactory[UowT],
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.engine = engine
        self.sessions = sessions
        self.units_of_work = units_of_work
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._gauges: asyncio.Task[None] | None = None

    def on_shutdown(self, close: Callable[[], Awaitable[None]]) -> None:
        """Runs `close` when the service stops (clients the service opened itself)."""
        self._closers.append(close)

    def mount(self) -> list[APIRouter]:
        """The routers the runtime itself serves besides health and metrics."""
        return []

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The service's background work, for the app's lifetime."""
        await self.start_background()
        try:
            yield
        finally:
            await self.stop_background()

    async def start_background(self) -> None:
        self._gauges = asyncio.create_task(self._refresh_gauges(), name="gauges")

    async def stop_background(self) -> None:
        if self._gauges is not None:
            self._gauges.cancel()
            self._gauges = None
        for close in self._closers:
            await close()

    async def dependencies(self) -> dict[str, str]:
        """Each dependency: "ok" when reached, else what went wrong."""
        found = await self._reach()
        for dependency, state in found.items():
            DEPENDENCY_UP.labels(dependency).set(state == "ok")
        return found

    async def _reach(self) -> dict[str, str]:
        found = {"database": "ok"}
        try:
            async with self.sessions() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        except Exception as exc:
            found["database"] = type(exc).__name__
        return found

    async def readiness(self) -> dict[str, str]:
        """What `/health/ready` reports; ready when every value but the informative ones is
        "ok"."""
        return await self.dependencies()

    async def _measure(self, reached: dict[str, str]) -> None:
        """Refreshes the gauges the service keeps beyond its dependencies' (none here)."""

    async def _refresh_gauges(self) -> None:
        while True:
            await asyncio.sleep(GAUGE_INTERVAL_S)
            reached = await self.dependencies()
            try:
                await self._measure(reached)
            except Exception as exc:
                # A gauge left stale for one round is better than a crash of the service.
                log.warning("cannot refresh the gauges: %s", type(exc).__name__)


def service_foundations(
    settings: ServiceSettings,
) -> tuple[AllianceRegistry, AsyncEngine, async_sessionmaker[AsyncSession]]:
    """What every service starts with: its keys checked, logs and traces configured, the
    alliance registry, and its database."""
    settings.refuse_development_keys()
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    traced = bool(settings.otel_exporter_otlp_endpoint)
    configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    registry = AllianceRegistry.load(settings.alliance_registry)
    engine = create_engine(settings.resolved_database_url, traced=traced)
    return registry, engine, session_factory(engine)


def service_defaults(settings: ServiceSettings, unit_of_work: type[UowT]) -> ServiceRuntime[UowT]:
    """The infrastructure of a service that neither consumes nor announces events;
    `unit_of_work` is its kind, exposing its repositories."""
    registry, engine, sessions = service_foundations(settings)
    units_of_work = UnitOfWorkFactory(unit_of_work, sessions, settings.source)
    return ServiceRuntime(settings, registry, engine, sessions, units_of_work)


def create_app(
    runtime: ServiceRuntime[Any], title: str, description: str, routers: Sequence[APIRouter]
) -> FastAPI:
    """The service's ASGI app: its API, health, metrics, OpenAPI (and, with messaging,
    AsyncAPI) docs."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await _check_database(runtime)
        async with runtime.running():
            yield
        await runtime.engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        telemetry=NO_NATIVE_TELEMETRY,
    )
    settings = runtime.settings
    app.state.runtime = runtime
    app.state.token_verifier = TokenVerifier(
        settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks_url
    )
    install_problem_handlers(app)
    for router in [*runtime.mount(), _operations_router(runtime), *routers]:
        app.include_router(router)
    app.add_middleware(HttpMetricsMiddleware)
    if settings.otel_exporter_otlp_endpoint:
        # Imported only where applied: untraced, it would only cost the process memory.
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app, excluded_urls="health,metrics", server_request_hook=scrub_server_span
        )
    return app


async def _check_database(runtime: ServiceRuntime[Any]) -> None:
    """Fails start-up with a clear message when the database is missing or not migrated to
    what this code expects (a service on an older schema would fail every request)."""
    service = runtime.settings.service_name
    expected = migrations_head(service)
    try:
        async with runtime.sessions() as session:
            found = (
                await session.exec(text("SELECT version_num FROM alembic_version"))  # type: ignore[call-overload]
            ).scalar_one_or_none()
    except Exception as exc:
        raise RuntimeError(
            f"{service}: database not ready ({type(exc).__name__}); "
            "is it running and migrated (`python -m infra.migrate`)?"
        ) from exc
    if found != expected:
        raise RuntimeError(
            f"{service}: database is at migration {found}, the code expects {expected}: "
            f"run `python -m infra.migrate --service {service}`"
        )


def _operations_router(runtime: ServiceRuntime[Any]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/health/ready",
        summary="Dependencies reachable (database; with messaging, broker and consumer running)",
    )
    async def ready(response: Response) -> dict[str, str]:
        checks = await runtime.readiness()
        if any(v != "ok" for k, v in checks.items() if k not in _INFORMATIVE):
            response.status_code = 503
        return {"status": "ok" if response.status_code != 503 else "unavailable", **checks}

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
