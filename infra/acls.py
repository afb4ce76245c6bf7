"""The broker's principals and their ACLs, derived from the alliance registry and the contracts.

Principals: `admin` (the super user: topic creation, tests, operator tools), one per service
(named after it; the gateway's too), and one per partner for its own systems. A service
writes the topics of the events the registry lets it emit and reads the topics the contract
routes (`contracts.tooling.routes`, what contracts/asyncapi.yaml is made from) say it
receives; a partner's systems write the topics of what the partner may emit and read what
`partner-systems` receive. Each principal uses only consumer groups,
transactional ids and dead-letter topics that start with its own name (a test's consumer
group is `<service>-<random>`, its dead letters `<service>-<random>.dead-letter`).

`python -m infra.topics` applies them, after creating the topics.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import CreateAclsRequest

from contracts.tooling.routes import PARTNER_SYSTEMS, RECEIVERS
from infra.profiles import KAFKA_ADMIN
from services import SERVICES
from shared.events import EVENT_SPECS
from shared.messaging.clients import kafka_connection
from shared.registry import DEFAULT_REGISTRY, AllianceRegistry, Partner, Service


# Kafka's protocol codes (org.apache.kafka.common.resource / acl).
class Resource(IntEnum):
    TOPIC = 2
    GROUP = 3
    TRANSACTIONAL_ID = 5


class Operation(IntEnum):
    READ = 3
    WRITE = 4
    CREATE = 5
    DESCRIBE = 8


class Pattern(IntEnum):
    LITERAL = 3
    PREFIXED = 4


ALLOW = 3


@dataclass(frozen=True, order=True)
class Acl:
    principal: str
    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation


def principals(registry: AllianceRegistry) -> list[str]:
    """Every principal the broker knows, the super user first."""
    return [KAFKA_ADMIN, *SERVICES, *registry.partners]


def _written(sender: Partner | Service | None) -> set[str]:
    """Topics of the events the registry lets `sender` emit."""
    return {s.topic for s in EVENT_SPECS if sender is not None and sender.may_send(s.name)}


def _received() -> dict[str, set[str]]:
    """Topics each participant of the contract (a service, or `partner-systems`) receives."""
    received: dict[str, set[str]] = {}
    for spec in EVENT_SPECS:
        for participant in RECEIVERS[spec.name]:
            received.setdefault(participant, set()).add(spec.topic)
    return received


def broker_acls(registry: AllianceRegistry) -> list[Acl]:
    """The ACLs of every principal but the super user, which needs none."""
    received = _received()
    allowed: dict[str, tuple[set[str], set[str]]] = {}  # principal -> (writes, reads)
    for service in SERVICES:
        allowed[service] = (_written(registry.services.get(service)), received.get(service, set()))
    for partner in registry.partners.values():
        allowed[partner.id] = (_written(partner), received.get(PARTNER_SYSTEMS, set()))
    acls = []
    for principal, (writes, reads) in allowed.items():
        for operation, topics in ((Operation.WRITE, writes), (Operation.READ, reads)):
            acls += [Acl(principal, Resource.TOPIC, t, Pattern.LITERAL, operation) for t in topics]
        # Its own prefix: consumer groups, transactional ids, and dead-letter topics, which a
        # consumer creates on its first refusal.
        own = [
            (Resource.GROUP, Operation.READ),
            (Resource.GROUP, Operation.DESCRIBE),
            (Resource.TRANSACTIONAL_ID, Operation.WRITE),
            (Resource.TRANSACTIONAL_ID, Operation.DESCRIBE),
            (Resource.TOPIC, Operation.WRITE),
            (Resource.TOPIC, Operation.CREATE),
            (Resource.TOPIC, Operation.DESCRIBE),
        ]
        acls += [Acl(principal, r, principal, Pattern.PREFIXED, op) for r, op in own]
    return sorted(acls)


def alliance_acls(registry_file: Path = DEFAULT_REGISTRY) -> list[Acl]:
    return broker_acls(AllianceRegistry.load(registry_file))


async def apply_acls(
    bootstrap_servers: str, acls: Sequence[Acl], environ: Mapping[str, str] = os.environ
) -> None:
    """Creates the ACLs as the environment's super user (creating one that exists changes
    nothing)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, **kafka_connection(environ=environ)
    )
    await admin.start()
    try:
        for acl in acls:
            request = CreateAclsRequest(
                acl.resource,
                acl.name,
                acl.pattern,
                f"User:{acl.principal}",
                "*",
                acl.operation,
                ALLOW,
            )
            # aiokafka has no public ACL call; its request type and client do the work.
            response = await admin._send_request(request)
            for error_code, message in response.creation_responses:
                if error_code:
                    raise RuntimeError(f"creating {acl}: error {error_code} {message}")
    finally:
        await admin.close()
