"""The demo data file: valid against the contract, and a believable alliance to try things on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from infra.demo import DEMO_OFFERINGS, DemoError, by_partner, read_offerings
from shared.events import OfferingSnapshot
from shared.registry import AllianceRegistry

REGISTRY = AllianceRegistry.load()
OFFERINGS = read_offerings()
BY_ID = {offering.offering_id: offering for offering in OFFERINGS}
# The language each partner teaches in besides English, by the partner's country.
NATIONAL_LANGUAGE = {"DK": "da", "ES": "es", "DE": "de", "IT": "it", "NL": "nl"}
ISCED_F = re.compile(r"^\d{4} \S")


def _hours(iso_duration: str) -> int:
    match = re.fullmatch(r"PT(\d+)H", iso_duration)
    assert match, f"volume of learning {iso_duration} is not whole hours"
    return int(match.group(1))


def _languages_expected(offering: OfferingSnapshot) -> set[str]:
    return {"en"} | {NATIONAL_LANGUAGE[body.country] for body in offering.awarding_bodies}


def _required(offering: OfferingSnapshot) -> tuple[str, ...]:
    return offering.prerequisites.required_offering_ids if offering.prerequisites else ()


def test_the_partners_are_exactly_the_registry_s_with_three_offerings_each() -> None:
    grouped = by_partner(OFFERINGS)
    assert set(grouped) == set(REGISTRY.partners)
    assert len({REGISTRY.partners[p].country for p in grouped}) >= 4
    assert all(len(own) >= 3 for own in grouped.values()), {p: len(o) for p, o in grouped.items()}
    assert len(OFFERINGS) >= 15


@pytest.mark.parametrize("offering", OFFERINGS, ids=lambda o: o.offering_id)
def test_every_offering_carries_the_eu_elements(offering: OfferingSnapshot) -> None:
    assert offering.offering_id.startswith(f"off-{offering.partner_id}-")
    # Awarding bodies and countries as the registry knows them (mandatory elements 3 and 4).
    for body in offering.awarding_bodies:
        partner = REGISTRY.partners[body.partner_id]
        assert (body.legal_name, body.country) == (partner.legal_name, partner.country)
    assert set(offering.countries) == {body.country for body in offering.awarding_bodies}
    assert offering.partner_id in {body.partner_id for body in offering.awarding_bodies}
    # Workload (7) and level (8) in the ranges of short courses.
    assert 2 <= offering.workload.ects <= 6
    assert offering.workload.volume_of_learning is not None
    assert 25 <= _hours(offering.workload.volume_of_learning) / offering.workload.ects <= 30
    assert 5 <= offering.eqf_level <= 7
    # The optional elements that apply to every demo offering.
    assert offering.supervision_and_identity_verification is not None
    assert offering.stackability is not None
    assert offering.further_information_url is not None
    assert all(ISCED_F.match(field) for field in offering.fields_of_study)
    assert {offering.start_date.year, offering.end_date.year} <= {2026, 2027}


@pytest.mark.parametrize("offering", OFFERINGS, ids=lambda o: o.offering_id)
def test_every_text_is_in_english_and_in_each_awarding_partner_s_language(
    offering: OfferingSnapshot,
) -> None:
    expected = _languages_expected(offering)
    texts = [offering.title, offering.description or {}]
    texts += [outcome.text for outcome in offering.learning_outcomes]
    if offering.prerequisites:
        texts.append(offering.prerequisites.description)
    for text in texts:
        assert expected <= set(text), f"{sorted(expected)} expected, got {sorted(text)}"


def test_prerequisites_name_offerings_in_the_file_that_end_before_the_course_starts() -> None:
    required = [(o, BY_ID[r]) for o in OFFERINGS for r in _required(o)]
    assert any(o.partner_id != r.partner_id for o, r in required), "no cross-partner prerequisite"
    valdemora_requires = {r.partner_id for o, r in required if o.partner_id == "valdemora"}
    assert "nordhavn" in valdemora_requires
    for offering, prerequisite in required:
        assert prerequisite.end_date < offering.start_date, offering.offering_id


def test_some_offerings_are_jointly_awarded_and_one_has_two_places() -> None:
    joint = [o for o in OFFERINGS if len({b.partner_id for b in o.awarding_bodies}) == 2]
    assert joint
    assert all(len(set(o.countries)) == 2 for o in joint)
    assert any(o.capacity == 2 for o in OFFERINGS)
    assert sum(1 for o in OFFERINGS for x in o.learning_outcomes if x.esco_skill_uri) >= 5


def _write_with(tmp_path: Path, **changes: object) -> Path:
    """The demo file with only its first offering, changed."""
    first = yaml.safe_load(DEMO_OFFERINGS.read_text(encoding="utf-8"))["offerings"][0]
    path = tmp_path / "offerings.yaml"
    path.write_text(yaml.safe_dump({"offerings": [{**first, **changes}]}), encoding="utf-8")
    return path


def test_a_bad_offering_is_refused_naming_the_offering_and_the_field(tmp_path: Path) -> None:
    path = _write_with(tmp_path, workload={"ects": 0, "volume_of_learning": "PT10H"})
    with pytest.raises(DemoError) as refused:
        read_offerings(path)
    assert "off-nordhavn-intro-data-science" in str(refused.value)
    assert "workload.ects" in str(refused.value)


def test_a_prerequisite_missing_from_the_file_is_refused(tmp_path: Path) -> None:
    prerequisites = {"description": {"en": "x"}, "required_offering_ids": ["off-nowhere-course"]}
    with pytest.raises(DemoError, match="names off-nowhere-course, which is not in the file"):
        read_offerings(_write_with(tmp_path, prerequisites=prerequisites))


def test_an_offering_of_a_partner_outside_the_registry_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="'atlantis' is not a partner"):
        read_offerings(_write_with(tmp_path, partner_id="atlantis"))
