"""Runs a service's Alembic migrations (the one environment is `shared/db/alembic`).

A service registers the folder of its revisions by name (services/__init__.py does, for every
service), so neither this module nor the runtime's start-up check needs to know where services
live. `python -m infra.migrate` migrates one service's database, or all of them.
"""

from __future__ import annotations

import ast
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
    """The revision the service's code expects its database to be at: the one no other
    revision of its folder revises (None when it has none).

    Every service asks this once at start. It is read from the revision files' own
    `revision` and `down_revision` assignments, without running them: Alembic's
    ScriptDirectory imports Alembic, Mako and every revision module, about 6 MiB that each
    service process would keep for its whole life. tests/infra/test_migrate.py checks the
    answer against Alembic's for every service."""
    revises: dict[str, tuple[str, ...]] = {}
    for path in sorted(migrations(service).glob("*.py")):
        revision, down = _revision_of(path)
        revises[revision] = down
    heads = set(revises).difference(*revises.values())
    if len(heads) > 1:
        raise RuntimeError(f"{service}: the migrations have several heads: {sorted(heads)}")
    return heads.pop() if heads else None


def _revision_of(path: Path) -> tuple[str, tuple[str, ...]]:
    """A revision file's `revision` and the revisions its `down_revision` names."""
    assigned: dict[str, object] = {}
    for statement in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            assigned[target.id] = ast.literal_eval(value)
    revision, down = assigned.get("revision"), assigned.get("down_revision")
    if not isinstance(revision, str):
        raise RuntimeError(f"{path}: a migration names its `revision` as a string")
    if down is None:
        return revision, ()
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
        return revision, tuple(down)
    raise RuntimeError(f"{path}: `down_revision` is None, a revision or several")


def upgrade(service: str, database_url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(service, database_url), "head")
