"""Runs a service's Alembic migrations (the one environment is `shared/db/alembic`).

A service registers the folder of its revisions by name (services/__init__.py does, for every
service), so neither this module nor the runtime's start-up check needs to know where services
live. `python -m infra.migrate` migrates one service's database, or all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS: dict[str, Path] = {}


def register_migrations(service: str, folder: Path) -> None:
    _MIGRATIONS[service] = folder


def migrations(service: str) -> Path:
    try:
        return _MIGRATIONS[service]
    except KeyError:
        raise LookupError(
            f"no migrations registered for {service!r} (services/__init__.py registers them)"
        ) from None


# Alembic is imported only to migrate: registering, at `import services`, stays within the
# standard library, which infra.profiles (and so infra.local) keeps to.
def alembic_config(service: str, database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "alembic"))
    config.set_main_option("version_locations", str(migrations(service)))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = database_url
    return config


def head(service: str) -> str | None:
    """The revision the service's code expects its database to be at."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(service, "")).get_current_head()


def upgrade(service: str, database_url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(service, database_url), "head")
