"""Who sends and who receives each event.

Senders are the alliance registry's entitlements (`may_emit` in alliance/registry.yaml), the
same the services enforce on every event they consume; receivers are declared here. The
AsyncAPI document and the broker's ACLs are both derived from these two.
"""

from __future__ import annotations

from typing import NamedTuple

from services import SERVICES
from shared.events import EVENT_SPECS
from shared.registry import DEFAULT_REGISTRY, AllianceRegistry

# A university's own SIS or LMS, as one party of the contract: what any partner may send.
PARTNER_SYSTEMS = "partner-systems"
# Every party of the contract, in the order the AsyncAPI document lists their operations.
PARTIES = (*SERVICES, PARTNER_SYSTEMS)

_OFFERINGS = ("catalogue", "enrolment", "assessment", "issuance", "recognition")
_ENROLMENTS = ("assessment", PARTNER_SYSTEMS)
_CREDENTIALS = ("enrolment", "recognition", PARTNER_SYSTEMS)
_TO_PARTNERS = (PARTNER_SYSTEMS,)
_TO_ISSUANCE = ("issuance", PARTNER_SYSTEMS)
# Event name -> who receives it. The catalogue reads the offerings topic too, so it holds what
# partners published directly; recognition reads pathway definitions, whether a partner's
# system or its own API announced them. The gateway reads through the services' APIs and
# receives no events.
RECEIVERS: dict[str, tuple[str, ...]] = {
    "offering.published": _OFFERINGS,
    "offering.updated": _OFFERINGS,
    "offering.withdrawn": _OFFERINGS,
    "enrolment.requested": _ENROLMENTS,
    "enrolment.accepted": _ENROLMENTS,
    "enrolment.waitlisted": _ENROLMENTS,
    "enrolment.rejected": _ENROLMENTS,
    "enrolment.withdrawn": _ENROLMENTS,
    "assessment.result_submitted": ("assessment",),
    "assessment.result_recorded": _TO_ISSUANCE,
    "credential.issued": _CREDENTIALS,
    "credential.revoked": _CREDENTIALS,
    "credential.suspended": _CREDENTIALS,
    "credential.reinstated": _CREDENTIALS,
    "pathway.progressed": _TO_PARTNERS,
    "pathway.completed": _TO_ISSUANCE,
    "pathway.defined": ("recognition",),
    "pathway.completion_revoked": _TO_ISSUANCE,
    "recognition.requested": _TO_PARTNERS,
    "recognition.decided": _TO_PARTNERS,
    "recognition.withdrawn": _TO_PARTNERS,
}


class Route(NamedTuple):
    senders: tuple[str, ...]
    receivers: tuple[str, ...]


def routes(registry: AllianceRegistry | None = None) -> dict[str, Route]:
    """Event name -> its senders (from the registry) and receivers, for every event."""
    registry = registry or AllianceRegistry.load(DEFAULT_REGISTRY)
    table = {}
    for spec in EVENT_SPECS:
        senders = [s.id for s in registry.services.values() if s.may_send(spec.name)]
        if any(partner.may_send(spec.name) for partner in registry.partners.values()):
            senders.append(PARTNER_SYSTEMS)
        table[spec.name] = Route(tuple(senders), RECEIVERS[spec.name])
    return table
