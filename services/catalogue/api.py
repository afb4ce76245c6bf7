"""The catalogue's HTTP API: public search over the alliance's offerings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.catalogue.domain import Listing
from services.catalogue.repository import OfferingQuery, OfferingRepository
from shared.events import OfferingSnapshot, ParticipationMode
from shared.problems import Problem


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


def _view(listing: Listing) -> OfferingView:
    return OfferingView(
        offering_id=listing.offering_id,
        partner_id=listing.partner_id,
        version=listing.version,
        status=listing.status,
        offering=listing.snapshot,
    )


def build_router(sessions: async_sessionmaker[AsyncSession]) -> APIRouter:
    router = APIRouter(prefix="/offerings", tags=["offerings"])

    @router.get("", summary="Search the alliance's offerings")
    async def search(
        q: Annotated[
            str | None, Query(max_length=200, description="Free text, any language")
        ] = None,
        partner: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]{1,31}$")] = None,
        country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
        eqf_level: Annotated[int | None, Query(ge=1, le=8)] = None,
        language: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$")] = None,
        mode: ParticipationMode | None = None,
        min_ects: Annotated[float | None, Query(ge=0, le=360)] = None,
        max_ects: Annotated[float | None, Query(ge=0, le=360)] = None,
        include_withdrawn: bool = False,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> OfferingPage:
        query = OfferingQuery(
            q,
            partner,
            country,
            eqf_level,
            language,
            mode.value if mode else None,
            min_ects,
            max_ects,
            include_withdrawn,
            limit,
            offset,
        )
        async with sessions() as session:
            listings, total = await OfferingRepository(session).search(query)
        return OfferingPage(
            items=[_view(x) for x in listings], total=total, limit=limit, offset=offset
        )

    @router.get(
        "/{offering_id}",
        summary="One offering",
        responses={
            404: {"description": "No such offering", "content": {"application/problem+json": {}}}
        },
    )
    async def get_offering(
        offering_id: Annotated[str, Field(pattern=r"^off-[a-z0-9-]{3,60}$")],
    ) -> OfferingView:
        async with sessions() as session:
            listing = await OfferingRepository(session).get(offering_id)
        if listing is None:
            raise Problem(404, "Offering not found", f"No offering {offering_id} in the catalogue.")
        return _view(listing)

    return router
