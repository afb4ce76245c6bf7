"""Recognition rules in plain Python: which credentials count for a learner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class HeldCredential:
    credential_id: str
    learner_id: str
    offering_id: str | None
    pathway_id: str | None
    awarding_partner_id: str
    ects: float
    eqf_level: int
    title: dict[str, str]
    issued_at: datetime
    revoked_at: datetime | None = None
    revocation_reason: str | None = None

    @property
    def counts(self) -> bool:
        """A revoked credential no longer counts towards anything."""
        return self.revoked_at is None
