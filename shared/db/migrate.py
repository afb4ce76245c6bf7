"""Run each service's migrations: `python -m shared.db.migrate --service NAME | --all`.

The database URL comes from DATABASE_URL (one service) or DATABASE_URL_TEMPLATE with a
`{service}` placeholder (all services, as the local alliance and compose set it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from shared.registry import REPO_ROOT

SERVICES = ("catalogue", "enrolment", "assessment", "issuance", "recognition", "gateway")


def alembic_config(service: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "alembic"))
    config.set_main_option(
        "version_locations", str(REPO_ROOT / "services" / service / "migrations")
    )
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = database_url
    return config


def head(service: str) -> str | None:
    """The revision the service's code expects its database to be at."""
    return ScriptDirectory.from_config(alembic_config(service, "")).get_current_head()


def upgrade(service: str, database_url: str) -> None:
    command.upgrade(alembic_config(service, database_url), "head")


def _database_url(service: str) -> str:
    template = os.environ.get("DATABASE_URL_TEMPLATE")
    if template:
        return template.format(service=service)
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from shared.settings import ServiceSettings

    return ServiceSettings(service_name=service).resolved_database_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--service", choices=SERVICES)
    group.add_argument("--all", action="store_true")
    args = parser.parse_args()
    for service in SERVICES if args.all else (args.service,):
        url = _database_url(service)
        print(f"migrating {service} ({url.split('@')[-1]})", flush=True)
        try:
            upgrade(service, url)
        except Exception as exc:
            print(f"migration of {service} failed: {exc}", file=sys.stderr)
            raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
