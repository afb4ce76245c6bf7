"""The learners' API: one place to find offerings, enrol, and follow their results and
pathways (the wallet is in `wallet.py`).

Every route reads through a service's own API (never its database) with the caller's token;
the service decides what the caller may see. The gateway checks the token too, so a
learner-only route answers 401/403 without a round trip.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, status

from services.gateway.downstream import UPSTREAM_FAILURES, Downstreams, authorization
from services.gateway.models import (
    Enrolment,
    EnrolmentRequest,
    Me,
    Offering,
    OfferingPage,
    Pathway,
    PathwayProgress,
    ResultPage,
)
from shared.auth import Caller, Learner
from shared.events import PLAIN_TEXT, ParticipationMode
from shared.problems import problem_responses

OFFERING_ID = r"^off-[a-z0-9-]{4,64}$"
ENROLMENT_ID = r"^enr-[a-z0-9-]{4,64}$"


def _present(**params: Any) -> dict[str, Any]:
    return {name: value for name, value in params.items() if value is not None}


def build_router(services: Downstreams) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/offerings",
        tags=["offerings"],
        summary="Search the alliance's offerings",
        description="Public. Only offerings open for enrolment; every filter narrows the result.",
        responses=problem_responses(422, *UPSTREAM_FAILURES),
    )
    async def search_offerings(
        request: Request,
        q: Annotated[
            str | None,
            Query(
                max_length=200,
                pattern=PLAIN_TEXT,
                description="Free text over titles, descriptions and outcomes, any language",
                openapi_examples={"ethics": {"value": "data ethics"}},
            ),
        ] = None,
        partner: Annotated[
            str | None,
            Query(pattern=r"^[a-z][a-z0-9-]{1,31}$", description="The teaching partner's id"),
        ] = None,
        country: Annotated[
            str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")
        ] = None,
        eqf_level: Annotated[int | None, Query(ge=1, le=8, description="EQF level")] = None,
        min_ects: Annotated[float | None, Query(ge=0, le=360)] = None,
        max_ects: Annotated[float | None, Query(ge=0, le=360)] = None,
        language: Annotated[
            str | None,
            Query(pattern=r"^[a-z]{2,3}$", description="Language of instruction (ISO 639)"),
        ] = None,
        mode: Annotated[
            ParticipationMode | None, Query(description="Form of participation")
        ] = None,
        field: Annotated[
            str | None,
            Query(
                max_length=200,
                pattern=PLAIN_TEXT,
                description="Part of a field of study (ISCED-F code such as `0613`, or a name)",
                openapi_examples={"ict": {"value": "0613"}},
            ),
        ] = None,
        skill: Annotated[
            str | None,
            Query(
                max_length=200,
                pattern=PLAIN_TEXT,
                description="Part of an ESCO skill URI that a learning outcome links to",
            ),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> OfferingPage:
        params = _present(
            q=q,
            partner=partner,
            country=country,
            eqf_level=eqf_level,
            min_ects=min_ects,
            max_ects=max_ects,
            language=language,
            mode=mode.value if mode else None,
            field=field,
            skill=skill,
            limit=limit,
            offset=offset,
        )
        return await services.catalogue.fetch(
            "GET", "/offerings", authorization(request), OfferingPage, params=params
        )

    @router.get(
        "/offerings/{offering_id}",
        tags=["offerings"],
        summary="One offering, with every EU micro-credential element",
        responses=problem_responses(404, 422, *UPSTREAM_FAILURES),
    )
    async def get_offering(
        request: Request,
        offering_id: Annotated[
            str,
            Path(
                pattern=OFFERING_ID,
                openapi_examples={"data ethics": {"value": "off-valdemora-data-ethics-2025"}},
            ),
        ],
    ) -> Offering:
        return await services.catalogue.fetch(
            "GET", f"/offerings/{offering_id}", authorization(request), Offering
        )

    @router.post(
        "/me/enrolments",
        tags=["my enrolments"],
        status_code=status.HTTP_201_CREATED,
        summary="Enrol in an offering",
        description="Decided at once: accepted, waitlisted (no place left) or rejected "
        "(for example, a prerequisite credential is missing).",
        responses=problem_responses(400, 401, 403, 404, 409, 422, *UPSTREAM_FAILURES),
    )
    async def enrol(request: Request, _: Learner, body: EnrolmentRequest) -> Enrolment:
        return await services.enrolment.fetch(
            "POST",
            "/enrolments",
            authorization(request),
            Enrolment,
            body=body.model_dump(mode="json"),
        )

    @router.get(
        "/me/enrolments",
        tags=["my enrolments"],
        summary="My enrolments",
        responses=problem_responses(401, 403, *UPSTREAM_FAILURES),
    )
    async def my_enrolments(request: Request, _: Learner) -> list[Enrolment]:
        return await services.enrolment.fetch(
            "GET", "/enrolments", authorization(request), list[Enrolment]
        )

    @router.get(
        "/me/enrolments/{enrolment_id}",
        tags=["my enrolments"],
        summary="One of my enrolments",
        responses=problem_responses(401, 403, 404, 422, *UPSTREAM_FAILURES),
    )
    async def my_enrolment(
        request: Request,
        _: Learner,
        enrolment_id: Annotated[str, Path(pattern=ENROLMENT_ID)],
    ) -> Enrolment:
        return await services.enrolment.fetch(
            "GET", f"/enrolments/{enrolment_id}", authorization(request), Enrolment
        )

    @router.delete(
        "/me/enrolments/{enrolment_id}",
        tags=["my enrolments"],
        summary="Withdraw from an offering",
        description="A place freed goes to the first learner on the waiting list.",
        responses=problem_responses(401, 403, 404, 409, 422, *UPSTREAM_FAILURES),
    )
    async def withdraw(
        request: Request,
        _: Learner,
        enrolment_id: Annotated[str, Path(pattern=ENROLMENT_ID)],
    ) -> Enrolment:
        return await services.enrolment.fetch(
            "DELETE", f"/enrolments/{enrolment_id}", authorization(request), Enrolment
        )

    @router.get(
        "/me/results",
        tags=["my results"],
        summary="My assessment results",
        description="As recorded by the teaching partners; a corrected result shows as superseded.",
        responses=problem_responses(401, 403, 422, *UPSTREAM_FAILURES),
    )
    async def my_results(
        request: Request,
        _: Learner,
        offering_id: Annotated[
            str | None, Query(pattern=OFFERING_ID, description="Only this offering's")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> ResultPage:
        params = _present(offering_id=offering_id, limit=limit, offset=offset)
        return await services.assessment.fetch(
            "GET", "/results", authorization(request), ResultPage, params=params
        )

    @router.get(
        "/pathways",
        tags=["pathways"],
        summary="The alliance's pathways",
        description="Public. Each at its newest version, with what completes it.",
        responses=problem_responses(*UPSTREAM_FAILURES),
    )
    async def pathways(request: Request) -> list[Pathway]:
        return await services.recognition.fetch(
            "GET", "/pathways", authorization(request), list[Pathway]
        )

    @router.get(
        "/me/progress",
        tags=["my pathways"],
        summary="My progress on every pathway",
        description="What counts, what is missing, and the stacked credential once complete.",
        responses=problem_responses(401, 403, *UPSTREAM_FAILURES),
    )
    async def my_progress(request: Request, _: Learner) -> list[PathwayProgress]:
        return await services.recognition.fetch(
            "GET", "/progress", authorization(request), list[PathwayProgress]
        )

    @router.get(
        "/me",
        tags=["me"],
        summary="Who my access token says I am",
        responses=problem_responses(401),
    )
    async def me(caller: Caller) -> Me:
        return Me(role=caller.role, learner_id=caller.learner_id, partner_id=caller.partner_id)

    return router
