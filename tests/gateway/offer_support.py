"""The stand-in issuance of the wallet tests, also making offers as issuance's
`POST /credentials/{id}/offers` does: for the caller's own valid credential only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from services.issuance.oid4vci import PRE_AUTHORIZED_GRANT, offer_link
from tests.gateway.fake_issuance import BASE, FakeIssuance, _learner_of

EXPIRES_AT = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)


@dataclass
class OfferingIssuance(FakeIssuance):
    tx_code: str = "492817"
    # Appended to the interaction URL (markup, to see that the pages escape it).
    url_suffix: str = ""
    # Credential id -> its status in the list, where not valid.
    statuses: dict[str, str] = field(default_factory=dict)
    offers: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if (
            request.method == "POST"
            and path.startswith("/credentials/")
            and path.endswith("/offers")
        ):
            return self._offer(request, path.split("/")[2])
        answer = super().handle(request)
        if path == "/credentials":
            listed = answer.json()
            for item in listed["items"]:
                item["status"] = self.statuses.get(item["credential_id"], "valid")
            return httpx.Response(200, json=listed)
        return answer

    def _offer(self, request: httpx.Request, credential_id: str) -> httpx.Response:
        held = self.documents.get(credential_id)
        if held is None or held[0] != _learner_of(request):
            return httpx.Response(404, json={"title": "Not found", "status": 404})
        if credential_id in self.statuses:
            return httpx.Response(409, json={"title": "Not offered", "status": 409})
        body = {
            "credential_issuer": BASE,
            "credential_configuration_ids": ["OpenBadgeCredential_ldp_vc"],
            "grants": {PRE_AUTHORIZED_GRANT: {
                "pre-authorized_code": uuid.uuid4().hex,
                "tx_code": {"input_mode": "numeric", "length": 6}}},
        }  # fmt: skip
        offer = {
            "credential_offer": body,
            "offer_link": offer_link(body),
            "interaction_url": f"{BASE}/interactions/{uuid.uuid4().hex}?iuv=1{self.url_suffix}",
            "tx_code": self.tx_code,
            "expires_at": EXPIRES_AT.isoformat(),
        }
        self.offers.append(offer)
        return httpx.Response(201, json=offer)
