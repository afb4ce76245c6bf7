"""An issuance service stand-in for the gateway's wallet tests: real signed credentials,
DID documents and a status list (demo keys), served as issuance's API serves them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from services.issuance.keys import CredentialKeys
from shared.auth import learner_id_for
from shared.credentials import (
    Concept,
    LearningOutcome,
    MicroCredentialData,
    Organisation,
    build_microcredential,
    build_status_list_credential,
    new_status_list,
    set_status,
)
from shared.registry import REPO_ROOT
from tests.catalogue.helpers import ISSUER

# Where the gateway expects issuance by default (GatewaySettings.issuance_url).
BASE = "http://127.0.0.1:8004"
STATUS_LIST = f"{BASE}/status/nordhavn/revocation"
KEYS = CredentialKeys.load(REPO_ROOT / "alliance" / "demo-secrets" / "credentials", BASE)
TITLE = "Power electronics for renewables"


def signed_credential(learner_id: str, index: int, status_list: str = STATUS_LIST) -> str:
    """A rheinfeld micro-credential issued by nordhavn by mandate, as issuance stores it."""
    credential_id = f"cred-{uuid.uuid4().hex}"
    data = MicroCredentialData(
        credential_id=f"{BASE}/credentials/{credential_id}",
        achievement_id=f"{BASE}/achievements/off-rheinfeld-power-electronics",
        issuer=Organisation(KEYS.did("nordhavn"), "Nordhavn University of Technology", "DK",
                            "Denmark"),
        awarding_body=Organisation(KEYS.did("rheinfeld"), "Technische Hochschule Rheinfeld",
                                   "DE", "Germany"),
        learner_id=learner_id,
        title=TITLE,
        description="Converters & drives for wind and solar <in practice>.",
        language="en",
        valid_from="2026-06-30T12:00:00Z",
        learning_outcomes=[
            LearningOutcome("Size a converter for a wind turbine."),
            LearningOutcome("Simulate a grid-tied inverter."),
        ],
        ects=5,
        eqf_level=6,
        assessment_type=Concept("http://data.europa.eu/snb/assessment/project", "Project work"),
        participation_form=Concept("http://data.europa.eu/snb/mode/blended", "Blended"),
        quality_assurance=Concept("http://data.europa.eu/snb/qa/iqa", "Institutional QA"),
        grade="1,7",
        status_list_credential=status_list,
        status_list_index=index,
    )  # fmt: skip
    signed = KEYS.sign("nordhavn", build_microcredential(data), data.valid_from)
    return json.dumps(signed)


def learner(subject: str) -> str:
    return learner_id_for(ISSUER, subject)


@dataclass
class FakeIssuance:
    """Issuance's learner, DID and status list routes over a few stored credentials."""

    documents: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (learner, doc)
    revoked: set[int] = field(default_factory=set)
    # Suspended badges: their one status entry is the revocation, so only issuance knows.
    suspended: set[str] = field(default_factory=set)
    seen: list[httpx.Request] = field(default_factory=list)
    _next_index: int = 100

    def issue(self, subject: str, status_list: str = STATUS_LIST) -> str:
        self._next_index += 1
        document = signed_credential(learner(subject), self._next_index, status_list)
        credential_id = str(json.loads(document)["id"]).rsplit("/", 1)[1]
        self.documents[credential_id] = (learner(subject), document)
        return credential_id

    def index_of(self, credential_id: str) -> int:
        credential = json.loads(self.documents[credential_id][1])
        return int(credential["credentialStatus"]["statusListIndex"])

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path
        caller = _learner_of(request)
        if request.method == "POST" and path.endswith("/current-status"):
            return self._current_status(path.split("/")[2], json.loads(request.content))
        if path == "/credentials":
            items = [_summary(id_) for id_, (owner, _) in self.documents.items() if owner == caller]
            return httpx.Response(200, json={"items": items})
        if path.startswith("/credentials/"):
            held = self.documents.get(path.rsplit("/", 1)[1])
            if held is None or held[0] != caller:
                return httpx.Response(
                    404, json={"type": "about:blank", "title": "Not found", "status": 404,
                               "detail": "You hold no such credential."},
                )  # fmt: skip
            return httpx.Response(
                200, content=held[1].encode(), headers={"content-type": "application/ld+json"}
            )
        if path.startswith("/partners/") and path.endswith("/did.json"):
            return httpx.Response(200, json=KEYS.did_document(path.split("/")[2]))
        if path == "/status/nordhavn/revocation":
            bits = new_status_list()
            for index in self.revoked:
                set_status(bits, index)
            unsigned = build_status_list_credential(
                STATUS_LIST, KEYS.did("nordhavn"), "2026-06-30T12:00:00Z", bits
            )
            return httpx.Response(200, json=KEYS.sign("nordhavn", unsigned, "2026-06-30T12:00:00Z"))
        return httpx.Response(404, json={"title": "Not found", "status": 404})

    def _current_status(self, credential_id: str, held: Any) -> httpx.Response:
        """Issuance's answer to the holder of a credential, exactly as issued."""
        stored = self.documents.get(credential_id)
        if stored is None or json.loads(stored[1]) != held:
            return httpx.Response(404, json={"title": "Not found", "status": 404})
        revoked = self.index_of(credential_id) in self.revoked
        suspended = credential_id in self.suspended
        status = "revoked" if revoked else "suspended" if suspended else "valid"
        return httpx.Response(200, json={"credential_id": credential_id, "status": status})


def _learner_of(request: httpx.Request) -> str | None:
    """The learner a test token names (the fake trusts it: the gateway checked it)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return learner_id_for(ISSUER, str(claims["sub"]))


def _summary(credential_id: str) -> dict[str, Any]:
    return {
        "credential_id": credential_id,
        "kind": "offering",
        "offering_id": "off-rheinfeld-power-electronics",
        "pathway_id": None,
        "achievement": {
            "title": {"en": TITLE},
            "ects": 5,
            "eqf_level": 6,
            "stackability": "stackable",
        },
        "awarding_partner_id": "rheinfeld",
        "issuing_partner_id": "nordhavn",
        "issued_at": "2026-06-30T12:00:00Z",
        "status": "valid",
        "revoked_at": None,
        "url": f"{BASE}/credentials/{credential_id}",
    }
