"""Recognition's rules as plain functions: progress on pathways and recognition rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from services.recognition.domain import (
    HeldCredential,
    OfferingSummary,
    RecognitionRule,
    RuleSet,
    add_months,
    apply_rules,
    evaluate,
    suggestions,
)
from shared.events import RecognitionDecision
from shared.events.pathways import PathwayCriteria, PathwayDefined

T0 = dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)
SKILL_A = "http://data.europa.eu/esco/skill/aaaa-1"
SKILL_B = "http://data.europa.eu/esco/skill/bbbb-2"


def pathway(**criteria: Any) -> PathwayDefined:
    fields: dict[str, Any] = {"min_ects": 15, "min_eqf_level": 6, "min_partners": 2}
    return PathwayDefined(
        pathway_id="pth-responsible-ai",
        version=1,
        owner_partner_id="valdemora",
        title={"en": "Responsible AI"},
        description={"en": "Data, learning and the ethics of AI."},
        criteria=PathwayCriteria(**(fields | criteria)),
        defined_at=T0,
    )


def credential(
    number: int,
    partner: str = "nordhavn",
    ects: float = 5,
    eqf: int = 6,
    days: int = 0,
    offering: str | None = None,
    **changes: Any,
) -> HeldCredential:
    fields: dict[str, Any] = {
        "credential_id": f"cred-{number:04d}",
        "learner_id": "lrn-test-0001",
        "offering_id": offering or f"off-{partner}-{number:04d}",
        "pathway_id": None,
        "awarding_partner_id": partner,
        "ects": ects,
        "eqf_level": eqf,
        "title": {"en": f"Module {number}"},
        "issued_at": T0 + dt.timedelta(days=days),
        **changes,
    }
    return HeldCredential(**fields)


def revoked(held: HeldCredential) -> HeldCredential:
    return HeldCredential(
        **{**held.__dict__, "revoked_at": T0, "revocation_reason": "result_superseded"}
    )


# --- progress on a pathway -----------------------------------------------------------------


def test_three_credentials_from_two_partners_complete_the_pathway() -> None:
    held = [credential(1), credential(2, "valdemora"), credential(3, "rheinfeld")]
    progress = evaluate(pathway(), held)
    assert progress.complete
    assert progress.counted_ids == ("cred-0001", "cred-0002", "cred-0003")
    assert progress.ects_earned == 15
    assert progress.partners_counted == ("nordhavn", "rheinfeld", "valdemora")
    assert progress.missing == ()


def test_what_is_missing_is_said_in_words() -> None:
    progress = evaluate(
        pathway(required_offering_ids=("off-valdemora-data-ethics",)),
        [credential(1)],
        titles={"off-valdemora-data-ethics": "Data Ethics in Practice (valdemora)"},
    )
    assert not progress.complete
    assert progress.missing == (
        "10 more ECTS at EQF 6 or above (5 of 15 earned)",
        "credentials from 1 more awarding partner (so far: nordhavn)",
        "the module Data Ethics in Practice (valdemora)",
    )
    assert progress.missing_ects == 10
    assert progress.missing_offering_ids == ("off-valdemora-data-ethics",)


def test_credentials_below_the_eqf_level_do_not_count() -> None:
    held = [credential(1), credential(2, "valdemora", eqf=5), credential(3, "rheinfeld")]
    progress = evaluate(pathway(), held)
    assert progress.counted_ids == ("cred-0001", "cred-0003")
    assert dict((c.credential_id, r) for c, r in progress.not_counted) == {
        "cred-0002": "EQF 5 is below the required EQF 6"
    }
    assert not progress.complete


def test_enough_ects_from_one_partner_misses_the_second_partner() -> None:
    held = [credential(n, ects=6) for n in (1, 2, 3)]
    progress = evaluate(pathway(), held)
    assert progress.ects_earned == 18
    assert progress.missing_partners == 1
    assert not progress.complete
    assert evaluate(pathway(min_partners=1), held).complete


def test_the_required_module_is_needed_however_many_ects() -> None:
    held = [credential(n, p, ects=6) for n, p in ((1, "nordhavn"), (2, "valdemora"), (3, "x-u"))]
    required = pathway(required_offering_ids=("off-lindeveld-xai",))
    assert not evaluate(required, held).complete
    with_module = [*held, credential(4, "lindeveld", offering="off-lindeveld-xai")]
    assert evaluate(required, with_module).complete


def test_only_eligible_offerings_count_and_required_ones_are_eligible() -> None:
    definition = pathway(
        eligible_offering_ids=("off-nordhavn-0001",), required_offering_ids=("off-valdemora-0002",)
    )
    held = [credential(1, ects=10), credential(2, "valdemora"), credential(3, "rheinfeld")]
    progress = evaluate(definition, held)
    assert progress.counted_ids == ("cred-0001", "cred-0002")
    assert progress.complete
    assert dict((c.credential_id, r) for c, r in progress.not_counted) == {
        "cred-0003": "its offering is not part of this pathway"
    }


def test_revoked_and_stacked_credentials_do_not_count() -> None:
    held = [
        credential(1),
        revoked(credential(2, "valdemora")),
        credential(3, "rheinfeld"),
        credential(4, "valdemora", ects=15, pathway_id="pth-other-one", offering_id=None),
    ]
    progress = evaluate(pathway(), held)
    assert progress.counted_ids == ("cred-0001", "cred-0003")
    reasons = dict((c.credential_id, r) for c, r in progress.not_counted)
    assert reasons["cred-0002"] == "revoked (result_superseded)"
    assert reasons["cred-0004"] == "a stacked credential does not count towards pathways"


def test_a_suspended_credential_does_not_count_until_reinstated() -> None:
    suspended = HeldCredential(**{**credential(2, "valdemora").__dict__, "suspended_at": T0})
    held = [credential(1), suspended, credential(3, "rheinfeld")]
    progress = evaluate(pathway(), held)
    assert progress.counted_ids == ("cred-0001", "cred-0003")
    reasons = dict((c.credential_id, r) for c, r in progress.not_counted)
    assert reasons["cred-0002"].startswith("suspended")
    assert suspended.counts, "a suspension is not a revocation"
    assert evaluate(pathway(), [c.reinstated() for c in held]).complete


def test_one_credential_counts_per_offering() -> None:
    first = credential(1, ects=5, offering="off-nordhavn-same")
    again = credential(2, ects=5, offering="off-nordhavn-same", days=30)
    progress = evaluate(pathway(min_ects=10, min_partners=1), [first, again])
    assert progress.counted_ids == ("cred-0002",)
    assert progress.ects_earned == 5


def test_dates_of_the_window_bound_what_counts() -> None:
    held = [credential(1, days=-30), credential(2, "valdemora"), credential(3, "rheinfeld")]
    definition = pathway(issued_from=T0.date(), issued_until=(T0 + dt.timedelta(days=10)).date())
    progress = evaluate(definition, held)
    assert progress.counted_ids == ("cred-0002", "cred-0003")
    assert dict((c.credential_id, r) for c, r in progress.not_counted) == {
        "cred-0001": "issued before 2026-01-15"
    }
    late = evaluate(pathway(issued_until=T0.date() - dt.timedelta(days=1)), held)
    assert late.counted_ids == ("cred-0001",)


def test_a_months_window_picks_the_best_span_of_credentials() -> None:
    # Two early credentials, then three within six months of each other two years later.
    held = [
        credential(1, days=0),
        credential(2, "valdemora", days=10),
        credential(3, "rheinfeld", days=700),
        credential(4, "lindeveld", days=760),
        credential(5, "nordhavn", days=820),
    ]
    progress = evaluate(pathway(within_months=6), held)
    assert progress.complete
    assert progress.counted_ids == ("cred-0003", "cred-0004", "cred-0005")
    incomplete = evaluate(pathway(within_months=6), held[:3])
    assert not incomplete.complete
    assert incomplete.counted_ids == ("cred-0001", "cred-0002")
    assert incomplete.missing[-1].startswith("credentials issued within 6 months of each other")
    assert evaluate(pathway(within_months=36), held[:3]).complete


def test_add_months_keeps_the_day_or_takes_the_last_of_a_shorter_month() -> None:
    assert add_months(dt.datetime(2026, 1, 31, tzinfo=dt.UTC), 1).date() == dt.date(2026, 2, 28)
    assert add_months(dt.datetime(2026, 11, 15, tzinfo=dt.UTC), 3).date() == dt.date(2027, 2, 15)


@pytest.mark.parametrize(
    ("ects", "partners", "complete"),
    [((5, 5, 5), 2, True), ((5, 5, 4), 2, False), ((15,), 1, True), ((15,), 2, False)],
)
def test_ects_and_partner_combinations(
    ects: tuple[float, ...], partners: int, complete: bool
) -> None:
    names = ["nordhavn", "valdemora", "rheinfeld"]
    held = [credential(n, names[n % len(names)], ects=e) for n, e in enumerate(ects)]
    assert evaluate(pathway(min_partners=partners), held).complete is complete


def test_suggestions_name_the_missing_module_first_then_new_partners() -> None:
    definition = pathway(required_offering_ids=("off-valdemora-ethics",))
    progress = evaluate(definition, [credential(1, ects=10)])
    end = T0.date() + dt.timedelta(days=60)
    offerings = [
        OfferingSummary("off-valdemora-ethics", "valdemora", {"en": "Ethics"}, 4, 6, end, True),
        OfferingSummary("off-nordhavn-more", "nordhavn", {"en": "More"}, 5, 6, end, True),
        OfferingSummary("off-rheinfeld-ml", "rheinfeld", {"en": "ML"}, 5, 6, end, True),
        OfferingSummary("off-rheinfeld-low", "rheinfeld", {"en": "Low"}, 5, 5, end, True),
        OfferingSummary("off-lindeveld-closed", "lindeveld", {"en": "Gone"}, 5, 6, end, False),
        OfferingSummary("off-nordhavn-0001", "nordhavn", {"en": "Held"}, 5, 6, end, True),
    ]
    found = suggestions(definition, progress, offerings, {"off-nordhavn-0001"})
    assert [(s.offering.offering_id, s.why) for s in found] == [
        ("off-valdemora-ethics", "a required module"),
        ("off-rheinfeld-ml", "from a partner not counted yet"),
        ("off-nordhavn-more", "adds 5 ECTS"),
    ]
    complete = evaluate(
        definition,
        [credential(1, ects=11), credential(2, "valdemora", offering="off-valdemora-ethics")],
    )
    assert suggestions(definition, complete, offerings, set()) == []


# --- recognition rules ---------------------------------------------------------------------


RULES = RuleSet(
    rules=(
        RecognitionRule(
            programme="MSc Data Science",
            programme_eqf_level=7,
            levels_below_allowed=1,
            min_ects=4,
            skill_uris=(SKILL_A, SKILL_B),
        ),
        RecognitionRule(
            programme="MSc Energy Engineering",
            programme_eqf_level=7,
            min_ects=5,
            refuse_when_unmet=True,
        ),
    )
)


def test_a_credential_meeting_the_rule_is_recognised_with_reasons() -> None:
    held = credential(1, ects=5, eqf=6, skill_uris=(SKILL_A,))
    outcome = apply_rules(RULES, "vallombra", "msc data science", held)
    assert outcome.decision is RecognitionDecision.RECOGNISED
    assert outcome.reasons == (
        "EQF 6 meets the minimum EQF 6 for MSc Data Science",
        "5 ECTS meet the 4 ECTS required",
        "1 of the programme's learning outcomes match (at least 1 needed)",
    )


@pytest.mark.parametrize(
    ("changes", "unmet"),
    [
        ({"eqf": 5}, "EQF 5 is below the minimum EQF 6 for MSc Data Science"),
        ({"ects": 3}, "3 ECTS fall short of the 4 ECTS required"),
        ({"skill_uris": ()}, "0 of the programme's learning outcomes match (at least 1 needed)"),
    ],
)
def test_an_unmet_rule_leaves_the_decision_to_staff(changes: dict[str, Any], unmet: str) -> None:
    fields: dict[str, Any] = {"ects": 5, "eqf": 6, "skill_uris": (SKILL_B,)} | changes
    held = credential(1, **fields)
    outcome = apply_rules(RULES, "vallombra", "MSc Data Science", held)
    assert outcome.decision is None
    assert outcome.reasons[0] == unmet
    assert outcome.reasons[-1] == "The rules of vallombra cannot decide; its staff will."


def test_a_rule_may_refuse_what_does_not_meet_it() -> None:
    outcome = apply_rules(RULES, "vallombra", "MSc Energy Engineering", credential(1, eqf=6))
    assert outcome.decision is RecognitionDecision.REFUSED
    assert outcome.reasons == ("EQF 6 is below the minimum EQF 7 for MSc Energy Engineering",)


def test_no_rule_for_the_programme_leaves_it_to_staff() -> None:
    outcome = apply_rules(RULES, "vallombra", "BSc History", credential(1))
    assert outcome.decision is None
    assert outcome.reasons == (
        "No published rule of vallombra covers BSc History; its staff decide.",
    )


def test_a_rule_set_has_one_rule_per_programme() -> None:
    rule = RecognitionRule(programme="MSc X", programme_eqf_level=7)
    with pytest.raises(ValueError, match="only one rule"):
        RuleSet(rules=(rule, rule.model_copy(update={"programme": "msc x"})))
