"""`python -m infra.topics --profile NAME`: create the alliance's topics on a profile's
broker(s), replicated on every node of a three-node cluster (KAFKA_BROKERS=3), and the
principals' ACLs (infra.acls)."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence

from infra.acls import alliance_acls, apply_acls
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
    env = profile.infra_env()
    created = asyncio.run(
        ensure_topics(profile.bootstrap_servers, args.partitions, profile.kafka_brokers, env)
    )
    print(f"topics: created {', '.join(created) if created else 'none (all present)'}")
    acls = alliance_acls()
    asyncio.run(apply_acls(profile.bootstrap_servers, acls, env))
    print(f"acls: {len(acls)} for {len({acl.principal for acl in acls})} principals")


if __name__ == "__main__":
    main()
