"""Enrolment's HTTP API: learners enrol and withdraw; partners see who enrolled with them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from services.enrolment.commands import (
    AlreadyEnrolled,
    EnrolmentNotFound,
    UnknownOffering,
    request_enrolment,
    withdraw_enrolment,
)
from services.enrolment.domain import Enrolment, EnrolmentStatus, NotWithdrawable
from services.enrolment.repository import EnrolmentRepository, OfferingRepository
from shared.auth import Learner, PartnerCaller
from shared.db.uow import UnitOfWork, UnitOfWorkFactory
from shared.events import EnrolmentRejectionReason
from shared.events.vocabulary import OfferingId
from shared.problems import Problem, problem_responses

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


def _not_found(enrolment_id: str) -> Problem:
    # Another learner's enrolment is answered like a missing one: ids are not confirmed.
    return Problem(404, "Enrolment not found", f"You have no enrolment {enrolment_id}.")


EnrolmentIdPath = Annotated[str, Path(pattern=ENROLMENT_ID)]


def build_router(units_of_work: UnitOfWorkFactory[UnitOfWork]) -> APIRouter:
    router = APIRouter(tags=["enrolments"])
    sessions = units_of_work.sessions

    @router.post(
        "/enrolments",
        status_code=status.HTTP_201_CREATED,
        summary="Ask for a place in an offering; decided at once",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def enrol(body: EnrolmentRequest, learner: Learner) -> EnrolmentView:
        learner_id = str(learner.learner_id)
        try:
            async with units_of_work() as uow:
                enrolment = await request_enrolment(uow, learner_id, body.offering_id)
                await uow.commit()
        except UnknownOffering as exc:
            raise Problem(
                404, "Offering not found", f"No offering {body.offering_id} is known."
            ) from exc
        except AlreadyEnrolled as exc:
            raise Problem(409, "Already enrolled", str(exc)) from exc
        return _view(enrolment)

    @router.get(
        "/enrolments", summary="The caller's own enrolments", responses=problem_responses(401, 403)
    )
    async def mine(learner: Learner) -> list[EnrolmentView]:
        async with sessions() as session:
            enrolments = await EnrolmentRepository(session).of_learner(str(learner.learner_id))
        return [_view(e) for e in enrolments]

    @router.get(
        "/enrolments/{enrolment_id}",
        summary="One of the caller's enrolments",
        responses=problem_responses(401, 403, 404),
    )
    async def one(enrolment_id: EnrolmentIdPath, learner: Learner) -> EnrolmentView:
        async with sessions() as session:
            enrolment = await EnrolmentRepository(session).get(enrolment_id)
        if enrolment is None or enrolment.learner_id != learner.learner_id:
            raise _not_found(enrolment_id)
        return _view(enrolment)

    @router.delete(
        "/enrolments/{enrolment_id}",
        summary="Withdraw; a freed place goes to the first on the waiting list",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def leave(enrolment_id: EnrolmentIdPath, learner: Learner) -> EnrolmentView:
        try:
            async with units_of_work() as uow:
                enrolment = await withdraw_enrolment(uow, str(learner.learner_id), enrolment_id)
                await uow.commit()
        except EnrolmentNotFound as exc:
            raise _not_found(enrolment_id) from exc
        except NotWithdrawable as exc:
            raise Problem(409, "Nothing to withdraw", str(exc)) from exc
        return _view(enrolment)

    @router.get(
        "/offerings/{offering_id}/enrolments",
        summary="Who enrolled in an offering (its teaching partner only)",
        responses=problem_responses(401, 403, 404),
    )
    async def of_offering(
        offering_id: Annotated[str, Path(pattern=OFFERING_ID)], caller: PartnerCaller
    ) -> list[EnrolmentView]:
        async with sessions() as session:
            offering = await OfferingRepository(session).get(offering_id)
            if offering is None:
                raise Problem(404, "Offering not found", f"No offering {offering_id} is known.")
            if not caller.acts_for(offering.partner_id):
                raise Problem(
                    403,
                    "Forbidden",
                    f"Only {offering.partner_id}, which teaches {offering_id}, sees who enrolled.",
                )
            enrolments = await EnrolmentRepository(session).of_offering(offering_id)
        return [_view(e) for e in enrolments]

    return router
