"""The publishing rules, without I/O: who may change an offering, and which version is next."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.catalogue.api import OfferingDraft
from services.catalogue.domain import (
    AlreadyWithdrawn,
    NotTheOwner,
    OfferingNotFound,
    Standing,
    VersionMismatch,
    check_change,
    latest,
)
from tests.catalogue.helpers import offering_draft

OFFERING = "off-valdemora-x-1"


def test_the_later_of_what_the_api_announced_and_what_the_read_model_shows_counts() -> None:
    emitted = Standing("valdemora", 3, withdrawn=False)
    listed = Standing("valdemora", 5, withdrawn=True)  # moved on by the partner's own system
    assert latest(emitted, listed) == listed
    assert latest(emitted, None) == emitted
    assert latest(None, None) is None


def test_only_the_owner_changes_an_offering_that_is_still_published() -> None:
    mine = Standing("valdemora", 2, withdrawn=False)
    assert check_change(OFFERING, mine, "valdemora", None) == mine
    assert check_change(OFFERING, mine, "valdemora", 2) == mine
    with pytest.raises(OfferingNotFound):
        check_change(OFFERING, None, "valdemora", None)
    with pytest.raises(NotTheOwner):
        check_change(OFFERING, mine, "nordhavn", None)
    with pytest.raises(AlreadyWithdrawn):
        check_change(OFFERING, Standing("valdemora", 3, withdrawn=True), "valdemora", None)
    with pytest.raises(VersionMismatch):
        check_change(OFFERING, mine, "valdemora", 1)


def test_a_draft_is_a_snapshot_without_version_and_keeps_the_snapshot_rules() -> None:
    draft = OfferingDraft.model_validate(offering_draft("valdemora"))
    assert "version" not in draft.snapshot_fields()
    with pytest.raises(ValidationError, match="end_date is before start_date"):
        OfferingDraft.model_validate(
            offering_draft("valdemora") | {"start_date": "2026-05-01", "end_date": "2026-04-01"}
        )
    with pytest.raises(ValidationError, match="version"):
        OfferingDraft.model_validate(offering_draft("valdemora") | {"version": 7})
