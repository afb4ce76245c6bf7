"""`make demo`'s driver against real service processes on the real broker: a new learner's
journey through the gateway, and the files it writes verify offline."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra import demo_journey
from infra.demo_journey import (
    AFTER_FOUNDATION,
    FOUNDATION,
    LAST,
    Alliance,
    Received,
    main as demo_main,
    run_journey,
    verify_output,
)
from shared.credentials import verify_cli
from tests.e2e.conftest import Alliance as Services
from tests.support.infra import Infrastructure


async def test_the_demo_journey_writes_credentials_that_verify_offline(
    alliance: Services,
    infra: Infrastructure,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    endpoints = Alliance(
        gateway=alliance.gateway,
        catalogue=alliance.url("catalogue"),
        recognition=alliance.url("recognition"),
        issuance=alliance.url("issuance"),
        bootstrap_servers=infra.kafka_bootstrap_servers,
    )
    # `make demo`'s own entry point, pointed at these processes instead of the run profile's;
    # what its journey received is kept for the checks below.
    journeys: list[Received] = []

    async def journey(*args: Any, **kwargs: Any) -> Received:
        journeys.append(await run_journey(*args, **kwargs))
        return journeys[-1]

    monkeypatch.setattr(Alliance, "run_profile", lambda environ: endpoints)
    monkeypatch.setattr(demo_journey, "run_journey", journey)
    code = await asyncio.to_thread(demo_main, ["--output", str(tmp_path)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    [received] = journeys
    # Its summary: one line per file, each verified.
    assert f"What the learner received is in {tmp_path}/" in printed.out
    assert printed.out.count("✓ ") == 6, printed.out
    assert "✗" not in printed.out

    offerings = {
        json.loads(p.read_bytes())["credentialSubject"]["achievement"]["id"].rsplit("/", 1)[1]
        for p in received.credentials
    }
    assert offerings == {FOUNDATION, *AFTER_FOUNDATION, LAST}
    [clr] = received.clr
    stacked = json.loads(clr.read_bytes())
    assert "ClrCredential" in stacked["type"]
    assert len(stacked["credentialSubject"]["verifiableCredential"]) == 4
    assert {p.name for p in received.did_documents} >= {"nordhavn.json", "valdemora.json",
                                                        "rheinfeld.json"}  # fmt: skip
    assert [p.name for p in received.status_lists] == ["nordhavn-revocation.json"]

    # The foundation course's credential, as the independent wallet received it: the same
    # credential, issued again to the wallet's fresh did:key.
    taken = json.loads(received.wallet.read_bytes())
    [as_issued] = [
        c for p in received.credentials
        if (c := json.loads(p.read_bytes()))["id"] == taken["id"]
    ]  # fmt: skip
    assert as_issued["credentialSubject"]["achievement"]["id"].endswith(f"/{FOUNDATION}")
    assert received.wallet.parent == tmp_path / "wallet"
    assert received.holder.startswith("did:key:z6Mk")
    assert taken["credentialSubject"].get("id") == received.holder
    assert as_issued["credentialSubject"].get("id") != received.holder
    assert taken["credentialStatus"] == as_issued["credentialStatus"]
    assert (
        f"wallet/{received.wallet.name} issued to its holder {received.holder}, verified offline"
        in printed.out
    ), printed.out

    host = urlsplit(endpoints.issuance).netloc
    assert "python -m shared.credentials.verify_cli" in (tmp_path / "README.md").read_text()
    outcomes = await asyncio.to_thread(verify_output, received, host)
    assert len(outcomes) == 6
    assert all(o.verified for o in outcomes), outcomes
    # Without the issuing host, the same files verify but for trust: the check bites.
    untrusted = await asyncio.to_thread(
        verify_cli.main,
        [str(clr), *(a for p in received.did_documents for a in ("--did-document", str(p))),
         *(a for p in received.status_lists for a in ("--status-list", str(p)))],
    )  # fmt: skip
    assert untrusted == 1

    async with alliance.client() as anyone:
        page = await anyone.get(received.share_page)
        assert page.status_code == 200
        assert stacked["name"] in page.text
        report = (await anyone.get(received.share_verify)).json()
        assert report["verified"] is True, report
