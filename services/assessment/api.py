"""The assessment service's HTTP API: teaching partners record results, learners read theirs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.assessment.domain import Accepted, Refusal, Result, ResultRefused
from services.assessment.recording import record_result
from services.assessment.repository import OfferingRepository, ResultRepository
from shared.auth import Caller, PartnerCaller, Principal
from shared.db.uow import UnitOfWork, UnitOfWorkFactory
from shared.events import AssessedResult, Grade, Outcome
from shared.events.vocabulary import (
    AssessmentType,
    EnrolmentId,
    LearnerId,
    OfferingId,
    Payload,
    ResultId,
    SupervisionAndIdentityVerification,
)
from shared.problems import Problem, problem_responses

_REFUSAL_STATUS: dict[Refusal, tuple[int, str]] = {
    Refusal.OFFERING_UNKNOWN: (404, "Offering not found"),
    Refusal.ENROLMENT_UNKNOWN: (404, "Enrolment not found"),
    Refusal.NOT_TEACHING_PARTNER: (403, "Not your offering"),
    Refusal.NOT_ENROLLED: (409, "Learner not enrolled"),
    Refusal.ALREADY_ASSESSED: (409, "Enrolment already assessed"),
    Refusal.SUPERSEDED: (409, "Result already superseded"),
    Refusal.RESULT_ID_TAKEN: (409, "result_id already used"),
    Refusal.NO_SUCH_RESULT: (422, "Nothing to correct"),
}


class ResultSubmission(Payload):
    """A result as the teaching partner submits it; the partner is the caller's own."""

    result_id: ResultId | None = Field(
        default=None,
        description="Your id for this result; sending the same one again has no second effect.",
    )
    enrolment_id: EnrolmentId
    offering_id: OfferingId
    learner_id: LearnerId
    outcome: Outcome
    grade: Grade | None = None
    assessment_type: AssessmentType
    supervision_and_identity_verification: SupervisionAndIdentityVerification
    assessed_on: dt.date
    supersedes_result_id: ResultId | None = Field(
        default=None, description="The current result this one corrects."
    )

    def assessed(self, partner_id: str) -> AssessedResult:
        result_id = self.result_id or f"res-{uuid.uuid4().hex}"
        return AssessedResult(**{**dict(self), "result_id": result_id, "partner_id": partner_id})


class ResultView(AssessedResult):
    recorded_at: dt.datetime
    status: Literal["current", "superseded"]
    superseded_by_result_id: ResultId | None = None


class ResultPage(BaseModel):
    items: list[ResultView]
    limit: int
    offset: int


def _view(result: Result) -> ResultView:
    return ResultView(
        **dict(result.result),
        recorded_at=result.recorded_at,
        status="current" if result.is_current else "superseded",
        superseded_by_result_id=result.superseded_by_result_id,
    )


def _may_see(principal: Principal, result: AssessedResult) -> bool:
    if principal.is_learner:
        return principal.learner_id == result.learner_id
    return principal.acts_for(result.partner_id)


async def _check_teaches(session: AsyncSession, principal: Principal, offering_id: str) -> None:
    offering = await OfferingRepository(session).get(offering_id)
    if offering is None:
        raise Problem(404, "Offering not found", f"No offering {offering_id}.")
    if not principal.acts_for(offering.partner_id):
        raise Problem(403, "Not your offering", f"{offering_id} is taught by another partner.")


def build_router(
    units_of_work: UnitOfWorkFactory[UnitOfWork], sessions: async_sessionmaker[AsyncSession]
) -> APIRouter:
    router = APIRouter(prefix="/results", tags=["results"])

    async def record(submission: AssessedResult) -> Accepted:
        async with units_of_work() as uow:
            accepted = await record_result(uow, submission)
            await uow.commit()
        return accepted

    @router.post(
        "",
        status_code=201,
        summary="Record a result (teaching partner)",
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def submit(body: ResultSubmission, principal: PartnerCaller) -> ResultView:
        assert principal.partner_id is not None  # PartnerCaller guarantees it
        submission = body.assessed(principal.partner_id)
        try:
            try:
                accepted = await record(submission)
            except IntegrityError:
                # A concurrent submission for the same enrolment or result_id committed
                # first; checked again against it, this one is a repeat or a conflict.
                accepted = await record(submission)
        except ResultRefused as exc:
            status, title = _REFUSAL_STATUS[exc.refusal]
            raise Problem(status, title, exc.detail) from exc
        except IntegrityError as exc:
            raise Problem(
                409, "Concurrent result", "Another result for this enrolment was just recorded."
            ) from exc
        return _view(accepted.result)

    @router.get(
        "",
        summary="Results: a learner's own, or those of the offerings a partner teaches",
        responses=problem_responses(401, 403, 404),
    )
    async def list_results(
        principal: Caller,
        offering_id: Annotated[str | None, Query(pattern=r"^off-[a-z0-9-]{4,64}$")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> ResultPage:
        async with sessions() as session:
            results = ResultRepository(session)
            if principal.learner_id is not None:
                found = await results.of_learner(principal.learner_id, offering_id, limit, offset)
            elif principal.partner_id is not None:
                if offering_id is not None:
                    await _check_teaches(session, principal, offering_id)
                found = await results.of_partner(principal.partner_id, offering_id, limit, offset)
            else:
                raise Problem(403, "Forbidden", "Only learners and partners read results.")
        return ResultPage(items=[_view(r) for r in found], limit=limit, offset=offset)

    @router.get(
        "/{result_id}",
        summary="One result (its learner or its teaching partner)",
        responses=problem_responses(401, 404),
    )
    async def get_result(
        result_id: Annotated[str, Path(pattern=r"^res-[a-z0-9-]{4,64}$")], principal: Caller
    ) -> ResultView:
        async with sessions() as session:
            result = await ResultRepository(session).get(result_id)
        # Someone else's result is reported as missing, so its existence is not revealed.
        if result is None or not _may_see(principal, result.result):
            raise Problem(404, "Result not found", f"No result {result_id} of yours.")
        return _view(result)

    return router
