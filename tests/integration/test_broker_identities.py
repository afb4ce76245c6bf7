"""Partner principals at the broker: each partner's systems and each service connect as
themselves (SCRAM-SHA-512 over TLS), and the ACLs derived from the alliance registry and the
contracts (infra.acls) let each write, read and join only what is its own."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from infra.acls import Operation, Pattern, Resource, alliance_acls
from shared.events.topics import CREDENTIALS, ENROLMENTS, OFFERINGS, RESULTS
from shared.messaging.clients import kafka_connection
from tests.support.infra import Infrastructure


def as_principal(principal: str) -> dict[str, Any]:
    settings = kafka_connection(principal)
    assert "sasl_plain_username" in settings, "this session's broker has no principals"
    return settings


async def send(infra: Infrastructure, settings: dict[str, Any], topic: str) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=infra.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
        **settings,
    )
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"{}", key=b"broker-identities-test")
    finally:
        await producer.stop()


async def read_one_batch(
    infra: Infrastructure, settings: dict[str, Any], topic: str, group: str
) -> None:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=infra.kafka_bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **settings,
    )
    try:  # a refused start still leaves a client to stop
        await consumer.start()
        await consumer.getmany(timeout_ms=2000)
        await consumer.commit()
    finally:
        await consumer.stop()


async def test_a_partner_writes_and_reads_its_own_topics_and_groups(infra: Infrastructure) -> None:
    rheinfeld = as_principal("rheinfeld")
    await send(infra, rheinfeld, RESULTS)  # rheinfeld may submit results
    await read_one_batch(infra, rheinfeld, ENROLMENTS, f"rheinfeld-{uuid.uuid4().hex[:8]}")


async def test_a_partner_may_not_write_a_topic_it_may_not_send(infra: Infrastructure) -> None:
    # Credentials are issuance's (nordhavn's service), never a partner system's.
    with pytest.raises(TopicAuthorizationFailedError):
        await send(infra, as_principal("rheinfeld"), CREDENTIALS)


async def test_a_service_may_not_write_another_services_topic(infra: Infrastructure) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await send(infra, as_principal("catalogue"), CREDENTIALS)


async def test_a_partner_may_not_read_with_another_partners_group(
    infra: Infrastructure,
) -> None:
    with pytest.raises(GroupAuthorizationFailedError):
        await read_one_batch(
            infra, as_principal("rheinfeld"), ENROLMENTS, f"nordhavn-{uuid.uuid4().hex[:8]}"
        )


async def test_a_service_may_not_read_a_topic_it_does_not_consume(
    infra: Infrastructure,
) -> None:
    # The catalogue consumes offerings only; results are none of its business.
    with pytest.raises(TopicAuthorizationFailedError):
        await read_one_batch(
            infra, as_principal("catalogue"), RESULTS, f"catalogue-{uuid.uuid4().hex[:8]}"
        )


async def test_a_client_without_credentials_is_refused(infra: Infrastructure) -> None:
    with pytest.raises(KafkaConnectionError):
        await send(infra, {"security_protocol": "PLAINTEXT"}, OFFERINGS)


async def test_a_client_with_a_wrong_password_is_refused(infra: Infrastructure) -> None:
    wrong = {**as_principal("rheinfeld"), "sasl_plain_password": "not-the-password"}
    with pytest.raises(KafkaError):
        await send(infra, wrong, RESULTS)


def test_the_acls_follow_the_registry_and_the_contracts() -> None:
    acls = alliance_acls()

    def literal(principal: str, operation: Operation) -> set[str]:
        return {
            acl.name
            for acl in acls
            if acl.principal == principal
            and acl.resource is Resource.TOPIC
            and acl.pattern is Pattern.LITERAL
            and acl.operation is operation
        }

    assert literal("issuance", Operation.WRITE) == {CREDENTIALS}
    assert RESULTS in literal("issuance", Operation.READ)
    assert literal("catalogue", Operation.READ) == {OFFERINGS}
    assert CREDENTIALS not in literal("nordhavn", Operation.WRITE)
    assert {a.principal for a in acls if a.pattern is Pattern.PREFIXED} == {
        a.principal for a in acls
    }
    assert all(a.name == a.principal for a in acls if a.pattern is Pattern.PREFIXED)
    assert "admin" not in {a.principal for a in acls}  # the super user needs none
