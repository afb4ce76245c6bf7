"""The demo loader against a real catalogue process and the real broker: loads once, only once.

The test broker's log outlives test runs, and a fresh catalogue reads it from the start, so
the demo offerings get ids unique to this run: what the catalogue then holds is this run's
doing alone.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import yaml

from infra.demo import DEMO_OFFERINGS, catalogue_listing, load_demo, read_offerings
from shared.events import OfferingSnapshot
from tests.conftest import ServiceFactory
from tests.support.infra import Infrastructure
from tests.support.kafka import header, read_all


def _renamed(offering: dict[str, Any], suffix: str) -> dict[str, Any]:
    renamed = {**offering, "offering_id": f"{offering['offering_id']}-{suffix}"}
    if "prerequisites" in offering:
        required = offering["prerequisites"].get("required_offering_ids", [])
        renamed["prerequisites"] = {
            **offering["prerequisites"],
            "required_offering_ids": [f"{id_}-{suffix}" for id_ in required],
        }
    return renamed


def _demo_file_for_this_run(tmp_path: Path) -> Path:
    raw = yaml.safe_load(DEMO_OFFERINGS.read_text(encoding="utf-8"))
    suffix = uuid.uuid4().hex[:8]
    path = tmp_path / "offerings.yaml"
    offerings = [_renamed(offering, suffix) for offering in raw["offerings"]]
    path.write_text(yaml.safe_dump({"offerings": offerings}, allow_unicode=True), "utf-8")
    return path


async def test_loading_twice_lists_every_offering_once_and_publishes_only_once(
    infra: Infrastructure, service_process: ServiceFactory, tmp_path: Path
) -> None:
    catalogue = await service_process("catalogue")
    catalogue.start()
    path = _demo_file_for_this_run(tmp_path)
    expected = {o.offering_id: o for o in read_offerings(path)}
    kafka = infra.kafka_bootstrap_servers

    first = await load_demo(kafka, catalogue.url, path, wait_s=30)
    second = await load_demo(kafka, catalogue.url, path, wait_s=30)

    assert set(first.published) == set(expected), catalogue.log_tail()
    assert second.published == ()
    async with httpx.AsyncClient(base_url=catalogue.url) as client:
        listing = [x for x in await catalogue_listing(client) if x["offering_id"] in expected]
    assert Counter(x["offering_id"] for x in listing) == Counter(set(expected))
    for item in listing:
        assert item["status"] == "published"
        assert OfferingSnapshot.model_validate(item["offering"]) == expected[item["offering_id"]]
    # On the broker: one event per offering, each signed by the partner that teaches it.
    records = [
        r
        for r in await read_all(kafka, "alliance.offerings")
        if header(r, "ce_subject") in expected
    ]
    assert Counter(header(r, "ce_subject") for r in records) == Counter(set(expected))
    for record in records:
        partner_id = expected[str(header(record, "ce_subject"))].partner_id
        assert header(record, "ce_source") == f"urn:alliance:partner:{partner_id}"
        assert record.key == str(header(record, "ce_subject")).encode()
