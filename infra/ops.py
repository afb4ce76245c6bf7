"""Operator tools for the alliance's services.

    python -m infra.ops dead-letters list   --service NAME [--show-payload]
    python -m infra.ops dead-letters replay --service NAME (--event-id ID | --all) [--again]
    python -m infra.ops rebuild-views       --service NAME
    python -m infra.ops waiting             --service NAME

`--consumer` names the consumer group when it differs from the service (several copies of
a service on one broker). Kafka comes from KAFKA_BOOTSTRAP_SERVERS, the service's database
from DATABASE_URL or DATABASE_URL_TEMPLATE (as `make run` writes them in .run/run/env).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from services import SERVICES, view_tables
from shared.ops.dead_letters import NothingToReplay, list_dead_letters, replay
from shared.ops.views import RebuildRefused, rebuild_views
from shared.ops.waiting import list_waiting


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.ops", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def with_service(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--service", required=True, choices=SERVICES)
        sub.add_argument("--consumer", help="its consumer group (default: the service name)")
        return sub

    letters = commands.add_parser("dead-letters", help="inspect and replay dead letters")
    actions = letters.add_subparsers(dest="action", required=True)
    listing = with_service(actions.add_parser("list", help="each dead letter and why it failed"))
    listing.add_argument("--show-payload", action="store_true", help="print each event's data")
    again = with_service(actions.add_parser("replay", help="send dead letters to their topic"))
    which = again.add_mutually_exclusive_group(required=True)
    which.add_argument("--event-id", help="the dead letter(s) of this event id")
    which.add_argument("--all", action="store_true", help="every dead letter not yet replayed")
    again.add_argument("--again", action="store_true", help="replay even if replayed before")

    rebuild = with_service(
        commands.add_parser("rebuild-views", help="rebuild a stopped service's views from the log")
    )
    rebuild.add_argument("--database-url", help="default: DATABASE_URL or DATABASE_URL_TEMPLATE")
    waiting = with_service(
        commands.add_parser("waiting", help="events waiting for a fact, and since when")
    )
    waiting.add_argument("--database-url", help="default: DATABASE_URL or DATABASE_URL_TEMPLATE")
    return parser.parse_args(argv)


def database_url(args: argparse.Namespace) -> str:
    if args.database_url:
        return str(args.database_url)
    if url := os.environ.get("DATABASE_URL"):
        return url
    if template := os.environ.get("DATABASE_URL_TEMPLATE"):
        return template.format(service=args.service)
    raise RebuildRefused("no database: pass --database-url or set DATABASE_URL")


async def run(args: argparse.Namespace) -> str:
    bootstrap = args.bootstrap_servers
    consumer = args.consumer or args.service
    if args.command == "dead-letters" and args.action == "list":
        return await list_dead_letters(bootstrap, consumer, args.show_payload)
    if args.command == "dead-letters":
        replayed = await replay(bootstrap, consumer, args.event_id, args.again)
        return "\n".join(
            f"replayed {letter.position} (event {letter.event_id}) to {letter.source_topic}"
            for letter in replayed
        )
    if args.command == "waiting":
        return await list_waiting(database_url(args), consumer)
    tables = view_tables(args.service)
    return await rebuild_views(bootstrap, database_url(args), args.service, consumer, tables)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        print(asyncio.run(run(args)))
    except (NothingToReplay, RebuildRefused) as refused:
        print(f"infra.ops: {refused}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
