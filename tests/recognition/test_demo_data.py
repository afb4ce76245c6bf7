"""The demo pathways and recognition rules agree with the demo offerings and the registry."""

from __future__ import annotations

import datetime as dt

import pytest

from infra.demo import read_offerings, read_pathways, read_recognition_rules
from services.recognition.domain import HeldCredential, RuleSet, evaluate
from shared.events.pathways import PathwayDefined
from shared.registry import AllianceRegistry

OFFERINGS = read_offerings()
PATHWAYS = read_pathways(OFFERINGS)


def test_the_alliance_pathway_of_the_architecture_notes_is_there() -> None:
    criteria = {p.pathway_id: p for p in PATHWAYS}["pth-responsible-ai"].criteria
    assert (criteria.min_ects, criteria.min_eqf_level, criteria.min_partners) == (15, 6, 2)
    assert criteria.required_offering_ids == ("off-valdemora-data-ethics",)


@pytest.mark.parametrize("pathway", PATHWAYS, ids=[p.pathway_id for p in PATHWAYS])
def test_each_pathway_can_be_completed_with_its_demo_offerings(pathway: PathwayDefined) -> None:
    wanted = {*pathway.criteria.required_offering_ids, *pathway.criteria.eligible_offering_ids}
    issued = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    held = [
        HeldCredential(
            credential_id=f"cred-demo-{n:04d}",
            learner_id="lrn-demo-0001",
            offering_id=o.offering_id,
            pathway_id=None,
            awarding_partner_id=o.partner_id,
            ects=o.workload.ects,
            eqf_level=o.eqf_level,
            title=dict(o.title),
            issued_at=issued,
        )
        for n, o in enumerate(OFFERINGS)
        if o.offering_id in wanted
    ]
    assert evaluate(pathway, held).complete
    # The required module alone never is enough.
    required = [c for c in held if c.offering_id in pathway.criteria.required_offering_ids]
    assert not evaluate(pathway, required).complete


def test_the_recognition_rules_are_valid_rule_sets_of_registered_partners() -> None:
    rules = read_recognition_rules()
    assert set(rules) <= set(AllianceRegistry.load().partners)
    for rule_set in rules.values():
        assert RuleSet.model_validate(rule_set).rules
