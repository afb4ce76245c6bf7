"""Partners publish, replace and withdraw offerings through the catalogue's API.

The real catalogue process on the real broker and PostgreSQL: each change goes out as an
event through the outbox and comes back through the catalogue's own consumer.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.catalogue.helpers import bearer, offering_draft, staff_of
from tests.conftest import ServiceFactory
from tests.support.builders import new_offering_id

DEADLINE_S = 10.0


async def until(
    client: httpx.AsyncClient, path: str, shown: Callable[[dict[str, Any]], bool]
) -> tuple[dict[str, Any], float]:
    """Polls `path` until its answer is `shown`; returns it and how long that took."""
    started = time.monotonic()
    while True:
        response = await client.get(path)
        if response.status_code == 200 and shown(response.json()):
            return response.json(), time.monotonic() - started
        assert time.monotonic() - started < DEADLINE_S, f"{path}: {response.text}"
        await asyncio.sleep(0.05)


async def test_a_partner_publishes_updates_and_withdraws_its_offering(
    service_process: ServiceFactory,
) -> None:
    catalogue = await service_process("catalogue")
    catalogue.start()
    offering_id = new_offering_id("valdemora")
    draft = offering_draft("valdemora", offering_id=offering_id)
    async with httpx.AsyncClient(base_url=catalogue.url, timeout=10) as api:
        published = await api.post("/offerings", json=draft, headers=staff_of("valdemora"))
        assert published.status_code == 202, published.text
        assert published.headers["location"] == f"{catalogue.url}/offerings/{offering_id}"
        assert published.json()["version"] == 1
        assert published.json()["event_type"] == "eu.alliance.offering.published.v1"
        view, _ = await until(api, f"/offerings/{offering_id}", lambda v: v["version"] == 1)
        assert view["status"] == "published"

        # Before the consumer could apply it, a second update already gets the next version.
        bigger = draft | {"capacity": 99}
        first = await api.put(
            f"/offerings/{offering_id}", json=bigger, headers=staff_of("valdemora")
        )
        second = await api.put(
            f"/offerings/{offering_id}", json=draft, headers=staff_of("valdemora")
        )
        assert (first.status_code, second.status_code) == (202, 202), second.text
        assert (first.json()["version"], second.json()["version"]) == (2, 3)
        assert second.headers["etag"] == '"3"'
        view, took = await until(api, f"/offerings/{offering_id}", lambda v: v["version"] == 3)
        assert view["offering"]["capacity"] == draft["capacity"]
        assert took < 2.0, f"the update took {took:.2f}s to show"

        stale = await api.put(
            f"/offerings/{offering_id}",
            json=draft,
            headers=staff_of("valdemora") | {"If-Match": '"2"'},
        )
        assert stale.status_code == 412, stale.text

        withdrawn = await api.delete(
            f"/offerings/{offering_id}",
            params={"reason": "Cancelled."},
            headers=staff_of("valdemora"),
        )
        assert withdrawn.status_code == 202, withdrawn.text
        assert withdrawn.json()["version"] == 4
        view, took = await until(
            api, f"/offerings/{offering_id}", lambda v: v["status"] == "withdrawn"
        )
        assert took < 2.0, f"the withdrawal took {took:.2f}s to show"
        search = await api.get("/offerings", params={"partner": "valdemora"})
        assert offering_id not in {o["offering_id"] for o in search.json()["items"]}

        again = await api.put(
            f"/offerings/{offering_id}", json=draft, headers=staff_of("valdemora")
        )
        assert again.status_code == 409, again.text
        assert again.headers["content-type"] == "application/problem+json"


async def test_partners_change_only_their_own_offerings(service_process: ServiceFactory) -> None:
    catalogue = await service_process("catalogue")
    catalogue.start()
    offering_id = new_offering_id("rheinfeld")
    draft = offering_draft("rheinfeld", offering_id=offering_id)
    async with httpx.AsyncClient(base_url=catalogue.url, timeout=10) as api:
        path = f"/offerings/{offering_id}"
        assert (await api.post("/offerings", json=draft)).status_code == 401
        learner = bearer("ada", "learner")
        assert (await api.post("/offerings", json=draft, headers=learner)).status_code == 403
        as_other = await api.post("/offerings", json=draft, headers=staff_of("nordhavn"))
        assert as_other.status_code == 403, as_other.text
        unknown = offering_draft("rheinfeld") | {"partner_id": "acme"}
        assert (
            await api.post("/offerings", json=unknown, headers=staff_of("acme"))
        ).status_code == 403

        mine = staff_of("rheinfeld")
        assert (await api.post("/offerings", json=draft, headers=mine)).status_code == 202
        duplicate = await api.post("/offerings", json=draft, headers=mine)
        assert duplicate.status_code == 409, duplicate.text

        hijack = draft | {"partner_id": "nordhavn"}
        assert (await api.put(path, json=hijack, headers=staff_of("nordhavn"))).status_code == 403
        assert (await api.put(path, json=draft, headers=staff_of("nordhavn"))).status_code == 403
        assert (await api.delete(path, headers=staff_of("nordhavn"))).status_code == 403

        missing = new_offering_id("rheinfeld")
        other_path = f"/offerings/{missing}"
        body = draft | {"offering_id": missing}
        assert (await api.put(other_path, json=body, headers=mine)).status_code == 404
        assert (await api.put(other_path, json=draft, headers=mine)).status_code == 422
        assert (await api.delete(other_path, headers=mine)).status_code == 404

        view, _ = await until(api, path, lambda v: v["version"] == 1)
        assert view["partner_id"] == "rheinfeld"


async def test_concurrent_updates_each_get_their_own_version(
    service_process: ServiceFactory,
) -> None:
    catalogue = await service_process("catalogue")
    catalogue.start()
    offering_id = new_offering_id("vallombra")
    draft = offering_draft("vallombra", offering_id=offering_id)
    mine = staff_of("vallombra")
    async with httpx.AsyncClient(base_url=catalogue.url, timeout=20) as api:
        assert (await api.post("/offerings", json=draft, headers=mine)).status_code == 202
        answers = await asyncio.gather(
            *(
                api.put(f"/offerings/{offering_id}", json=draft | {"capacity": n}, headers=mine)
                for n in range(10, 18)
            )
        )
        assert [a.status_code for a in answers] == [202] * 8, [a.text for a in answers]
        versions = sorted(a.json()["version"] for a in answers)
        assert versions == list(range(2, 10))
        last = next(a for a in answers if a.json()["version"] == 9)
        capacity = 10 + answers.index(last)
        view, _ = await until(api, f"/offerings/{offering_id}", lambda v: v["version"] == 9)
        assert view["offering"]["capacity"] == capacity


async def test_offerings_are_found_by_field_of_study_and_skill(
    service_process: ServiceFactory,
) -> None:
    catalogue = await service_process("catalogue")
    catalogue.start()
    # Every catalogue reads the shared broker from the start: only this run's words are unique.
    unique = uuid.uuid4().hex[:12]
    skill = f"http://data.europa.eu/esco/skill/{unique}-aaaa-4bbb-8ccc-123456789abc"
    draft = offering_draft("lindeveld", fields_of_study=("0532", f"Hydrology {unique}"))
    draft["learning_outcomes"][0]["esco_skill_uri"] = skill
    async with httpx.AsyncClient(base_url=catalogue.url, timeout=10) as api:
        posted = await api.post("/offerings", json=draft, headers=staff_of("lindeveld"))
        assert posted.status_code == 202, posted.text

        def only_this(page: dict[str, Any]) -> bool:
            return [o["offering_id"] for o in page["items"]] == [draft["offering_id"]]

        await until(api, f"/offerings?field=hydrology+{unique}", only_this)
        # Case-insensitive, and any part of the URI will do.
        by_skill = await api.get("/offerings", params={"skill": f"SKILL/{unique.upper()}"})
        assert only_this(by_skill.json()), by_skill.text
        for miss in ({"field": unique, "skill": "ffff0000"}, {"field": f"ethics {unique}"}):
            assert (await api.get("/offerings", params=miss)).json()["total"] == 0, miss
