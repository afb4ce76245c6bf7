"""The CLR 2.0 stacked credential and the status list index allocation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.issuance.domain import Credential
from services.issuance.repository import Credentials
from services.issuance.tables import IssuanceTable
from shared.clock import utc_now
from shared.credentials import (
    Organisation,
    build_microcredential,
    canonicalize,
    canonicalize_reference,
    did_key_verification_method,
    sign_credential,
    verify_credential,
)
from shared.credentials.bench import sample_data
from shared.credentials.clr import ClrData, build_clr
from shared.credentials.did import public_key_from_did_key
from shared.db.engine import session_factory


def test_a_clr_stacks_the_signed_components_with_their_associations() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    method = did_key_verification_method(key.public_key())
    components = [
        sign_credential(
            build_microcredential(
                replace(sample_data(n), achievement_id=f"https://issuer.example/achievements/{n}")
            ),
            key,
            method,
            "2026-01-01T00:00:00Z",
        )
        for n in (1, 2)
    ]
    issuer = method.split("#")[0]
    clr = build_clr(
        ClrData(
            credential_id="https://issuer.example/credentials/cred-stacked",
            achievement_id="https://issuer.example/pathways/pth-responsible-ai",
            issuer=Organisation(issuer, "Nordhavn", "DK"),
            awarding_body=Organisation("did:web:issuer.example:partners:vallombra", "UdV", "IT"),
            learner_id="lrn-abcd1234",
            title="Responsible AI",
            description="Two stacked micro-credentials.",
            criteria="Complete the pathway.",
            valid_from="2026-02-01T00:00:00Z",
            ects=6,
            components=components,
            status_list_credential="https://issuer.example/status/nordhavn/revocation",
            status_list_index=7,
        )
    )
    subject = clr["credentialSubject"]
    assert subject["verifiableCredential"] == components  # as issued, proofs intact
    assert [a["id"] for a in subject["achievement"]] == [
        "https://issuer.example/pathways/pth-responsible-ai",
        "https://issuer.example/achievements/1",
        "https://issuer.example/achievements/2",
    ]
    assert {(a["sourceId"], a["associationType"]) for a in subject["association"]} == {
        (f"https://issuer.example/achievements/{n}", kind)
        for n in (1, 2)
        for kind in ("isPartOf", "isChildOf")
    }
    # Nothing is dropped by JSON-LD, and the library's canonical form is pyld's.
    assert canonicalize(clr) == canonicalize_reference(clr)
    signed = sign_credential(clr, key, method, "2026-02-01T00:00:00Z")
    assert verify_credential(signed, public_key_from_did_key).verified
    signed["credentialSubject"]["verifiableCredential"][0]["name"] = "Changed"
    assert not verify_credential(signed, public_key_from_did_key).verified


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'issuance.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(IssuanceTable.metadata.create_all)
    yield engine
    await engine.dispose()


async def test_status_list_indexes_are_random_and_never_reused(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    drawn = []
    async with sessions() as session:
        credentials = Credentials(session)
        for n in range(40):
            index = await credentials.free_status_index("nordhavn")
            assert index not in drawn
            drawn.append(index)
            await credentials.add(_credential(f"cred-test-{n:04d}", index))
        # Another issuer's list is independent of this one.
        await credentials.free_status_index("valdemora")
    assert all(0 <= index < 131_072 for index in drawn)
    assert drawn != sorted(drawn)  # not handed out in issuance order


def _credential(credential_id: str, index: int) -> Credential:
    return Credential(
        credential_id=credential_id,
        basis="vc-api",
        issuer_partner_id="nordhavn",
        awarding_partner_id="nordhavn",
        status_list_index=index,
        document="{}",
        issued_at=utc_now(),
    )
