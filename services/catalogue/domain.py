"""Catalogue rules, in plain Python: which offering events change what the learner sees."""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import Conflict, NotFound, NotPermitted, Stale
from shared.events import OfferingSnapshot, OfferingWithdrawn
from shared.offering_views import OfferingEvent, supersedes


class OfferingNotFound(NotFound):
    title = "Offering not found"


class NotTheOwner(NotPermitted):
    pass


class AlreadyExists(Conflict):
    title = "Offering already exists"


class AlreadyWithdrawn(Conflict):
    title = "Offering withdrawn"


class VersionMismatch(Stale):
    pass


@dataclass(frozen=True)
class Listing:
    """What the catalogue shows of one offering."""

    offering_id: str
    partner_id: str
    version: int
    status: str
    snapshot: OfferingSnapshot | None

    @property
    def is_open(self) -> bool:
        return self.status == "published"


def apply_offering(current: Listing | None, event: OfferingEvent) -> Listing | None:
    """The listing after `event`, or None when the event is not newer than what is shown;
    `OfferingConflict` for another partner's event (the rule of `shared.offering_views`)."""
    if not supersedes(event, current):
        return None
    if isinstance(event, OfferingWithdrawn):
        snapshot = current.snapshot if current else None
        return Listing(event.offering_id, event.partner_id, event.version, "withdrawn", snapshot)
    return Listing(event.offering_id, event.partner_id, event.version, "published", event)


@dataclass(frozen=True)
class Standing:
    """What publishing needs to know of an offering: owner, latest version, withdrawn."""

    partner_id: str
    version: int
    withdrawn: bool


def standing_of(listing: Listing | None) -> Standing | None:
    return Standing(listing.partner_id, listing.version, not listing.is_open) if listing else None


def latest(*known: Standing | None) -> Standing | None:
    """The later of what the API announced and what the read model shows: a partner's own
    system may have moved the offering further than the API knows."""
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


def search_text(offering: OfferingSnapshot) -> str:
    parts = [*offering.title.values(), *(offering.description or {}).values()]
    for outcome in offering.learning_outcomes:
        parts.extend(outcome.text.values())
    parts.extend(offering.fields_of_study)
    return " ".join(parts).lower()


def fields_text(offering: OfferingSnapshot) -> str:
    """Its fields of study, lower-cased, one a line (for the field filter)."""
    return "\n".join(field.lower() for field in offering.fields_of_study)


def skills_text(offering: OfferingSnapshot) -> str:
    """The ESCO skills its outcomes link to, lower-cased, one a line (for the skill filter)."""
    uris = (o.esco_skill_uri for o in offering.learning_outcomes if o.esco_skill_uri)
    return "\n".join(uri.lower() for uri in uris)
