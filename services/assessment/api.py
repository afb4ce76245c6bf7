"""The assessment service's HTTP API: teaching partners record results, learners read theirs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from services.assessment import application
from services.assessment.domain import Result, ResultNotFound
from services.assessment.unit_of_work import AssessmentUnitOfWork
from shared.auth import Caller, PartnerCaller, Principal
from shared.db.uow import UnitOfWorkFactory, run_committed
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


def build_router(units_of_work: UnitOfWorkFactory[AssessmentUnitOfWork]) -> APIRouter:
    router = APIRouter(prefix="/results", tags=["results"])

    @router.post(
        "",
        status_code=201,
        summary="Record a result (teaching partner)",
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def submit(body: ResultSubmission, principal: PartnerCaller) -> ResultView:
        assert principal.partner_id is not None  # PartnerCaller guarantees it
        submission = body.assessed(principal.partner_id)
        accepted = await run_committed(
            units_of_work, lambda uow: application.record_result(uow, submission)
        )
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
        async with units_of_work() as uow:
            if principal.learner_id is not None:
                found = await uow.results.of_learner(
                    principal.learner_id, offering_id, limit, offset
                )
            elif principal.partner_id is not None:
                found = await application.results_of_partner(
                    uow, principal.partner_id, offering_id, limit, offset
                )
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
        async with units_of_work() as uow:
            result = await uow.results.get(result_id)
        # Someone else's result is reported as missing, so its existence is not revealed.
        if result is None or not _may_see(principal, result.result):
            raise ResultNotFound(f"No result {result_id} of yours.")
        return _view(result)

    return router
