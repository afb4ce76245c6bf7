"""The assessment service as a process, on the real broker and PostgreSQL.

Each test starts from the `alliance` fixture: a rheinfeld offering published by rheinfeld's
own system, and a learner's enrolment accepted by the enrolment service, both signed.
"""

from __future__ import annotations

import asyncpg

from shared.auth import learner_id_for
from shared.db.engine import driver_dsn
from shared.events import Grade, ResultRecorded, ResultSubmitted
from shared.events.topics import RESULTS
from shared.messaging.dead_letter import dead_letter_topic
from shared.partner_system import PartnerSystem, demo_signer
from shared.registry import SERVICE_URN
from tests.assessment.conftest import (
    ISSUER,
    TEACHER,
    Alliance,
    accepted_enrolment,
    new_id,
    partner_token,
    result_body,
    result_submitted,
    token,
)
from tests.support.kafka import Record, header, wait_for

RECORDED_TYPE = "eu.alliance.assessment.result_recorded.v1"


def _recorded(records: list[Record], result_id: str) -> list[Record]:
    return [
        r
        for r in records
        if header(r, "ce_type") == RECORDED_TYPE and header(r, "ce_subject") == result_id
    ]


async def recorded(alliance: Alliance, result_id: str) -> ResultRecorded:
    """The `result_recorded` for `result_id`, once the relay has published it."""
    records = await wait_for(
        alliance.bootstrap, RESULTS, lambda records: bool(_recorded(records, result_id))
    )
    record = _recorded(records, result_id)[0]
    assert header(record, "ce_source") == SERVICE_URN + "assessment"
    event = ResultRecorded.model_validate_json(record.value)
    # Keyed by the learner, so one learner's results stay in order.
    assert record.key == event.learner_id.encode()
    return event


async def submit(alliance: Alliance, partner_id: str, *events: ResultSubmitted) -> list[str]:
    """Publishes the events as `partner_id`'s own system; their CloudEvents ids."""
    async with PartnerSystem(alliance.bootstrap, demo_signer(partner_id)) as system:
        return [(await system.publish(event)).id for event in events]


async def dead_letters(alliance: Alliance, *event_ids: str) -> dict[str, Record]:
    records = await wait_for(
        alliance.bootstrap,
        dead_letter_topic(alliance.consumer),
        lambda records: set(event_ids) <= {header(r, "ce_id") for r in records},
    )
    return {str(header(r, "ce_id")): r for r in records if header(r, "ce_id") in event_ids}


async def recorded_in_outbox(alliance: Alliance, result_id: str) -> int:
    """How many `result_recorded` events the service wrote for `result_id`."""
    dsn = driver_dsn(alliance.service.env["DATABASE_URL"])
    conn = await asyncpg.connect(dsn)
    try:
        count = await conn.fetchval("SELECT count(*) FROM outbox WHERE subject = $1", result_id)
    finally:
        await conn.close()
    return int(count)


def same_result(recorded_event: ResultRecorded, submitted: ResultSubmitted) -> bool:
    return recorded_event.model_dump(exclude={"recorded_at"}) == submitted.model_dump(
        exclude={"submitted_at"}
    )


async def test_a_result_from_the_teaching_partners_system_is_recorded_seen_and_corrected(
    alliance: Alliance,
) -> None:
    submitted = result_submitted(alliance.enrolment)
    await submit(alliance, TEACHER, submitted)

    assert same_result(await recorded(alliance, submitted.result_id), submitted)
    async with alliance.api() as api:
        mine = await api.get("/results", headers=token(alliance.learner_subject))
        assert mine.status_code == 200, mine.text
        [item] = mine.json()["items"]
        assert item["result_id"] == submitted.result_id
        assert item["status"] == "current"
        assert item["grade"] == {"value": "1,7", "scheme": "de-1-5", "normalised": 82.5}
        one = f"/results/{submitted.result_id}"
        assert (await api.get(one, headers=token(alliance.learner_subject))).status_code == 200
        assert (await api.get(one, headers=partner_token(TEACHER))).status_code == 200
        # Anyone else is told there is no such result.
        assert (await api.get(one, headers=token(new_id("learner")))).status_code == 404
        assert (await api.get(one, headers=partner_token("nordhavn"))).status_code == 404
        assert (await api.get(one)).status_code == 401
        others = await api.get("/results", headers=token(new_id("learner")))
        assert others.json()["items"] == []

    # A correction is a new result naming the one it supersedes; the old one stays.
    correction = result_submitted(
        alliance.enrolment,
        grade=Grade(value="1,3", scheme="de-1-5", normalised=90.0),
        supersedes_result_id=submitted.result_id,
    )
    await submit(alliance, TEACHER, correction)

    corrected = await recorded(alliance, correction.result_id)
    assert corrected.supersedes_result_id == submitted.result_id
    assert same_result(corrected, correction)
    async with alliance.api() as api:
        mine = await api.get("/results", headers=token(alliance.learner_subject))
        by_id = {r["result_id"]: r for r in mine.json()["items"]}
        assert by_id[submitted.result_id]["status"] == "superseded"
        assert by_id[submitted.result_id]["superseded_by_result_id"] == correction.result_id
        assert by_id[submitted.result_id]["grade"]["value"] == "1,7"
        assert by_id[correction.result_id]["status"] == "current"
        # The superseded result cannot be corrected a second time.
        again = await api.post(
            "/results",
            json=result_body(alliance.enrolment, supersedes_result_id=submitted.result_id),
            headers=partner_token(TEACHER),
        )
        assert again.status_code == 409, again.text


async def test_a_result_submitted_by_a_partner_that_does_not_teach_the_offering_is_refused(
    alliance: Alliance,
) -> None:
    # nordhavn signs correctly as itself. Claiming to be rheinfeld is caught by the consumer
    # runtime before any handler runs (`unauthorised`: a partner speaks only for itself);
    # speaking for itself about rheinfeld's offering is caught by the assessment rules
    # (`rejected`: only the offering's partner records its results).
    posing = result_submitted(alliance.enrolment)
    as_itself = result_submitted(alliance.enrolment, partner_id="nordhavn")
    posing_id, as_itself_id = await submit(alliance, "nordhavn", posing, as_itself)

    parked = await dead_letters(alliance, posing_id, as_itself_id)
    assert header(parked[posing_id], "dlq_reason") == "unauthorised"
    assert header(parked[as_itself_id], "dlq_reason") == "rejected"
    assert "not_teaching_partner" in str(header(parked[as_itself_id], "dlq_detail"))
    for refused in (posing, as_itself):
        assert await recorded_in_outbox(alliance, refused.result_id) == 0
    async with alliance.api() as api:
        mine = await api.get("/results", headers=token(alliance.learner_subject))
        assert mine.json()["items"] == []


async def test_a_result_for_a_learner_not_enrolled_is_refused_and_an_early_one_waits(
    alliance: Alliance,
) -> None:
    withdrawn = await alliance.enrol()
    await alliance.withdraw(withdrawn)
    # An enrolment the service has not heard of yet may still be on its way: it waits.
    early = result_submitted(alliance.enrolment, enrolment_id=new_id("enr"))
    someone_else = result_submitted(
        alliance.enrolment, learner_id=learner_id_for(ISSUER, new_id("learner"))
    )
    after_withdrawal = result_submitted(withdrawn)
    _, someone_else_id, after_withdrawal_id = await submit(
        alliance, TEACHER, early, someone_else, after_withdrawal
    )

    parked = await dead_letters(alliance, someone_else_id, after_withdrawal_id)
    assert header(parked[someone_else_id], "dlq_reason") == "rejected"
    assert "not_enrolled" in str(header(parked[someone_else_id], "dlq_detail"))
    assert header(parked[after_withdrawal_id], "dlq_reason") == "rejected"
    assert "was withdrawn" in str(header(parked[after_withdrawal_id], "dlq_detail"))
    for refused in (early, someone_else, after_withdrawal):
        assert await recorded_in_outbox(alliance, refused.result_id) == 0

    # Once the late enrolment arrives, the waiting submission is recorded by itself.
    await alliance.announce(
        accepted_enrolment(early.offering_id, alliance.learner_subject).model_copy(
            update={"enrolment_id": early.enrolment_id}
        )
    )
    assert same_result(await recorded(alliance, early.result_id), early)


async def test_the_teaching_partner_records_results_through_the_api(alliance: Alliance) -> None:
    rheinfeld = partner_token(TEACHER)
    body = result_body(alliance.enrolment, result_id=new_id("res"))
    async with alliance.api() as api:
        first = await api.post("/results", json=body, headers=rheinfeld)
        assert first.status_code == 201, first.text
        assert first.json()["partner_id"] == TEACHER
        assert first.json()["status"] == "current"
        again = await api.post("/results", json=body, headers=rheinfeld)
        assert again.status_code == 201
        assert again.json() == first.json()
        event = await recorded(alliance, body["result_id"])
        assert event.model_dump(mode="json", exclude={"recorded_at"}, exclude_none=True) == {
            **body,
            "partner_id": TEACHER,
        }
        assert await recorded_in_outbox(alliance, body["result_id"]) == 1

        refusals = {
            "another partner": (
                partner_token("nordhavn"),
                result_body(alliance.enrolment),
                403,
            ),
            "a learner": (token(alliance.learner_subject), result_body(alliance.enrolment), 403),
            "no token": ({}, result_body(alliance.enrolment), 401),
            "same result_id, other content": (rheinfeld, {**body, "outcome": "failed"}, 409),
            "not a correction": (rheinfeld, result_body(alliance.enrolment), 409),
            "unknown enrolment": (
                rheinfeld,
                result_body(alliance.enrolment, enrolment_id=new_id("enr")),
                404,
            ),
            "unknown offering": (
                rheinfeld,
                result_body(alliance.enrolment, offering_id=new_id("off")),
                404,
            ),
            "a partner_id of its own choosing": (
                rheinfeld,
                {**result_body(alliance.enrolment), "partner_id": "nordhavn"},
                422,
            ),
            "no such outcome": (rheinfeld, result_body(alliance.enrolment, outcome="great"), 422),
            # Issuance could never sign it: refused here rather than recorded and then parked.
            "a grade with a NUL byte": (
                rheinfeld,
                result_body(alliance.enrolment, grade={"value": "1\u0000", "scheme": "de-1-5"}),
                422,
            ),
            "nothing to correct": (
                rheinfeld,
                result_body(alliance.enrolment, supersedes_result_id=new_id("res")),
                422,
            ),
        }
        for case, (headers, refused_body, status) in refusals.items():
            response = await api.post("/results", json=refused_body, headers=headers)
            assert response.status_code == status, f"{case}: {response.text}"
            assert response.headers["content-type"] == "application/problem+json", case

        withdrawn = await alliance.enrol()
        await alliance.withdraw(withdrawn)
        late = await api.post("/results", json=result_body(withdrawn), headers=rheinfeld)
        assert late.status_code == 409, late.text

        taught = await api.get(
            "/results",
            params={"offering_id": alliance.offering.offering_id},
            headers=rheinfeld,
        )
        assert [r["result_id"] for r in taught.json()["items"]] == [body["result_id"]]
        not_taught = await api.get(
            "/results",
            params={"offering_id": alliance.offering.offering_id},
            headers=partner_token("nordhavn"),
        )
        assert not_taught.status_code == 403
        theirs = await api.get("/results", headers=partner_token("nordhavn"))
        # Nordhavn sees only results of its own teaching (a shared broker may hold some from
        # earlier runs), never rheinfeld's.
        assert {r["partner_id"] for r in theirs.json()["items"]} <= {"nordhavn"}
        assert body["result_id"] not in {r["result_id"] for r in theirs.json()["items"]}
        learner = await api.get(
            f"/results/{body['result_id']}", headers=token(alliance.learner_subject)
        )
        assert learner.status_code == 200
