"""Run each service's migrations: `python -m infra.migrate --service NAME | --all`.

The database URL comes from DATABASE_URL (one service) or DATABASE_URL_TEMPLATE with a
`{service}` placeholder (all services, as the local alliance and compose set it).
"""

from __future__ import annotations

import argparse
import os
import sys

from services import SERVICES
from shared.db.migrate import upgrade
from shared.settings import ServiceSettings


def _database_url(service: str) -> str:
    template = os.environ.get("DATABASE_URL_TEMPLATE")
    if template:
        return template.format(service=service)
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return ServiceSettings(service_name=service).resolved_database_url


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.migrate", description=__doc__)
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
