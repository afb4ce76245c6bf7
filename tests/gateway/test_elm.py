"""Europass on real processes: the learner's ELM export and a share link's, sealed by the
issuer in issuance, pass the EU's SHACL profile `EDC-generic-no-cv`; nobody else gets the
learner's, and a withdrawn link or a revoked credential gives none. Real broker and
PostgreSQL."""

from __future__ import annotations

import json

import httpx
import pytest
import rdflib
from cryptography.x509.oid import NameOID

from shared.credentials.elm import to_elm
from shared.credentials.jades import JADES_MEDIA_TYPE, verify_seal
from shared.registry import AllianceRegistry
from tests.conftest import ServiceFactory
from tests.credentials.test_elm import PROFILE, _shacl
from tests.gateway.test_wallet_with_issuance import hold_a_credential
from tests.issuance.conftest import OPERATOR, TEACHER, learner, staff, token
from tests.support.infra import Infrastructure


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(PROFILE, format="turtle")


def _exported(answer: httpx.Response, shapes: rdflib.Graph) -> dict[str, object]:
    """The sealed export's document, once the seal verifies and the profile accepts it."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == JADES_MEDIA_TYPE
    assert "attachment" in answer.headers["content-disposition"]
    sealed = verify_seal(json.loads(answer.content))
    conforms, violations, report = _shacl(sealed.document, shapes)
    assert conforms, (violations, report)
    return sealed.document


async def test_the_learners_and_the_share_links_europass_exports(
    infra: Infrastructure, service_process: ServiceFactory, shapes: rdflib.Graph
) -> None:
    holder = await hold_a_credential(infra, service_process)
    mine, theirs = token(holder.subject), token(learner()[0])
    path = f"/me/credentials/{holder.credential_id}"
    async with httpx.AsyncClient(base_url=holder.gateway.url, timeout=15) as wallet:
        as_issued = (await wallet.get(path, headers=mine)).json()
        exported = _exported(await wallet.get(f"{path}/elm", headers=mine), shapes)
        assert exported == to_elm(as_issued)

        assert (await wallet.get(f"{path}/elm", headers=theirs)).status_code == 404
        assert (await wallet.get(f"{path}/elm")).status_code == 401

        made = await wallet.post(f"{path}/share", headers=mine)
        assert made.status_code == 201, made.text
        shared = f"/shared/{made.json()['token']}"
        assert _exported(await wallet.get(f"{shared}/elm"), shapes) == exported

        # Issuance seals for whoever shows it the credential exactly as issued, no one else.
        async with httpx.AsyncClient(base_url=holder.issuance.url, timeout=15) as issuer:
            held = f"/credentials/{holder.credential_id}/elm"
            assert (await issuer.post(held, json=as_issued)).status_code == 200
            altered = {**as_issued, "name": "Something else"}
            assert (await issuer.post(held, json=altered)).status_code == 404
            # Sealed by the issuer, who signed the original: the operator of issuance.
            sealed = verify_seal((await issuer.post(held, json=as_issued)).json())
            assert as_issued["issuer"]["id"].endswith(f":partners:{OPERATOR}")
            [organisation] = sealed.certificate.subject.get_attributes_for_oid(
                NameOID.ORGANIZATION_NAME
            )
            assert organisation.value == AllianceRegistry.load().partners[OPERATOR].legal_name

            revoked = await issuer.post(
                f"/credentials/{holder.credential_id}/revoke",
                json={"reason": "misconduct"},
                headers=staff(TEACHER),
            )
            assert revoked.status_code == 200, revoked.text
        # A revoked credential is not exported: the export would carry no sign of it.
        assert (await wallet.get(f"{path}/elm", headers=mine)).status_code == 409
        assert (await wallet.get(f"{shared}/elm")).status_code == 409

        withdrawn = await wallet.delete(f"/me/shares/{made.json()['token']}", headers=mine)
        assert withdrawn.status_code == 200
        assert (await wallet.get(f"{shared}/elm")).status_code == 410
