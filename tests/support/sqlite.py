"""A service's database on SQLite (the zero-setup fallback) and offering events delivered
straight to its handler, for tests of one service's handlers without a broker; a service's
app built over SQLite and never started, for tests of how it is put together."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from shared.db.engine import create_engine, session_factory
from shared.db.migrate import upgrade
from shared.db.uow import UnitOfWorkFactory, UowT
from shared.messaging.consumer import EventContext
from shared.offering_views import OfferingEvent
from shared.partner_system import demo_signer, signed_event
from shared.registry import PARTNER_URN
from shared.settings import ServiceSettings
from tests.support.builders import REGISTRY


def built_app(service: str, tmp_path: Path) -> FastAPI:
    """The service's app as its composition root builds it, over a SQLite file (unused
    until started)."""
    bootstrap = importlib.import_module(f"services.{service}.bootstrap").bootstrap
    app: FastAPI = bootstrap(
        ServiceSettings(
            service_name=service, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
        )
    )
    return app


@asynccontextmanager
async def migrated_sqlite(
    tmp_path: Path, service: str, kind: type[UowT]
) -> AsyncIterator[UnitOfWorkFactory[UowT]]:
    url = f"sqlite+aiosqlite:///{tmp_path / f'{service}.db'}"
    await asyncio.to_thread(upgrade, service, url)
    engine = create_engine(url)
    try:
        yield UnitOfWorkFactory(kind, session_factory(engine), f"urn:alliance:service:{service}")
    finally:
        await engine.dispose()


async def deliver_offering(
    units_of_work: UnitOfWorkFactory[UowT],
    handler: Callable[[OfferingEvent, EventContext, UowT], Awaitable[None]],
    event: OfferingEvent,
) -> None:
    # The handlers do not read the context; a real signed envelope keeps it honest.
    context = EventContext(
        signed_event(demo_signer(event.partner_id), event),
        REGISTRY.sender_for(PARTNER_URN + event.partner_id),
    )
    async with units_of_work() as uow:
        await handler(event, context, uow)
        await uow.commit()
