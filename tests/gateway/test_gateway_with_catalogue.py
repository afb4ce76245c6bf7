"""Learners find through the gateway what a partner published through the catalogue's API.

The real catalogue and gateway processes on the real broker and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from tests.catalogue.helpers import offering_draft, staff_of
from tests.conftest import ServiceFactory
from tests.support.builders import new_offering_id
from tests.support.services import free_port

DEADLINE_S = 10.0


async def test_a_published_offering_is_found_through_the_gateway(
    service_process: ServiceFactory,
) -> None:
    catalogue = await service_process("catalogue")
    catalogue.start()
    gateway = await service_process(
        "gateway",
        CATALOGUE_URL=catalogue.url,
        # Nothing listens there: the gateway must say so, not fail.
        ENROLMENT_URL=f"http://127.0.0.1:{free_port()}",
        DEV_IDP_ENABLED="true",
    )
    gateway.start()
    offering_id = new_offering_id("nordhavn")
    # Every catalogue reads the shared broker from the start: only this run's words are unique.
    title = f"Offshore wind farm operations {uuid.uuid4().hex[:10]}"
    draft = offering_draft("nordhavn", offering_id, title={"en": title})
    async with (
        httpx.AsyncClient(base_url=catalogue.url, timeout=10) as partner_api,
        httpx.AsyncClient(base_url=gateway.url, timeout=10) as learner_api,
    ):
        posted = await partner_api.post("/offerings", json=draft, headers=staff_of("nordhavn"))
        assert posted.status_code == 202, posted.text

        started = time.monotonic()
        while True:
            page = await learner_api.get(
                "/offerings", params={"q": title.lower(), "partner": "nordhavn"}
            )
            assert page.status_code == 200, page.text
            if [o["offering_id"] for o in page.json()["items"]] == [offering_id]:
                break
            assert time.monotonic() - started < DEADLINE_S, page.text
            await asyncio.sleep(0.05)
        one = await learner_api.get(f"/offerings/{offering_id}")
        assert one.json()["offering"]["title"] == {"en": title}

        hijack = await partner_api.put(
            f"/offerings/{offering_id}", json=draft, headers=staff_of("valdemora")
        )
        assert hijack.status_code == 403, hijack.text

        missing = await learner_api.get(f"/offerings/{new_offering_id('nordhavn')}")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"

        token = await learner_api.post("/dev-idp/token", json={"subject": "ada"})
        learner = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert (await learner_api.get("/me", headers=learner)).json()["role"] == "learner"
        down = await learner_api.get("/me/enrolments", headers=learner)
        assert down.status_code == 503, down.text
        assert down.json()["title"] == "Service Unavailable"
