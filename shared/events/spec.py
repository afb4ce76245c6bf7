"""How an event type is described once, for producers, consumers and the contract files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
TYPE_PREFIX = "eu.alliance."

EventT = TypeVar("EventT", bound=BaseModel)


@dataclass(frozen=True)
class EventSpec(Generic[EventT]):
    """One event type at one version.

    `name` is the dotted event name (`offering.published`); the CloudEvents `type` adds the
    alliance prefix and the version (`eu.alliance.offering.published.v1`), so a consumer
    can route on the header alone.
    """

    name: str
    version: int
    model: type[EventT]
    topic: str
    summary: str
    # The Kafka key: the entity whose events must stay in order.
    key: Callable[[EventT], str]
    # CloudEvents `subject`: the entity the event is about.
    subject: Callable[[EventT], str]
    # The partner on whose behalf the event speaks; a partner system may only emit events
    # for itself (see shared.registry).
    acting_partner: Callable[[EventT], str]

    @property
    def ce_type(self) -> str:
        return f"{TYPE_PREFIX}{self.name}.v{self.version}"

    @property
    def schema_path(self) -> Path:
        return CONTRACTS_DIR / "schemas" / f"{self.name}.v{self.version}.schema.json"

    @property
    def schema_id(self) -> str:
        """The `$id` of the schema and the CloudEvents `dataschema`."""
        return (
            f"https://alliance.example.eu/contracts/schemas/{self.name}.v{self.version}.schema.json"
        )
