"""Creates the alliance's topics, partitions set explicitly, then the principals' ACLs
(infra.acls).

    python -m infra.topics --profile NAME   # a local profile's broker(s)
    python -m infra.topics                  # KAFKA_BOOTSTRAP_SERVERS, as the environment's
                                            # super user (docker-compose.yml's kafka-init)

Relying on broker auto-creation would give every topic the broker's default partition count
and no say over retention; the alliance's topics are declared here once. On a three-node
cluster (KAFKA_BROKERS=3) every topic is replicated on every node.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import Mapping, Sequence

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from infra.acls import alliance_acls, apply_acls
from infra.local import profiles_named
from infra.profiles import PROFILES
from services import SERVICES
from shared.events import TOPICS
from shared.messaging.clients import kafka_connection
from shared.messaging.dead_letter import dead_letter_topic


def alliance_topics() -> tuple[str, ...]:
    return (*TOPICS, *(dead_letter_topic(s) for s in SERVICES))


async def ensure_topics(
    bootstrap_servers: str,
    partitions: int,
    replication: int = 1,
    environ: Mapping[str, str] = os.environ,
) -> list[str]:
    """Creates the missing topics (as the super user the environment names); returns the ones
    it created."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, **kafka_connection(environ=environ)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in alliance_topics() if t not in existing]
        if missing:
            # Another process may create them at the same moment.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(t, num_partitions=partitions, replication_factor=replication)
                        for t in missing
                    ]
                )
        return missing
    finally:
        await admin.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.topics", description=__doc__)
    parser.add_argument("--profile", choices=list(PROFILES))
    parser.add_argument(
        "--partitions", type=int, default=int(os.environ.get("TOPIC_PARTITIONS", "3"))
    )
    args = parser.parse_args(argv)
    if args.profile:
        profile = profiles_named(args.profile)[0]
        bootstrap, replication, env = (
            profile.bootstrap_servers,
            profile.kafka_brokers,
            profile.infra_env(),
        )
    else:
        bootstrap, replication, env = os.environ["KAFKA_BOOTSTRAP_SERVERS"], 1, dict(os.environ)
    created = asyncio.run(ensure_topics(bootstrap, args.partitions, replication, env))
    print(f"topics: created {', '.join(created) if created else 'none (all present)'}")
    acls = alliance_acls()
    asyncio.run(apply_acls(bootstrap, acls, env))
    print(f"acls: {len(acls)} for {len({acl.principal for acl in acls})} principals")


if __name__ == "__main__":
    main()
