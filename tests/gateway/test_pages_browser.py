"""The share page as a real browser shows it: headless Debian Chromium renders the page in
English and in German (the credential's other language), and saves a screenshot of each under
the test's tmp dir."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from services.gateway.bootstrap import bootstrap
from services.gateway.settings import GatewaySettings
from shared.db.migrate import upgrade
from tests.catalogue.helpers import bearer
from tests.gateway.fake_issuance import FakeIssuance
from tests.gateway.pages_support import OUTCOME, TITLE_DE, TITLE_EN, hold, multilingual
from tests.observability.browser import Element, chromium, rendered
from tests.support.services import free_port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FakeIssuance]]:
    """The gateway over HTTP on a loopback port (a browser cannot use an ASGI transport)."""
    issuance = FakeIssuance()
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    upgrade("gateway", url)
    base = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(database_url=url, public_base_url=base)
    app = bootstrap(settings, httpx.MockTransport(issuance.handle))
    port = int(base.rsplit(":", 1)[1])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.05)
        assert server.started, "the gateway did not start"
        yield base, issuance
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _screenshot(url: str, path: Path) -> None:
    result = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={path.parent / ('profile-' + path.stem)}", "--hide-scrollbars",
         "--window-size=900,1600", f"--screenshot={path}", url],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"no screenshot of {url}"


def _first(root: Element, tag: str) -> Element:
    return next(element for element in root.walk() if element.tag == tag)


def _facts(root: Element) -> dict[str, str]:
    """The page's labelled facts: each term of its list with the description after it."""
    items = _first(root, "dl").children
    return {term.text: value.text for term, value in zip(items[::2], items[1::2], strict=True)}


def test_the_page_in_english_and_in_the_credentials_other_language(
    served: tuple[str, FakeIssuance], tmp_path: Path
) -> None:
    base, issuance = served
    credential_id = hold(issuance, "ada", multilingual("ada", 401))
    with httpx.Client(base_url=base) as client:
        made = client.post(f"/me/credentials/{credential_id}/share", headers=bearer("ada"))
        assert made.status_code == 201, made.text
    page = made.json()["page_url"]

    english = rendered(f"{page}?lang=en")
    assert _first(english, "html").attrs["lang"] == "en"
    assert _first(english, "h1").text == TITLE_EN
    text = _first(english, "main").text
    for fact in ("Status: valid", "Learning outcomes", OUTCOME, "Other languages: Deutsch"):
        assert fact in text, fact
    facts = _facts(english)
    assert facts["Date of issue"] == "2026-06-30"
    assert facts["Type of assessment"] == "Project work"
    assert TITLE_DE not in text

    german = rendered(f"{page}?lang=de")
    assert _first(german, "html").attrs["lang"] == "de"
    assert _first(german, "h1").text == TITLE_DE
    text = _first(german, "main").text
    for fact in ("Status: gültig", "Lernergebnisse", "Andere Sprachen: English"):
        assert fact in text, fact
    facts = _facts(german)
    assert facts["Ausstellungsdatum"] == "2026-06-30"
    assert facts["Art der Prüfung"] == "Projektarbeit"
    for english_text in (TITLE_EN, "Date of issue", "Learning outcomes", "Type of assessment"):
        assert english_text not in text, english_text

    for language in ("en", "de"):
        _screenshot(f"{page}?lang={language}", tmp_path / f"share-page-{language}.png")
