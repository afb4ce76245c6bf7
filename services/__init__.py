"""The alliance's services, a package each (their common shape: README.md here).

`SERVICES` is the one list of them, in start order: the gateway last, so what it calls is up
when it starts answering. Each service keeps its Alembic revisions in its `migrations/` folder,
registered below so the runtime and the tools find them by the service's name, and names the
tables it builds from events alone in `tables.VIEW_TABLES`, which the operator tools may empty
for a rebuild from the log.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared.db.migrate import register_migrations

SERVICES = ("catalogue", "enrolment", "assessment", "issuance", "recognition", "gateway")

for _service in SERVICES:
    register_migrations(_service, Path(__file__).parent / _service / "migrations")


def view_tables(service: str) -> tuple[str, ...]:
    """The names of the tables `services.<service>.tables.VIEW_TABLES` declares (none for a
    service without tables), children before parents."""
    if service not in SERVICES:
        raise LookupError(f"no service {service!r}; the services are {', '.join(SERVICES)}")
    try:
        tables = importlib.import_module(f"{__name__}.{service}.tables")
    except ModuleNotFoundError:
        return ()
    declared: Sequence[Any] = getattr(tables, "VIEW_TABLES", ())
    return tuple(str(model.__tablename__) for model in declared)
