"""`python -m infra.topics --profile NAME`: create the alliance's topics on a profile's
broker(s), replicated on every node of a three-node cluster (KAFKA_BROKERS=3)."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence

from infra.local import profiles_named
from infra.profiles import PROFILES
from shared.messaging.topics import ensure_topics


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.topics", description=__doc__)
    parser.add_argument("--profile", choices=list(PROFILES), default="run")
    parser.add_argument(
        "--partitions", type=int, default=int(os.environ.get("TOPIC_PARTITIONS", "3"))
    )
    args = parser.parse_args(argv)
    profile = profiles_named(args.profile)[0]
    created = asyncio.run(
        ensure_topics(profile.bootstrap_servers, args.partitions, profile.kafka_brokers)
    )
    print(f"topics: created {', '.join(created) if created else 'none (all present)'}")


if __name__ == "__main__":
    main()
