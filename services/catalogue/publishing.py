"""Partners publishing through the catalogue's API, as an alternative to their own events.

The API does not write the read model: it announces `offering.*` events through the outbox,
and the catalogue's consumer applies them like any partner's. The next version is taken
from the versions the API already announced (`offering_versions`, written in the same
transaction as the outbox row) or from the read model when the partner's own system moved
the offering further, whichever is later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, TypeVar

from pydantic import ValidationError, create_model, model_validator

from services.catalogue.domain import Listing
from services.catalogue.repository import EmittedVersions, OfferingRepository
from services.catalogue.tables import EmittedVersionRecord
from shared.clock import utc_now
from shared.db.uow import UnitOfWorkFactory
from shared.events import OfferingPublished, OfferingSnapshot, OfferingUpdated, OfferingWithdrawn
from shared.events.vocabulary import Payload
from shared.messaging.consumer import is_transient

EventT = TypeVar("EventT", OfferingPublished, OfferingUpdated, OfferingWithdrawn)

# A request that lost a race re-reads and tries again; more than this means heavy contention.
_ATTEMPTS = 5


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


class PublishingRefused(Exception):
    """The change is refused; the subclass says why."""


class OfferingNotFound(PublishingRefused):
    pass


class NotTheOwner(PublishingRefused):
    pass


class AlreadyExists(PublishingRefused):
    pass


class AlreadyWithdrawn(PublishingRefused):
    pass


class VersionMismatch(PublishingRefused):
    pass


class ConcurrentChange(PublishingRefused):
    pass


@dataclass(frozen=True)
class Standing:
    """What publishing needs to know of an offering: owner, latest version, withdrawn."""

    partner_id: str
    version: int
    withdrawn: bool


def latest(*known: Standing | None) -> Standing | None:
    candidates = [s for s in known if s is not None]
    return max(candidates, key=lambda s: s.version) if candidates else None


def check_change(
    offering_id: str, standing: Standing | None, partner_id: str, expected_version: int | None
) -> Standing:
    """The offering's standing, if `partner_id` may change it now."""
    if standing is None:
        raise OfferingNotFound(f"No offering {offering_id} in the catalogue.")
    if standing.partner_id != partner_id:
        raise NotTheOwner(f"Offering {offering_id} belongs to another partner.")
    if standing.withdrawn:
        raise AlreadyWithdrawn(f"Offering {offering_id} is withdrawn; it can no longer change.")
    if expected_version is not None and expected_version != standing.version:
        raise VersionMismatch(
            f"Offering {offering_id} is at version {standing.version}, not {expected_version}."
        )
    return standing


class Publishing:
    """The partner's write use cases; each is one transaction, retried if it lost a race."""

    def __init__(self, units_of_work: UnitOfWorkFactory) -> None:
        self._units_of_work = units_of_work

    async def publish(self, partner_id: str, draft: _Draft) -> OfferingPublished:
        fields = draft.snapshot_fields()
        offering_id = fields["offering_id"]

        def first(standing: Standing | None) -> OfferingPublished:
            if standing is not None:
                raise AlreadyExists(
                    f"Offering {offering_id} already exists; change it with PUT /offerings/"
                    f"{offering_id}."
                )
            return OfferingPublished(**fields, version=1, published_at=utc_now())

        return await self._announce(offering_id, partner_id, first)

    async def update(
        self, partner_id: str, offering_id: str, draft: _Draft, expected_version: int | None
    ) -> OfferingUpdated:
        def replacement(standing: Standing | None) -> OfferingUpdated:
            current = check_change(offering_id, standing, partner_id, expected_version)
            return OfferingUpdated(
                **draft.snapshot_fields(), version=current.version + 1, updated_at=utc_now()
            )

        return await self._announce(offering_id, partner_id, replacement)

    async def withdraw(
        self, partner_id: str, offering_id: str, reason: str, expected_version: int | None
    ) -> OfferingWithdrawn:
        def withdrawal(standing: Standing | None) -> OfferingWithdrawn:
            current = check_change(offering_id, standing, partner_id, expected_version)
            return OfferingWithdrawn(
                offering_id=offering_id,
                partner_id=partner_id,
                version=current.version + 1,
                reason=reason,
                withdrawn_at=utc_now(),
            )

        return await self._announce(offering_id, partner_id, withdrawal)

    async def _announce(
        self,
        offering_id: str,
        partner_id: str,
        decide: Callable[[Standing | None], EventT],
    ) -> EventT:
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                async with self._units_of_work() as uow:
                    versions = EmittedVersions(uow.session)
                    emitted = await versions.get_for_update(offering_id)
                    listing = await OfferingRepository(uow.session).get(offering_id)
                    event = decide(latest(_emitted_standing(emitted), _listed_standing(listing)))
                    moved = await versions.advance(
                        offering_id,
                        partner_id,
                        emitted.version if emitted else None,
                        event.version,
                        isinstance(event, OfferingWithdrawn),
                    )
                    if moved:
                        uow.record(event)
                        await uow.commit()
                        return event
            except Exception as exc:
                # A serialisation failure or lost connection is worth another attempt too.
                if not is_transient(exc) or attempt == _ATTEMPTS:
                    raise
        raise ConcurrentChange(
            f"Offering {offering_id} is being changed by others; read it again and retry."
        )


def _emitted_standing(record: EmittedVersionRecord | None) -> Standing | None:
    return Standing(record.partner_id, record.version, record.withdrawn) if record else None


def _listed_standing(listing: Listing | None) -> Standing | None:
    return Standing(listing.partner_id, listing.version, not listing.is_open) if listing else None
