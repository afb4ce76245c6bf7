"""The learner's wallet page and an offer as a page: what they show, in the learner's
language, escaped, and only to the learner whose credentials they are."""

from __future__ import annotations

import httpx
import pytest
from markupsafe import escape

from tests.catalogue.helpers import bearer, staff_of
from tests.gateway.fake_issuance import TITLE
from tests.gateway.offer_support import EXPIRES_AT, OfferingIssuance
from tests.observability.browser import Element, parse

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HTML = {"Accept": "text/html"}


@pytest.fixture
def issuance() -> OfferingIssuance:
    return OfferingIssuance()


def _links(page: Element) -> dict[str, str]:
    return {a.text: a.attrs["href"] for a in page.walk() if a.tag == "a"}


def _terms(root: Element) -> dict[str, str]:
    """Each term of the lists in `root` with the description after it."""
    items = [element for element in root.walk() if element.tag in ("dt", "dd")]
    return {term.text: value.text for term, value in zip(items[::2], items[1::2], strict=True)}


async def test_the_offer_page_shows_the_qr_code_the_link_the_code_and_the_expiry(
    gateway: httpx.AsyncClient, issuance: OfferingIssuance
) -> None:
    credential_id = issuance.issue("ada")
    answer = await gateway.post(
        f"/me/credentials/{credential_id}/offer", headers={**bearer("ada"), **HTML}
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-store"
    assert "script-src" not in answer.headers["content-security-policy"]
    assert answer.headers["content-language"] == "en"
    offer = issuance.offers[-1]
    page = parse(answer.text)
    main = next(element for element in page.walk() if element.tag == "main")
    assert _links(main) == {
        "On this device: open the offer in your wallet app": offer["offer_link"]
    }
    assert offer["offer_link"].startswith("openid-credential-offer://?credential_offer=")
    assert _terms(main)["Transaction code"] == "492817"
    [time] = [element for element in page.walk() if element.tag == "time"]
    assert time.attrs["datetime"] == EXPIRES_AT.isoformat()
    assert time.text == "2026-07-01 09:30 UTC"
    for instruction in ("Scan this code with your wallet app.", "asks for it", "works once"):
        assert instruction in main.text, instruction
    assert len([element for element in page.walk() if element.tag == "svg"]) == 1
    assert "<script" not in answer.text


async def test_json_stays_the_default(
    gateway: httpx.AsyncClient, issuance: OfferingIssuance
) -> None:
    credential_id = issuance.issue("ada")
    path = f"/me/credentials/{credential_id}/offer"
    for accept in (None, "*/*", "application/json", "application/json, text/html;q=0.5"):
        headers = bearer("ada") | ({"Accept": accept} if accept else {})
        answer = await gateway.post(path, headers=headers)
        assert answer.status_code == 201, answer.text
        assert answer.headers["content-type"] == "application/json", accept
        offer = answer.json()
        assert set(offer) == {
            "credential_offer", "offer_link", "interaction_url", "tx_code", "expires_at",
            "qr_code",
        }  # fmt: skip
        assert offer["offer_link"] == issuance.offers[-1]["offer_link"]
        assert offer["qr_code"].startswith("data:image/svg+xml")
    # What a browser sends prefers the page.
    answer = await gateway.post(path, headers=bearer("ada") | {"Accept": BROWSER_ACCEPT})
    assert answer.headers["content-type"].startswith("text/html")


async def test_what_issuance_answers_is_escaped_on_the_page(
    gateway: httpx.AsyncClient, issuance: OfferingIssuance
) -> None:
    issuance.tx_code = '<b id="x">49</b>'
    issuance.url_suffix = '&next="><script>alert(1)</script>'
    credential_id = issuance.issue("ada")
    answer = await gateway.post(
        f"/me/credentials/{credential_id}/offer", headers={**bearer("ada"), **HTML}
    )
    assert answer.status_code == 201, answer.text
    assert "<script" not in answer.text
    assert '<b id="x">' not in answer.text
    assert escape(issuance.tx_code) in answer.text
    page = parse(answer.text)
    assert not [element for element in page.walk() if element.tag in ("b", "script")]
    codes = [element for element in page.walk() if element.has_class("tx-code")]
    assert [code.text for code in codes] == [issuance.tx_code]


async def test_an_offer_page_is_only_for_the_credentials_learner(
    gateway: httpx.AsyncClient, issuance: OfferingIssuance
) -> None:
    credential_id = issuance.issue("ada")
    path = f"/me/credentials/{credential_id}/offer"
    anonymous = await gateway.post(path, headers=HTML)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    other = await gateway.post(path, headers={**bearer("grace"), **HTML})
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    assert (await gateway.post(path, headers={**staff_of("rheinfeld"), **HTML})).status_code == 403
    assert issuance.offers == []


async def test_the_wallet_page_lists_the_learners_credentials_and_what_each_can_do(
    gateway: httpx.AsyncClient, issuance: OfferingIssuance
) -> None:
    valid = issuance.issue("ada")
    revoked = issuance.issue("ada")
    issuance.statuses[revoked] = "revoked"
    theirs = issuance.issue("grace")
    answer = await gateway.get("/me/wallet", headers=bearer("ada") | {"Accept": BROWSER_ACCEPT})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-store"
    assert "<script" not in answer.text
    page = parse(answer.text)
    sections = {element.attrs["id"]: element for element in page.walk() if element.tag == "section"}
    assert set(sections) == {valid, revoked}
    assert theirs not in answer.text
    facts = _terms(sections[valid])
    assert TITLE in sections[valid].text
    assert "Status: valid" in sections[valid].text
    assert facts == {
        "Date of issue": "2026-06-30",
        "Take it into your wallet (a QR code and a link)":
            f"POST /me/credentials/{valid}/offer (Accept: text/html)",
        "Share it through a public link": f"POST /me/credentials/{valid}/share",
        "Download it as issued (signed JSON-LD)": f"GET /me/credentials/{valid}",
        "Export it for Europass": f"GET /me/credentials/{valid}/elm",
    }  # fmt: skip
    assert "Status: revoked" in sections[revoked].text
    assert "cannot be taken into a wallet" in sections[revoked].text
    assert set(_terms(sections[revoked])) == {
        "Date of issue", "Share it through a public link", "Download it as issued (signed JSON-LD)"
    }  # fmt: skip


async def test_the_wallet_page_speaks_the_learners_language(
    gateway: httpx.AsyncClient, issuance: OfferingIssuance
) -> None:
    credential_id = issuance.issue("ada")
    for headers, query in (({"Accept-Language": "de-DE, en;q=0.5"}, ""), ({}, "?lang=de")):
        answer = await gateway.get(f"/me/wallet{query}", headers=bearer("ada") | headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-language"] == "de"
        page = parse(answer.text)
        html_element = next(element for element in page.walk() if element.tag == "html")
        assert html_element.attrs["lang"] == "de"
        text = html_element.text
        for german in ("Meine Nachweise", "Status: gültig", "In Ihre Wallet übernehmen"):
            assert german in text, german
        assert "Take it into your wallet" not in text
        # The title is in the only language the credential's summary carries, marked so.
        [title] = [element for element in page.walk() if element.tag == "h2"]
        assert (title.text, title.attrs["lang"]) == (TITLE, "en")
    offer = await gateway.post(
        f"/me/credentials/{credential_id}/offer?lang=de", headers=bearer("ada") | HTML
    )
    assert _terms(parse(offer.text))["Transaktionscode"] == "492817"


async def test_the_wallet_page_is_only_for_a_learner(
    gateway: httpx.AsyncClient, issuance: OfferingIssuance
) -> None:
    issuance.issue("ada")
    assert (await gateway.get("/me/wallet", headers=HTML)).status_code == 401
    assert (await gateway.get("/me/wallet", headers=staff_of("rheinfeld"))).status_code == 403
    refused = await gateway.get(
        "/me/wallet", headers=bearer("ada") | {"Accept": "application/json"}
    )
    assert refused.status_code == 406
    assert refused.headers["content-type"] == "application/problem+json"
    empty = await gateway.get("/me/wallet", headers=bearer("grace"))
    assert empty.status_code == 200
    assert "You hold no credentials yet." in parse(empty.text).text
