"""Enrolment's HTTP API: learners enrol and withdraw; partners see who enrolled with them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from services.enrolment import application
from services.enrolment.domain import Enrolment, EnrolmentStatus
from services.enrolment.unit_of_work import EnrolmentUnitOfWork
from shared.auth import Learner, PartnerCaller
from shared.db.group_commit import GroupCommit
from shared.db.uow import UnitOfWorkFactory, run_committed
from shared.events import EnrolmentRejectionReason
from shared.events.vocabulary import OfferingId
from shared.problems import problem_responses

ENROLMENT_ID = r"^enr-[a-z0-9-]{4,64}$"
OFFERING_ID = r"^off-[a-z0-9-]{4,64}$"


class EnrolmentRequest(BaseModel):
    offering_id: OfferingId


class EnrolmentView(BaseModel):
    enrolment_id: str
    offering_id: str
    partner_id: str = Field(description="The teaching partner.")
    learner_id: str
    status: EnrolmentStatus
    position: int | None = Field(
        default=None, description="Current place on the waiting list (1 = next), if waiting."
    )
    reason: EnrolmentRejectionReason | None = Field(
        default=None, description="Why the request was refused, if it was."
    )
    detail: str | None = Field(default=None, description="Readable explanation of a refusal.")
    requested_at: dt.datetime
    changed_at: dt.datetime


def _view(enrolment: Enrolment) -> EnrolmentView:
    return EnrolmentView(
        enrolment_id=enrolment.enrolment_id,
        offering_id=enrolment.offering_id,
        partner_id=enrolment.partner_id,
        learner_id=enrolment.learner_id,
        status=enrolment.status,
        position=enrolment.position,
        reason=enrolment.reason,
        detail=enrolment.detail,
        requested_at=enrolment.requested_at,
        changed_at=enrolment.changed_at,
    )


EnrolmentIdPath = Annotated[str, Path(pattern=ENROLMENT_ID)]


def build_router(units_of_work: UnitOfWorkFactory[EnrolmentUnitOfWork]) -> APIRouter:
    router = APIRouter(tags=["enrolments"])
    # Requests for places in one offering are decided together, under one lock and commit.
    places = GroupCommit(units_of_work)

    @router.post(
        "/enrolments",
        status_code=status.HTTP_201_CREATED,
        summary="Ask for a place in an offering; decided at once",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def enrol(body: EnrolmentRequest, learner: Learner) -> EnrolmentView:
        learner_id = str(learner.learner_id)
        enrolment = await places.run(
            body.offering_id,
            lambda uow: application.request_enrolment(uow, learner_id, body.offering_id),
        )
        return _view(enrolment)

    @router.get(
        "/enrolments", summary="The caller's own enrolments", responses=problem_responses(401, 403)
    )
    async def mine(learner: Learner) -> list[EnrolmentView]:
        async with units_of_work() as uow:
            enrolments = await uow.enrolments.of_learner(str(learner.learner_id))
        return [_view(e) for e in enrolments]

    @router.get(
        "/enrolments/{enrolment_id}",
        summary="One of the caller's enrolments",
        responses=problem_responses(401, 403, 404),
    )
    async def one(enrolment_id: EnrolmentIdPath, learner: Learner) -> EnrolmentView:
        async with units_of_work() as uow:
            enrolment = await application.enrolment_of(uow, str(learner.learner_id), enrolment_id)
        return _view(enrolment)

    @router.delete(
        "/enrolments/{enrolment_id}",
        summary="Withdraw; a freed place goes to the first on the waiting list",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def leave(enrolment_id: EnrolmentIdPath, learner: Learner) -> EnrolmentView:
        learner_id = str(learner.learner_id)
        enrolment = await run_committed(
            units_of_work,
            lambda uow: application.withdraw_enrolment(uow, learner_id, enrolment_id),
        )
        return _view(enrolment)

    @router.get(
        "/offerings/{offering_id}/enrolments",
        summary="Who enrolled in an offering (its teaching partner only)",
        responses=problem_responses(401, 403, 404),
    )
    async def of_offering(
        offering_id: Annotated[str, Path(pattern=OFFERING_ID)], caller: PartnerCaller
    ) -> list[EnrolmentView]:
        async with units_of_work() as uow:
            enrolments = await application.roster(uow, offering_id, caller.acts_for)
        return [_view(e) for e in enrolments]

    return router
