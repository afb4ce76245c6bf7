"""The rule every service's own view of the partners' offerings follows, in plain Python.

Catalogue, enrolment, assessment, issuance and recognition each keep what they need of every
offering in a table of their own, built from the offering events alone. One rule holds for
all of them: an offering's versions only move forward, so a late, redelivered or replayed
older version changes nothing and each view converges whatever order the events arrive in.
An offering also stays with the partner a view first saw announce it.
"""

from __future__ import annotations

from typing import Protocol, TypeAlias

from shared.errors import Conflict
from shared.events import OfferingPublished, OfferingUpdated, OfferingWithdrawn

OfferingEvent: TypeAlias = OfferingPublished | OfferingUpdated | OfferingWithdrawn


class HeldOffering(Protocol):
    """What a view holds of an offering, as far as the rule cares."""

    @property
    def partner_id(self) -> str: ...

    @property
    def version(self) -> int: ...


class OfferingConflict(Conflict):
    """An offering event naming another partner than the one the offering is held for."""


def is_newer(event: OfferingEvent, held: HeldOffering | None) -> bool:
    """Whether `event` is a version of its offering that the view does not hold yet."""
    return held is None or event.version > held.version


def supersedes(event: OfferingEvent, held: HeldOffering | None) -> bool:
    """Whether `event` replaces what the view holds of its offering (only a newer version
    does); raises `OfferingConflict` when it names another partner than the held one."""
    if held is not None and held.partner_id != event.partner_id:
        raise OfferingConflict(
            f"offering {event.offering_id} belongs to {held.partner_id}, not {event.partner_id}"
        )
    return is_newer(event, held)
