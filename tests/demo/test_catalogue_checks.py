"""How the loader reads the catalogue: what counts as held, and a clear failure on time-out."""

from __future__ import annotations

import httpx
import pytest

from infra.demo import DemoError, held_versions, not_held, read_offerings, wait_until_listed

OFFERINGS = read_offerings()[:3]
IDS = [offering.offering_id for offering in OFFERINGS]


def _catalogue(versions: dict[str, int]) -> httpx.AsyncClient:
    """A catalogue API that holds `versions` and lists them all on one page."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/offerings":
            items = [{"offering_id": i, "version": v} for i, v in versions.items()]
            return httpx.Response(200, json={"items": items, "total": len(items)})
        offering_id = request.url.path.rsplit("/", 1)[-1]
        if offering_id not in versions:
            return httpx.Response(404, json={"title": "Offering not found"})
        return httpx.Response(200, json={"version": versions[offering_id]})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://catalogue")


async def test_only_offerings_missing_or_older_in_the_catalogue_are_to_publish() -> None:
    async with _catalogue({IDS[0]: 1, IDS[1]: 3}) as client:
        held = await held_versions(client, IDS)
    assert held == {IDS[0]: 1, IDS[1]: 3}
    assert [o.offering_id for o in not_held(OFFERINGS, held)] == [IDS[2]]
    newer_in_file = [OFFERINGS[0].model_copy(update={"version": 2})]
    assert not_held(newer_in_file, held) == newer_in_file


async def test_waiting_fails_naming_the_offerings_the_catalogue_does_not_list() -> None:
    async with _catalogue({IDS[0]: 1}) as client:
        with pytest.raises(DemoError, match="does not list 2 of the 3 demo offerings") as failed:
            await wait_until_listed(client, OFFERINGS, wait_s=0.2)
    assert IDS[1] in str(failed.value)
    assert IDS[2] in str(failed.value)


async def test_an_error_answer_from_the_catalogue_stops_the_load_with_it() -> None:
    def broken(_: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="database unavailable")

    transport = httpx.MockTransport(broken)
    async with httpx.AsyncClient(transport=transport, base_url="http://catalogue") as client:
        with pytest.raises(DemoError, match=r"answered 503 .*database unavailable"):
            await held_versions(client, IDS)
