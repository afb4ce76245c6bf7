"""Creates the alliance's topics, partitions set explicitly: `python -m shared.messaging.topics`.

Relying on broker auto-creation would give every topic the broker's default partition count
and no say over retention; the alliance's topics are declared here once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.db.migrate import SERVICES
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--partitions", type=int, default=int(os.environ.get("TOPIC_PARTITIONS", "3"))
    )
    args = parser.parse_args()
    created = asyncio.run(ensure_topics(args.bootstrap_servers, args.partitions))
    print(f"topics: created {', '.join(created) if created else 'none (all present)'}")


if __name__ == "__main__":
    main()
