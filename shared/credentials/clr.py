"""Comprehensive Learner Record 2.0 `ClrCredential`: a stacked credential for a pathway.

The `ClrSubject` holds the component credentials exactly as issued (their own proofs
intact, so each can still be verified on its own), the achievements they and the pathway
stand for, and `association`s saying each component achievement is part of, and a child
of, the pathway achievement. The learner is identified as in the components: salted hashes.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.credentials.loader import CLR_V2P0, OB_V3P0, OB_V3P0_EXTENSIONS, VC_V2
from shared.credentials.microcredential import (
    Organisation,
    identity_object,
    json_number,
    profile_of,
    signed_text,
)
from shared.credentials.status_list import status_list_entry

CLR_SCHEMA = (
    "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
)
ASSOCIATIONS = ("isPartOf", "isChildOf")


@dataclass(frozen=True)
class ClrData:
    credential_id: str
    achievement_id: str  # the pathway's achievement
    issuer: Organisation
    awarding_body: Organisation
    learner_id: str
    title: str
    description: str
    criteria: str
    valid_from: str
    ects: float
    components: Sequence[dict[str, Any]]  # signed credentials, as issued
    salt: str | None = None
    status_list_credential: str | None = None
    status_list_index: int | None = None
    include_schema: bool = True


def build_clr(data: ClrData) -> dict[str, Any]:
    """The unsigned `ClrCredential` stacking `data.components`."""
    if not data.components:
        raise ValueError("a stacked credential needs at least one component")
    if (data.status_list_credential is None) != (data.status_list_index is None):
        raise ValueError("status_list_credential and status_list_index go together")
    salt = data.salt or secrets.token_hex(16)
    # As in the micro-credential: the country once per organisation node.
    same_body = data.awarding_body.id == data.issuer.id
    creator = profile_of(data.awarding_body, with_address=not same_body)
    pathway: dict[str, Any] = {
        "id": data.achievement_id,
        "type": ["Achievement"],
        "name": signed_text(data.title),
        "description": signed_text(data.description),
        "criteria": {"narrative": signed_text(data.criteria)},
        "creator": creator,
        "creditsAvailable": json_number(data.ects),
    }
    achievements = [pathway]
    associations = []
    for component in data.components:
        achievement = component["credentialSubject"]["achievement"]
        achievements.append(achievement)
        associations += [
            {
                "type": ["Association"],
                "associationType": kind,
                "sourceId": achievement["id"],
                "targetId": data.achievement_id,
            }
            for kind in ASSOCIATIONS
        ]
    issuer = profile_of(data.issuer, with_address=True)
    contexts = [VC_V2, CLR_V2P0, OB_V3P0]
    if data.include_schema:
        contexts.append(OB_V3P0_EXTENSIONS)
    credential: dict[str, Any] = {
        "@context": contexts,
        "id": data.credential_id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": issuer,
        "validFrom": data.valid_from,
        "name": signed_text(data.title),
        "credentialSubject": {
            "type": ["ClrSubject"],
            "identifier": [identity_object(data.learner_id, "identifier", salt)],
            "verifiableCredential": list(data.components),
            "achievement": achievements,
            "association": associations,
        },
    }
    if data.status_list_credential is not None and data.status_list_index is not None:
        credential["credentialStatus"] = status_list_entry(
            data.status_list_credential, data.status_list_index
        )
    if data.include_schema:
        credential["credentialSchema"] = [
            {"id": CLR_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}
        ]
    return credential
