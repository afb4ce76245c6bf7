"""The recognition service as a process, on the real broker and PostgreSQL: pathways followed
from signed credential events, the stacked credential's completion and its revocation, and
recognition requests decided by rules or by partner staff."""

from __future__ import annotations

import uuid
from typing import Any

from shared.events import PathwayCompleted, PathwayProgressed, RecognitionDecided
from shared.events.pathways import PathwayCompletionRevoked, PathwayDefined
from shared.events.recognition import RecognitionWithdrawn
from shared.events.topics import PATHWAY_DEFINITIONS, PATHWAYS, RECOGNITIONS
from shared.partner_system import signed_event
from tests.recognition.conftest import (
    SKILL,
    Alliance,
    credential_issued,
    credential_reinstated,
    credential_revoked,
    credential_suspended,
    learner,
    new_id,
    pathway_defined,
    service_signer,
    stacked_issued,
    staff,
    token,
)
from tests.support.builders import offering_published
from tests.support.kafka import header


async def test_credentials_at_three_partners_complete_a_pathway_once_and_revoking_one_revokes_it(
    alliance: Alliance,
) -> None:
    module = offering_published("valdemora")
    await alliance.partner_publishes("valdemora", module)
    # Only this test's offerings count, so learners of other tests (the broker's log is
    # replayed) make no progress on it.
    at_nordhavn, at_rheinfeld = new_id("off-nordhavn"), new_id("off-rheinfeld")
    definition = pathway_defined(
        "vallombra",
        required_offering_ids=(module.offering_id,),
        eligible_offering_ids=(at_nordhavn, at_rheinfeld),
    )
    await alliance.define(definition)
    pathway_id = definition.pathway_id
    subject = new_id("learner")
    learner_id = learner(subject)

    first = credential_issued(learner_id, "nordhavn", at_nordhavn)
    await alliance.issue(first)
    [progressed] = await alliance.events(PATHWAYS, "pathway.progressed", pathway_id, learner_id)
    assert PathwayProgressed.model_validate_json(progressed.value).counted_credential_ids == (
        first.credential_id,
    )
    async with alliance.api() as api:
        [mine] = [
            p
            for p in (await api.get("/progress", headers=token(subject))).json()
            if p["pathway_id"] == pathway_id
        ]
    assert mine["status"] == "in_progress"
    assert [c["credential_id"] for c in mine["counted"]] == [first.credential_id]
    assert mine["missing"][0] == "10 more ECTS at EQF 6 or above (5 of 15 earned)"
    assert any(module.offering_id in m or "valdemora" in m for m in mine["missing"])
    # Which offering at which partner would complete it: the required module at valdemora.
    assert mine["would_complete"][0]["offering_id"] == module.offering_id
    assert mine["would_complete"][0]["partner_id"] == "valdemora"
    assert mine["would_complete"][0]["why"] == "a required module"

    second = credential_issued(learner_id, "valdemora", offering_id=module.offering_id)
    third = credential_issued(learner_id, "rheinfeld", at_rheinfeld)
    third_envelope = signed_event(service_signer("issuance"), third)
    # The third credential is delivered twice (the same event id, as on a redelivery).
    await alliance.issuance_sends(
        signed_event(service_signer("issuance"), second), third_envelope, third_envelope
    )

    [completed] = await alliance.events(PATHWAYS, "pathway.completed", pathway_id, learner_id)
    assert header(completed, "ce_source") == "urn:alliance:service:recognition"
    completion = PathwayCompleted.model_validate_json(completed.value)
    components = {first.credential_id, second.credential_id, third.credential_id}
    assert set(completion.component_credential_ids) == components
    assert completion.ects_earned == 15
    assert completion.owner_partner_id == "vallombra"
    assert await alliance.recorded("pathway.completed", learner_id) == 1

    stacked = stacked_issued(learner_id, pathway_id, completion.component_credential_ids, 15)
    await alliance.issue(stacked)
    async with alliance.api() as api:
        progress = (await api.get(f"/progress/{pathway_id}", headers=token(subject))).json()
    assert progress["status"] == "credential_issued"
    assert progress["stacked_credential_id"] == stacked.credential_id
    assert progress["complete"] is True
    assert progress["would_complete"] == []

    # The required module is suspended: it does not count meanwhile, but the completion and
    # the stacked credential stand (a suspension can be lifted); reinstated, it counts again.
    await alliance.issue(credential_suspended(second))
    async with alliance.api() as api:
        progress = (await api.get(f"/progress/{pathway_id}", headers=token(subject))).json()
    assert progress["status"] == "credential_issued"
    assert progress["complete"] is False
    assert {c["credential_id"]: c["reason"] for c in progress["not_counted"]}[
        second.credential_id
    ] == "suspended by its awarding partner: it counts again once reinstated"
    await alliance.issue(credential_reinstated(second))
    async with alliance.api() as api:
        progress = (await api.get(f"/progress/{pathway_id}", headers=token(subject))).json()
    assert progress["complete"] is True
    assert second.credential_id in [c["credential_id"] for c in progress["counted"]]
    assert await alliance.recorded("pathway.completion_revoked", learner_id) == 0
    assert await alliance.recorded("pathway.completed", learner_id) == 1

    # The required module's result is corrected: its credential is revoked, the pathway is
    # no longer complete and the stacked credential has lost its basis.
    await alliance.issue(credential_revoked(second))
    [revoked] = await alliance.events(
        PATHWAYS, "pathway.completion_revoked", pathway_id, learner_id
    )
    revocation = PathwayCompletionRevoked.model_validate_json(revoked.value)
    assert revocation.stacked_credential_id == stacked.credential_id
    assert revocation.revoked_component_credential_ids == (second.credential_id,)
    assert second.credential_id in revocation.reason
    async with alliance.api() as api:
        progress = (await api.get(f"/progress/{pathway_id}", headers=token(subject))).json()
        other = (await api.get(f"/progress/{pathway_id}", headers=token(new_id("learner")))).json()
    assert progress["complete"] is False
    assert progress["status"] == "completion_revoked"
    assert second.credential_id in progress["notice"]
    assert {c["credential_id"]: c["reason"] for c in progress["not_counted"]} == {
        second.credential_id: "revoked (result_superseded)",
        stacked.credential_id: "a stacked credential does not count towards pathways",
    }
    # Nobody else sees this learner's credentials or progress.
    assert other["counted"] == []
    assert other["status"] == "in_progress"
    assert await alliance.recorded("pathway.completed", learner_id) == 1
    assert await alliance.recorded("pathway.completion_revoked", learner_id) == 1


async def test_recognition_is_decided_by_rules_or_by_the_recognising_partners_staff(
    alliance: Alliance,
) -> None:
    subject = new_id("learner")
    learner_id = learner(subject)
    matching = credential_issued(learner_id, "rheinfeld", skill_uris=(SKILL,))
    other = credential_issued(learner_id, "nordhavn", eqf_level=5)
    await alliance.issue(matching, other)
    rules = {
        "rules": [
            {
                "programme": "MSc Data Science",
                "programme_eqf_level": 6,
                "min_ects": 4,
                "skill_uris": [SKILL],
            }
        ]
    }
    async with alliance.api() as api:
        assert (
            await api.put("/recognition-rules/vallombra", json=rules, headers=staff("lindeveld"))
        ).status_code == 403
        published = await api.put(
            "/recognition-rules/vallombra", json=rules, headers=staff("vallombra")
        )
        assert published.status_code == 200, published.text
        assert (await api.get("/recognition-rules/vallombra")).json()["version"] == 1

        def ask(credential_id: str) -> dict[str, str]:
            return {
                "credential_id": credential_id,
                "recognising_partner_id": "vallombra",
                "programme": "MSc Data Science",
            }

        automatic = await api.post(
            "/recognitions", json=ask(matching.credential_id), headers=token(subject)
        )
        assert automatic.status_code == 201, automatic.text
        assert automatic.json()["status"] == "recognised"
        assert automatic.json()["automatic"] is True
        pending = await api.post(
            "/recognitions", json=ask(other.credential_id), headers=token(subject)
        )
        assert pending.status_code == 201, pending.text
        assert pending.json()["status"] == "pending"
        assert (
            pending.json()["reasons"][0] == "EQF 5 is below the minimum EQF 6 for MSc Data Science"
        )
        pending_id = pending.json()["recognition_id"]
        # Only one's own credential, and not the same request twice.
        stranger = new_id("learner")
        assert (
            await api.post("/recognitions", json=ask(other.credential_id), headers=token(stranger))
        ).status_code == 404
        assert (
            await api.post("/recognitions", json=ask(other.credential_id), headers=token(subject))
        ).status_code == 409

        # The recognising partner's staff see the pending request; others see nothing of it.
        waiting = await api.get("/recognitions?status=pending", headers=staff("vallombra"))
        assert [r["recognition_id"] for r in waiting.json()] == [pending_id]
        assert (
            await api.get("/recognitions?status=pending", headers=staff("lindeveld"))
        ).json() == []
        assert (
            await api.get(f"/recognitions/{pending_id}", headers=token(stranger))
        ).status_code == 404
        assert (await api.get("/recognitions", headers=token(stranger))).json() == []
        decision = {"decision": "recognised", "reasons": ["Equivalent to our elective DS-104."]}
        url = f"/recognitions/{pending_id}/decision"
        assert (await api.post(url, json=decision, headers=staff("lindeveld"))).status_code == 404
        assert (await api.post(url, json=decision, headers=token(subject))).status_code == 403
        # A decision is a person's: the recognising partner's own system may not make it.
        system = token("registry", "partner_system", "vallombra")
        assert (await api.post(url, json=decision, headers=system)).status_code == 403
        # Suspended by its awarding partner, the credential is neither decided on nor asked
        # for again until it is reinstated.
        await alliance.issue(credential_suspended(other))
        on_hold = await api.post(url, json=decision, headers=staff("vallombra"))
        assert on_hold.status_code == 409, on_hold.text
        assert "suspended" in on_hold.json()["detail"]
        elsewhere = {**ask(other.credential_id), "programme": "MSc Statistics"}
        asked = await api.post("/recognitions", json=elsewhere, headers=token(subject))
        assert (asked.status_code, asked.json()["title"]) == (409, "Credential suspended")
        await alliance.issue(credential_reinstated(other))
        decided = await api.post(url, json=decision, headers=staff("vallombra"))
        assert decided.status_code == 200, decided.text
        assert decided.json()["status"] == "recognised"
        assert decided.json()["automatic"] is False
        assert (await api.post(url, json=decision, headers=staff("vallombra"))).status_code == 409
        mine = (await api.get("/recognitions", headers=token(subject))).json()
        assert {r["status"] for r in mine} == {"recognised"}

    decisions = {
        RecognitionDecided.model_validate_json(
            r.value
        ).recognition_id: RecognitionDecided.model_validate_json(r.value)
        for r in await alliance.events(RECOGNITIONS, "recognition.decided", pending_id, learner_id)
        + await alliance.events(
            RECOGNITIONS, "recognition.decided", automatic.json()["recognition_id"], learner_id
        )
    }
    assert decisions[pending_id].automatic is False
    assert decisions[pending_id].reasons == ("Equivalent to our elective DS-104.",)
    assert decisions[automatic.json()["recognition_id"]].automatic is True

    # The credential behind the automatic recognition is revoked: the recognition is withdrawn.
    await alliance.issue(credential_revoked(matching))
    automatic_id = automatic.json()["recognition_id"]
    [withdrawn] = await alliance.events(
        RECOGNITIONS, "recognition.withdrawn", automatic_id, learner_id
    )
    assert (
        matching.credential_id
        in RecognitionWithdrawn.model_validate_json(withdrawn.value).reasons[0]
    )
    async with alliance.api() as api:
        seen = (await api.get(f"/recognitions/{automatic_id}", headers=token(subject))).json()
    assert seen["status"] == "withdrawn"


async def test_a_partner_defines_and_changes_its_pathway_through_the_api(
    alliance: Alliance,
) -> None:
    pathway_id = f"pth-api-{uuid.uuid4().hex[:12]}"
    subject = new_id("learner")
    learner_id = learner(subject)
    held = (
        credential_issued(learner_id, "vallombra", ects=6),
        credential_issued(learner_id, "lindeveld", ects=6),
    )
    criteria: dict[str, Any] = {
        "min_ects": 12,
        "min_eqf_level": 5,
        "min_partners": 2,
        # Only this test's credentials count (the broker's log holds other tests' learners).
        "eligible_offering_ids": [c.offering_id for c in held],
    }
    draft: dict[str, Any] = {
        "pathway_id": pathway_id,
        "owner_partner_id": "vallombra",
        "title": {"en": "Digital Health (test)", "it": "Salute digitale (test)"},
        "description": {"en": "Stacked from digital health modules."},
        "criteria": criteria,
    }
    await alliance.issue(*held)
    async with alliance.api() as api:
        assert (
            await api.post("/pathways", json=draft, headers=staff("nordhavn"))
        ).status_code == 403
        assert (await api.post("/pathways", json=draft, headers=token(subject))).status_code == 403
        created = await api.post("/pathways", json=draft, headers=staff("vallombra"))
        assert created.status_code == 201, created.text
        assert created.json()["version"] == 1
        # Learners are judged when recognition applies the announced definition, on the
        # newest version it knows: this learner completes version 1 before it changes.
        await alliance.events(PATHWAYS, "pathway.completed", pathway_id, learner_id)
        assert (
            await api.post("/pathways", json=draft, headers=staff("vallombra"))
        ).status_code == 409
        changed = {**draft, "criteria": {**criteria, "min_ects": 20}}
        stale = await api.put(
            f"/pathways/{pathway_id}",
            json=changed,
            headers={**staff("vallombra"), "If-Match": '"7"'},
        )
        assert stale.status_code == 412
        updated = await api.put(
            f"/pathways/{pathway_id}",
            json=changed,
            headers={**staff("vallombra"), "If-Match": '"1"'},
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["version"] == 2
        listed = {p["pathway_id"]: p for p in (await api.get("/pathways")).json()}
        assert listed[pathway_id]["version"] == 2

    # Both versions were announced as the recognition service, and learners re-evaluated:
    # complete under version 1, and a completion stays tied to the version it was reached under.
    announced = await alliance.events(
        PATHWAY_DEFINITIONS, "pathway.defined", pathway_id, pathway_id, 2
    )
    assert [PathwayDefined.model_validate_json(r.value).version for r in announced] == [1, 2]
    assert {header(r, "ce_source") for r in announced} == {"urn:alliance:service:recognition"}
    [completed] = await alliance.events(PATHWAYS, "pathway.completed", pathway_id, learner_id)
    assert PathwayCompleted.model_validate_json(completed.value).pathway_version == 1
    progressed = await alliance.events(PATHWAYS, "pathway.progressed", pathway_id, learner_id, 2)
    last = PathwayProgressed.model_validate_json(progressed[-1].value)
    assert (last.pathway_version, last.ects_required) == (2, 20)
    async with alliance.api() as api:
        progress = (await api.get(f"/progress/{pathway_id}", headers=token(subject))).json()
    assert progress["pathway_version"] == 2
    assert progress["status"] == "complete"
