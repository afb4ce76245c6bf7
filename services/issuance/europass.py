"""Europass: a micro-credential as an ELM v3 credential in the EDC profile, sealed with JAdES
by the partner that issued it, for the learner or for whoever holds the credential.

The seal is made here because only issuance holds the partners' keys: the gateway asks and
passes the sealed export on. Each partner's seal is a P-256 key with its X.509 certificate,
`seals/<partner>.pem` and `seals/<partner>.crt` inside the credential keys folder (so a
deployment mounts them with the credential keys, and the committed demo ones are refused
outside a local alliance like them). The demo certificates are self-signed
(`python -m shared.keygen ID OUT.pem --seal NAME --country CC`); shared/credentials/jades.py
says what a partner needs for an eIDAS seal Europass accepts.

The seal is the issuer's, as in the EDC, where the credential's `issuer` seals it: the
partner that signed the Open Badges original and that the export names as `issuer`; the
awarding body is named inside it. Only a valid credential is exported: the export carries
no status entry, so a sealed copy of a revoked or suspended credential would look valid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from services.issuance import application
from services.issuance.api import CredentialPath
from services.issuance.domain import Credential
from services.issuance.unit_of_work import IssuanceUnitOfWork
from shared.auth import Learner
from shared.clock import utc_now
from shared.credentials.elm import ElmExportError, to_elm
from shared.credentials.jades import JADES_MEDIA_TYPE, seal
from shared.db.uow import UnitOfWorkFactory
from shared.problems import Problem, problem_responses

SEALS_FOLDER = "seals"
_SEALED: dict[int | str, dict[str, Any]] = {
    200: {"content": {JADES_MEDIA_TYPE: {}}, "description": "The sealed ELM credential"}
}


@dataclass(frozen=True)
class _Seal:
    key: EllipticCurvePrivateKey
    certificate: x509.Certificate


class PartnerSeals:
    """The partners' seal keys, held by issuance; nothing here hands a key out."""

    def __init__(self, seals: dict[str, _Seal]) -> None:
        self._seals = seals

    @classmethod
    def load(cls, credential_keys_dir: Path) -> PartnerSeals:
        folder = credential_keys_dir / SEALS_FOLDER
        seals = {}
        for path in sorted(folder.glob("*.pem")) if folder.is_dir() else []:
            key = load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, EllipticCurvePrivateKey):
                raise ValueError(f"{path.name} does not hold an elliptic-curve seal key")
            certificate = x509.load_pem_x509_certificate(path.with_suffix(".crt").read_bytes())
            if certificate.public_key() != key.public_key():
                raise ValueError(f"{path.stem}'s seal certificate is not for its key")
            seals[path.stem] = _Seal(key, certificate)
        return cls(seals)

    def sealed_export(self, credential: Credential) -> dict[str, Any]:
        """The credential's ELM export, sealed now by its issuer."""
        if credential.status != "valid":
            raise Problem(409, "Conflict", f"The credential is {credential.status}.")
        found = self._seals.get(credential.issuer_partner_id)
        if found is None:
            raise Problem(
                503, "Service Unavailable", "No Europass seal is held for the credential's issuer."
            )
        try:
            export = to_elm(json.loads(credential.document))
        except ElmExportError as exc:
            raise Problem(422, "Not exportable to Europass", str(exc)) from exc
        return seal(export, found.key, found.certificate, utc_now())


def build_europass_router(
    units_of_work: UnitOfWorkFactory[IssuanceUnitOfWork], seals: PartnerSeals
) -> APIRouter:
    router = APIRouter()

    def answer(credential: Credential) -> JSONResponse:
        return JSONResponse(seals.sealed_export(credential), media_type=JADES_MEDIA_TYPE)

    @router.get(
        "/credentials/{credential_id}/elm",
        tags=["Europass"],
        summary="One of the caller's micro-credentials for Europass: ELM v3, sealed (JAdES)",
        response_class=JSONResponse,
        responses={**_SEALED, **problem_responses(401, 403, 404, 409, 422, 503)},
    )
    async def my_elm(credential_id: CredentialPath, caller: Learner) -> JSONResponse:
        async with units_of_work() as uow:
            credential = await application.learners_credential(
                uow, credential_id, str(caller.learner_id)
            )
        return answer(credential)

    @router.post(
        "/credentials/{credential_id}/elm",
        tags=["Europass"],
        summary="A micro-credential for Europass, for its holder: ELM v3, sealed (JAdES)",
        description="The body is the credential exactly as issued: holding it is the right to "
        "its export (a share link's), as for its current status.",
        response_class=JSONResponse,
        responses={**_SEALED, **problem_responses(404, 409, 422, 503)},
    )
    async def held_elm(
        credential_id: CredentialPath,
        held: Annotated[dict[str, Any], Body(description="The credential, as issued")],
    ) -> JSONResponse:
        async with units_of_work() as uow:
            credential = await application.held_credential(uow, credential_id, held)
        return answer(credential)

    return router
