"""Catalogue rules, in plain Python: which offering events change what the learner sees."""

from __future__ import annotations

from dataclasses import dataclass

from shared.events import OfferingSnapshot, OfferingWithdrawn
from shared.offering_views import OfferingEvent, supersedes


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
