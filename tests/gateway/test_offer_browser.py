"""A phone can scan what the offer page shows: headless Debian Chromium renders the page the
gateway answers to `POST /me/credentials/{id}/offer` with `Accept: text/html` (saved to a
file, as a learner saves it with curl: the page needs nothing else), takes a screenshot, and
an independent QR decoder (zxing-cpp) reads the offer's interaction URL back from the pixels."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import zxingcpp
from PIL import Image

from tests.catalogue.helpers import bearer
from tests.gateway.offer_support import OfferingIssuance
from tests.gateway.test_pages_browser import _screenshot


@pytest.fixture
def issuance() -> OfferingIssuance:
    return OfferingIssuance()


async def test_the_qr_code_on_the_offer_page_reads_back_as_the_interaction_url(
    gateway: httpx.AsyncClient, issuance: OfferingIssuance, tmp_path: Path
) -> None:
    credential_id = issuance.issue("ada")
    answer = await gateway.post(
        f"/me/credentials/{credential_id}/offer",
        headers=bearer("ada") | {"Accept": "text/html"},
    )
    assert answer.status_code == 201, answer.text
    page = tmp_path / "offer.html"
    page.write_text(answer.text, "utf-8")
    screenshot = tmp_path / "offer.png"
    _screenshot(page.as_uri(), screenshot)

    with Image.open(screenshot) as image:
        found = zxingcpp.read_barcodes(
            image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
        )
    assert [code.text for code in found] == [issuance.offers[-1]["interaction_url"]]
