"""What the share page and PDF tests share: a gateway over the stand-in issuance, and a
micro-credential that carries two languages and every optional EU element."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.gateway.bootstrap import bootstrap
from services.gateway.settings import GatewaySettings
from shared.credentials import (
    Concept,
    LearningOutcome,
    MicroCredentialData,
    Organisation,
    Translation,
    build_microcredential,
)
from shared.db.migrate import upgrade
from tests.catalogue.helpers import bearer
from tests.gateway.fake_issuance import BASE, KEYS, STATUS_LIST, FakeIssuance, learner

PUBLIC = "https://wallet.example"
TITLE_EN = "Power electronics for renewables"
TITLE_DE = "Leistungselektronik für erneuerbare Energien"
DESCRIPTION_DE = "Umrichter und Antriebe für Wind und Sonne."
OUTCOME = "Size a converter for a wind turbine."
OUTCOME_DE = "Einen Umrichter für eine Windkraftanlage auslegen."
PREREQUISITES = "Basic circuit theory"
PREREQUISITES_DE = "Grundlagen der Schaltungstechnik"
NAME = "Ada Lovelace"


def multilingual(
    subject: str,
    index: int,
    *,
    title: str = TITLE_EN,
    title_de: str = TITLE_DE,
    learner_name: str | None = NAME,
    outcomes: Sequence[LearningOutcome] = (LearningOutcome(OUTCOME),),
    prerequisites_de: str | None = None,
) -> str:
    """A signed micro-credential in English and German (its outcomes and prerequisites in
    English only unless given), naming (hashed) its learner."""
    data = MicroCredentialData(
        credential_id=f"{BASE}/credentials/cred-{uuid.uuid4().hex}",
        achievement_id=f"{BASE}/achievements/off-rheinfeld-power-electronics",
        issuer=Organisation(KEYS.did("nordhavn"), "Nordhavn University of Technology", "DK",
                            "Denmark"),
        awarding_body=Organisation(KEYS.did("rheinfeld"), "Technische Hochschule Rheinfeld",
                                   "DE", "Germany"),
        learner_id=learner(subject),
        learner_name=learner_name,
        title=title,
        description="Converters and drives for wind and solar power.",
        language="en",
        valid_from="2026-06-30T12:00:00Z",
        learning_outcomes=outcomes,
        ects=5,
        eqf_level=6,
        assessment_type=Concept("http://data.europa.eu/snb/assessment/project", "Project work",
                                code="project_work"),
        participation_form=Concept("http://data.europa.eu/snb/mode/blended", "Blended",
                                   code="blended"),
        quality_assurance=Concept("http://data.europa.eu/snb/qa/iqa",
                                  "Institutional quality assurance",
                                  code="institutional_quality_assurance"),
        grade="1,7",
        grade_scale="de-1-5",
        supervision=Concept("http://data.europa.eu/snb/supervision/s",
                            "Supervised online or onsite with identity verification",
                            code="supervised_with_identity_verification"),
        stackability=Concept("http://data.europa.eu/snb/stackability/s",
                             "Integrated, stackable towards another credential",
                             code="stackable"),
        prerequisites=PREREQUISITES,
        prerequisites_translations={"de": prerequisites_de} if prerequisites_de else {},
        further_information="https://rheinfeld.example/power-electronics",
        activity_start="2026-04-01",
        activity_end="2026-06-30",
        translations=[Translation("de", title_de, DESCRIPTION_DE)],
        status_list_credential=STATUS_LIST,
        status_list_index=index,
    )  # fmt: skip
    return json.dumps(KEYS.sign("nordhavn", build_microcredential(data), data.valid_from))


def hold(issuance: FakeIssuance, subject: str, document: str) -> str:
    """Gives `subject` the credential `document` in the stand-in issuance; its id."""
    credential_id = str(json.loads(document)["id"]).rsplit("/", 1)[1]
    issuance.documents[credential_id] = (learner(subject), document)
    return credential_id


async def gateway_app(issuance: FakeIssuance, folder: Path) -> FastAPI:
    url = f"sqlite+aiosqlite:///{folder / 'gateway.db'}"
    await asyncio.to_thread(upgrade, "gateway", url)
    settings = GatewaySettings(database_url=url, public_base_url=PUBLIC)
    return bootstrap(settings, httpx.MockTransport(issuance.handle))


@asynccontextmanager
async def gateway_client(issuance: FakeIssuance, folder: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = await gateway_app(issuance, folder)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=PUBLIC) as client:
        yield client


async def share(
    gateway: httpx.AsyncClient, subject: str, credential_id: str, **options: object
) -> str:
    made = await gateway.post(
        f"/me/credentials/{credential_id}/share", headers=bearer(subject), json=options or None
    )
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token
