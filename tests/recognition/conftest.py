"""A recognition service running as its own process, and the alliance around it: the issuance
service announcing credentials, partners' systems publishing offerings and pathways."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from pydantic import BaseModel

from shared.auth import learner_id_for
from shared.db.engine import driver_dsn
from shared.envelope import CloudEvent
from shared.events import (
    AchievementSummary,
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    RevocationReason,
    Stackability,
    StatusListEntry,
    spec_for_model,
)
from shared.events.pathways import PathwayCriteria, PathwayDefined
from shared.events.topics import CREDENTIALS, OFFERINGS, PATHWAY_DEFINITIONS, PATHWAYS, RECOGNITIONS
from shared.messaging.clients import kafka_connection
from shared.partner_system import PartnerSystem, demo_signer, signed_event
from tests.conftest import ServiceFactory
from tests.support.identities import (  # re-exported for this folder's tests
    ISSUER as ISSUER,
    new_id as new_id,
    service_signer as service_signer,
    staff as staff,
    token as token,
)
from tests.support.infra import Infrastructure
from tests.support.kafka import Record, end_offsets, header, wait_until_caught_up
from tests.support.services import SHORT_RETRIES, ServiceUnderTest

SKILL = "http://data.europa.eu/esco/skill/0aac7a16-5943-4e77-930c-4e019c286bbf"


def credential_issued(
    learner_id: str,
    partner_id: str,
    offering_id: str | None = None,
    ects: float = 5,
    eqf_level: int = 6,
    skill_uris: tuple[str, ...] = (),
    **changes: Any,
) -> CredentialIssued:
    credential_id = new_id("cred")
    fields: dict[str, Any] = {
        "credential_id": credential_id,
        "learner_id": learner_id,
        "offering_id": offering_id or new_id(f"off-{partner_id}"),
        "awarding_partner_id": partner_id,
        "issuing_partner_id": "nordhavn",
        "issuer_did": "did:web:issuance.nordhavn.example.eu",
        "issued_at": dt.datetime.now(dt.UTC),
        "achievement": AchievementSummary(
            title={"en": f"Module at {partner_id}"},
            ects=ects,
            eqf_level=eqf_level,
            skill_uris=skill_uris,
            stackability=Stackability.STACKABLE,
        ),
        "status": StatusListEntry(
            status_list_url="https://issuance.nordhavn.example.eu/status/revocation/1",
            status_list_index=int(uuid.uuid4().int % 131072),
        ),
        "credential_url": f"https://issuance.nordhavn.example.eu/credentials/{credential_id}",
        **changes,
    }
    return CredentialIssued(**fields)


def stacked_issued(
    learner_id: str, pathway_id: str, components: tuple[str, ...], ects: float
) -> CredentialIssued:
    """The stacked credential issuance issues for a completed pathway."""
    template = credential_issued(learner_id, "vallombra", ects=ects)
    return CredentialIssued.model_validate(
        {
            **template.model_dump(),
            "offering_id": None,
            "pathway_id": pathway_id,
            "component_credential_ids": components,
        }
    )


def credential_revoked(issued: CredentialIssued) -> CredentialRevoked:
    return CredentialRevoked(
        credential_id=issued.credential_id,
        learner_id=issued.learner_id,
        awarding_partner_id=issued.awarding_partner_id,
        reason=RevocationReason.RESULT_SUPERSEDED,
        detail="Grade corrected after review.",
        revoked_at=dt.datetime.now(dt.UTC),
    )


def credential_suspended(issued: CredentialIssued) -> CredentialSuspended:
    return CredentialSuspended(
        credential_id=issued.credential_id,
        learner_id=issued.learner_id,
        awarding_partner_id=issued.awarding_partner_id,
        detail="Under review by the exam board.",
        suspended_at=dt.datetime.now(dt.UTC),
    )


def credential_reinstated(issued: CredentialIssued) -> CredentialReinstated:
    return CredentialReinstated(
        credential_id=issued.credential_id,
        learner_id=issued.learner_id,
        awarding_partner_id=issued.awarding_partner_id,
        reinstated_at=dt.datetime.now(dt.UTC),
    )


def pathway_defined(owner: str, **criteria: Any) -> PathwayDefined:
    return PathwayDefined(
        pathway_id=new_id("pth"),
        version=1,
        owner_partner_id=owner,
        title={"en": "Responsible AI (test)"},
        description={"en": "Stacked from modules at several partners."},
        criteria=PathwayCriteria(
            **({"min_ects": 15, "min_eqf_level": 6, "min_partners": 2} | criteria)
        ),
        defined_at=dt.datetime.now(dt.UTC),
    )


def of_type(records: list[Record], name: str, subject: str, key: str | None = None) -> list[Record]:
    ce_type = f"eu.alliance.{name}.v1"
    return [
        r
        for r in records
        if header(r, "ce_type") == ce_type
        and header(r, "ce_subject") == subject
        and (key is None or r.key == key.encode())
    ]


@dataclass
class Alliance(ServiceUnderTest):
    offsets_at_start: dict[str, dict[int, int]]

    async def issuance_sends(self, *envelopes: CloudEvent) -> None:
        """As the issuance service; then waits until recognition has applied them."""
        async with PartnerSystem(self.bootstrap, service_signer("issuance")) as issuance:
            for envelope in envelopes:
                await issuance.send(CREDENTIALS, envelope)
        await wait_until_caught_up(self.bootstrap, self.consumer, CREDENTIALS)

    async def issue(self, *events: BaseModel) -> None:
        await self.issuance_sends(*(signed_event(service_signer("issuance"), e) for e in events))

    async def partner_publishes(self, partner_id: str, event: BaseModel) -> None:
        topic = spec_for_model(type(event)).topic
        async with PartnerSystem(self.bootstrap, demo_signer(partner_id)) as system:
            await system.publish(event)
        await wait_until_caught_up(self.bootstrap, self.consumer, topic)

    async def define(self, definition: PathwayDefined) -> None:
        await self.partner_publishes(definition.owner_partner_id, definition)

    async def events(
        self, topic: str, name: str, subject: str, key: str, count: int = 1
    ) -> list[Record]:
        """The `name` events about `subject` for `key` published since the service started,
        once at least `count` are there."""
        deadline = time.monotonic() + 30
        while True:
            records = of_type(await self._read_since_start(topic), name, subject, key)
            if len(records) >= count:
                return records
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {count} {name} on {topic}")
            await asyncio.sleep(0.3)

    async def _read_since_start(self, topic: str) -> list[Record]:
        # The shared broker's log outlives test runs; reading only what came after this
        # service started keeps the wait independent of its length.
        consumer = AIOKafkaConsumer(
            **kafka_connection(), bootstrap_servers=self.bootstrap, enable_auto_commit=False
        )
        await consumer.start()
        try:
            starts = self.offsets_at_start[topic]
            assigned = [TopicPartition(topic, p) for p in starts]
            consumer.assign(assigned)
            for tp in assigned:
                consumer.seek(tp, starts[tp.partition])
            ends = await consumer.end_offsets(assigned)
            records: list[Record] = []
            while [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(batch)
            return records
        finally:
            await consumer.stop()

    async def recorded(self, ce_type_name: str, key: str) -> int:
        """How many events of this type for `key` the service wrote to its outbox."""
        dsn = driver_dsn(self.service.env["DATABASE_URL"])
        conn = await asyncpg.connect(dsn)
        try:
            count = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE event_type = $1 AND aggregate_id = $2",
                f"eu.alliance.{ce_type_name}.v1",
                key,
            )
        finally:
            await conn.close()
        return int(count)


@pytest.fixture
async def alliance(infra: Infrastructure, service_process: ServiceFactory) -> Alliance:
    service = await service_process("recognition", CONSUMER_MAX_ATTEMPTS="3", **SHORT_RETRIES)
    bootstrap = infra.kafka_bootstrap_servers
    offsets = {
        t: await end_offsets(bootstrap, t) for t in (PATHWAY_DEFINITIONS, PATHWAYS, RECOGNITIONS)
    }
    service.start()
    alliance = Alliance(infra, service, offsets)
    # A fresh consumer group reads every topic from the start and re-evaluates every
    # learner of earlier runs on every pathway; begin once it has caught up (the time this
    # takes grows with the shared test broker's log).
    for topic in (CREDENTIALS, OFFERINGS, PATHWAY_DEFINITIONS):
        await wait_until_caught_up(alliance.bootstrap, alliance.consumer, topic, timeout_s=180)
    return alliance


def learner(subject: str) -> str:
    return learner_id_for(ISSUER, subject)
