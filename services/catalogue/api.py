"""The catalogue's HTTP API: public search over the alliance's offerings, and partner publishing.

Partners change offerings here as an alternative to publishing events from their own
systems. A change is answered 202 Accepted: it is announced as an `offering.*` event and
reaches the search once the catalogue's consumer has applied it (well under a second).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Self

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response
from pydantic import BaseModel, Field, ValidationError, create_model, model_validator

from services.catalogue import application
from services.catalogue.domain import Listing, OfferingNotFound
from services.catalogue.repository import OfferingQuery
from services.catalogue.unit_of_work import CatalogueUnitOfWork
from shared.auth import PartnerCaller
from shared.db.uow import UnitOfWorkFactory, run_committed
from shared.events import (
    PLAIN_TEXT,
    OfferingPublished,
    OfferingSnapshot,
    OfferingUpdated,
    OfferingWithdrawn,
    ParticipationMode,
    spec_for_model,
)
from shared.events.vocabulary import Payload
from shared.problems import Problem, problem_responses
from shared.registry import AllianceRegistry, Unauthorised

OFFERING_ID = r"^off-[a-z0-9-]{4,64}$"

OfferingEvent = OfferingPublished | OfferingUpdated | OfferingWithdrawn


class _Draft(Payload):
    @model_validator(mode="after")
    def _valid_as_snapshot(self) -> Self:
        # The snapshot's own cross-field rules (dates in order), without a second copy of them.
        try:
            OfferingSnapshot.model_validate({**self.model_dump(), "version": 1})
        except ValidationError as exc:
            raise ValueError("; ".join(e["msg"] for e in exc.errors())) from exc
        return self

    def snapshot_fields(self) -> dict[str, Any]:
        return dict(self)


# What a partner sends: every field of the offering snapshot except `version`, which the
# catalogue assigns. Derived from the contract model so the two cannot drift apart.
if TYPE_CHECKING:
    OfferingDraft = _Draft
else:
    OfferingDraft = create_model(
        "OfferingDraft",
        __base__=_Draft,
        __doc__="An offering as the partner describes it; the catalogue assigns the version.",
        **{
            name: (info.annotation, info)
            for name, info in OfferingSnapshot.model_fields.items()
            if name != "version"
        },
    )


class OfferingView(BaseModel):
    offering_id: str
    partner_id: str
    version: int
    status: str
    offering: OfferingSnapshot | None


class OfferingPage(BaseModel):
    items: list[OfferingView]
    total: int = Field(description="Matching offerings in all pages")
    limit: int
    offset: int


class ChangeAccepted(BaseModel):
    """A change accepted for publication; it shows in the catalogue once applied."""

    offering_id: str
    partner_id: str
    version: int = Field(description="The version the change gives the offering.")
    event_type: str = Field(
        description="The CloudEvents type announced.",
        examples=["eu.alliance.offering.updated.v1"],
    )


_ACCEPTED_HEADERS = {
    "Location": {"description": "Where the offering can be read", "schema": {"type": "string"}},
    "ETag": {
        "description": "The offering's new version, for If-Match",
        "schema": {"type": "string"},
    },
}

_EXAMPLE_DRAFT: dict[str, Any] = {
    "offering_id": "off-lindeveld-urban-water-2026",
    "partner_id": "lindeveld",
    "title": {"en": "Urban Water Management", "nl": "Stedelijk waterbeheer"},
    "awarding_bodies": [
        {"partner_id": "lindeveld", "legal_name": "Universiteit Lindeveld", "country": "NL"}
    ],
    "countries": ["NL"],
    "learning_outcomes": [
        {
            "text": {"en": "Design a climate-adaptive drainage plan for a city district."},
            "esco_skill_uri": "http://data.europa.eu/esco/skill/6d3edede-8951-4621-a835-e04323300fa0",
        }
    ],
    "workload": {"ects": 5, "volume_of_learning": "PT140H"},
    "eqf_level": 6,
    "assessment_types": ["project_work"],
    "participation_mode": "blended",
    "quality_assurance": ["institutional_quality_assurance"],
    "languages_of_instruction": ["en"],
    "fields_of_study": ["0532", "Water management"],
    "start_date": "2026-09-01",
    "end_date": "2026-11-30",
    "capacity": 30,
}

_IF_MATCH = Header(
    pattern=r'^(W/)?"[0-9]{1,9}"$',
    description='Change only if the offering is still at this version (its ETag, e.g. `"3"`).',
)


def _view(listing: Listing) -> OfferingView:
    return OfferingView(
        offering_id=listing.offering_id,
        partner_id=listing.partner_id,
        version=listing.version,
        status=listing.status,
        offering=listing.snapshot,
    )


def build_router(units_of_work: UnitOfWorkFactory[CatalogueUnitOfWork]) -> APIRouter:
    router = APIRouter(prefix="/offerings", tags=["offerings"])

    @router.get("", summary="Search the alliance's offerings", responses=problem_responses(422))
    async def search(
        q: Annotated[
            str | None,
            Query(max_length=200, pattern=PLAIN_TEXT, description="Free text, any language"),
        ] = None,
        partner: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]{1,31}$")] = None,
        country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
        eqf_level: Annotated[int | None, Query(ge=1, le=8)] = None,
        language: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$")] = None,
        mode: ParticipationMode | None = None,
        min_ects: Annotated[float | None, Query(ge=0, le=360)] = None,
        max_ects: Annotated[float | None, Query(ge=0, le=360)] = None,
        field: Annotated[
            str | None,
            Query(
                max_length=200,
                pattern=PLAIN_TEXT,
                description="Part of a field of study (ISCED-F code or name)",
            ),
        ] = None,
        skill: Annotated[
            str | None,
            Query(
                max_length=200,
                pattern=PLAIN_TEXT,
                description="Part of an ESCO skill URI the outcomes link to",
            ),
        ] = None,
        include_withdrawn: bool = False,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> OfferingPage:
        query = OfferingQuery(
            text=q,
            partner_id=partner,
            country=country,
            eqf_level=eqf_level,
            language=language,
            participation_mode=mode.value if mode else None,
            min_ects=min_ects,
            max_ects=max_ects,
            field_of_study=field,
            skill=skill,
            include_withdrawn=include_withdrawn,
            limit=limit,
            offset=offset,
        )
        async with units_of_work() as uow:
            listings, total = await uow.offerings.search(query)
        return OfferingPage(
            items=[_view(x) for x in listings], total=total, limit=limit, offset=offset
        )

    @router.get("/{offering_id}", summary="One offering", responses=problem_responses(404, 422))
    async def get_offering(
        offering_id: Annotated[str, Path(pattern=OFFERING_ID)],
    ) -> OfferingView:
        async with units_of_work() as uow:
            listing = await uow.offerings.get(offering_id)
        if listing is None:
            raise OfferingNotFound(f"No offering {offering_id} in the catalogue.")
        return _view(listing)

    return router


def build_publishing_router(
    units_of_work: UnitOfWorkFactory[CatalogueUnitOfWork], registry: AllianceRegistry, source: str
) -> APIRouter:
    """Partner staff and partner systems publish, replace and withdraw their own offerings."""
    router = APIRouter(prefix="/offerings", tags=["publishing"])

    def entitled(caller: PartnerCaller, partner_id: str, event_name: str) -> None:
        if not caller.acts_for(partner_id):
            raise Problem(403, "Forbidden", f"Your token does not act for partner {partner_id}.")
        try:
            # The same check every consumer makes, so nothing is announced that they refuse.
            registry.authorise(source, event_name, partner_id)
        except Unauthorised as exc:
            raise Problem(403, "Forbidden", str(exc)) from exc

    def accepted(request: Request, response: Response, event: OfferingEvent) -> ChangeAccepted:
        location = request.url_for("get_offering", offering_id=event.offering_id)
        response.headers["Location"] = str(location)
        response.headers["ETag"] = f'"{event.version}"'
        return ChangeAccepted(
            offering_id=event.offering_id,
            partner_id=event.partner_id,
            version=event.version,
            event_type=spec_for_model(type(event)).ce_type,
        )

    @router.post(
        "",
        status_code=202,
        summary="Publish a new offering (partner staff or system)",
        description="Announces `offering.published` (version 1). The offering is searchable "
        "as soon as the catalogue has applied the event, typically within a second.",
        responses={
            202: {"headers": _ACCEPTED_HEADERS},
            **problem_responses(400, 401, 403, 409, 422),
        },
    )
    async def publish(
        caller: PartnerCaller,
        request: Request,
        response: Response,
        draft: Annotated[
            OfferingDraft, Body(openapi_examples={"lindeveld": {"value": _EXAMPLE_DRAFT}})
        ],
    ) -> ChangeAccepted:
        partner_id = draft.snapshot_fields()["partner_id"]
        entitled(caller, partner_id, "offering.published")
        event = await run_committed(
            units_of_work, lambda uow: application.publish(uow, partner_id, draft.snapshot_fields())
        )
        return accepted(request, response, event)

    @router.put(
        "/{offering_id}",
        status_code=202,
        summary="Replace an offering (its owner only)",
        description="Full replacement: announces `offering.updated` with the next version.",
        responses={
            202: {"headers": _ACCEPTED_HEADERS},
            **problem_responses(400, 401, 403, 404, 409, 412, 422),
        },
    )
    async def replace(
        caller: PartnerCaller,
        request: Request,
        response: Response,
        offering_id: Annotated[str, Path(pattern=OFFERING_ID)],
        draft: Annotated[
            OfferingDraft, Body(openapi_examples={"lindeveld": {"value": _EXAMPLE_DRAFT}})
        ],
        if_match: Annotated[str | None, _IF_MATCH] = None,
    ) -> ChangeAccepted:
        fields = draft.snapshot_fields()
        if fields["offering_id"] != offering_id:
            raise Problem(422, "Invalid request", "The body's offering_id differs from the URL's.")
        entitled(caller, fields["partner_id"], "offering.updated")
        event = await run_committed(
            units_of_work,
            lambda uow: application.update(
                uow, fields["partner_id"], offering_id, fields, _version(if_match)
            ),
        )
        return accepted(request, response, event)

    @router.delete(
        "/{offering_id}",
        status_code=202,
        summary="Withdraw an offering (its owner only)",
        description="Announces `offering.withdrawn`; no new enrolments are accepted.",
        responses={
            202: {"headers": _ACCEPTED_HEADERS},
            **problem_responses(401, 403, 404, 409, 412, 422),
        },
    )
    async def withdraw(
        caller: PartnerCaller,
        request: Request,
        response: Response,
        offering_id: Annotated[str, Path(pattern=OFFERING_ID)],
        reason: Annotated[
            str,
            Query(
                min_length=1,
                max_length=4000,
                pattern=PLAIN_TEXT,
                description="Why, for learners and partners",
            ),
        ] = "Withdrawn by the partner.",
        if_match: Annotated[str | None, _IF_MATCH] = None,
    ) -> ChangeAccepted:
        # Whose it is comes from the catalogue; the caller can only withdraw its own.
        partner_id = str(caller.partner_id)
        entitled(caller, partner_id, "offering.withdrawn")
        event = await run_committed(
            units_of_work,
            lambda uow: application.withdraw(
                uow, partner_id, offering_id, reason, _version(if_match)
            ),
        )
        return accepted(request, response, event)

    return router


def _version(if_match: str | None) -> int | None:
    return int(if_match.removeprefix("W/").strip('"')) if if_match else None
