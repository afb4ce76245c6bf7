"""The share page: in the viewer's language from those the credential carries, every EU
element, escaped text, the learner's name when they show it, and the identity check."""

from __future__ import annotations

import json
import re
from html import unescape

import httpx

from services.gateway.presentation import LABELS, choose_language, essentials
from services.gateway.shares import identity_matches
from shared.credentials import LearningOutcome
from shared.credentials.microcredential import identity_hash
from tests.catalogue.helpers import bearer
from tests.gateway.fake_issuance import FakeIssuance, learner
from tests.gateway.pages_support import (
    DESCRIPTION_DE,
    NAME,
    OUTCOME,
    OUTCOME_DE,
    PREREQUISITES,
    PREREQUISITES_DE,
    TITLE_DE,
    TITLE_EN,
    hold,
    multilingual,
    share,
)


def _text(html: str) -> str:
    """The page's visible text, tags left out, whitespace collapsed."""
    body = html.split("<body>", 1)[1]
    body = re.sub(r"<svg.*?</svg>", " ", body, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


async def test_the_page_speaks_the_viewers_language_and_only_that_one(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    token = await share(gateway, "ada", hold(issuance, "ada", multilingual("ada", 201)))
    page = f"/shared/{token}/page"

    german = await gateway.get(page, headers={"accept-language": "de-AT, de;q=0.9, en;q=0.5"})
    assert german.status_code == 200, german.text
    assert german.headers["content-language"] == "de"
    html = german.text
    assert '<html lang="de">' in html
    assert f"<h1>{TITLE_DE}</h1>" in html
    text = _text(html)
    for fact in (DESCRIPTION_DE, "Status: gültig", "Ausstellungsdatum 2026-06-30",
                 "Art der Prüfung Projektarbeit", "Form der Teilnahme Blended",
                 "Qualitätssicherung Institutionelle Qualitätssicherung", "Note 1,7",
                 "Notenskala de-1-5", "Integration und Kombinierbarkeit Integriert",
                 "Lernergebnisse"):  # fmt: skip
        assert fact in text, fact
    # No English label or English title: the outcome is shown as the credential states it,
    # marked English and said to be so, in German.
    english = LABELS["en"]
    for key in ("date_of_issue", "awarding_body", "learning_outcomes", "assessment",
                "grading_scheme", "verify", "as_issued"):  # fmt: skip
        assert english[key] not in text, english[key]
    assert TITLE_EN not in text
    assert "Germany" not in text
    assert f'<ul lang="en">\n<li>{OUTCOME}</li>' in html
    assert "Der Nachweis nennt dies nur auf Englisch" in text

    # ?lang= wins over Accept-Language; a language the credential lacks falls back to its own.
    assert (
        f"<h1>{TITLE_DE}</h1>"
        in (await gateway.get(page, params={"lang": "de"}, headers={"accept-language": "en"})).text
    )
    for asked in ({"accept-language": "fr-FR, fr"}, {}):
        english_page = await gateway.get(page, headers=asked)
        assert english_page.headers["content-language"] == "en"
        assert f"<h1>{TITLE_EN}</h1>" in english_page.text
        assert TITLE_DE not in english_page.text
    assert (await gateway.get(page, params={"lang": "<b>"})).status_code == 422
    # The page links its other language, and the PDF in its own.
    assert f'href="https://wallet.example/shared/{token}/page?lang=en"' in html
    assert f'href="https://wallet.example/shared/{token}/pdf?lang=de"' in html


async def test_outcomes_and_prerequisites_the_offering_gives_in_german_are_shown_in_german(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    translated = LearningOutcome(OUTCOME, translations={"de": OUTCOME_DE})
    document = multilingual("ada", 208, outcomes=[translated], prerequisites_de=PREREQUISITES_DE)
    token = await share(gateway, "ada", hold(issuance, "ada", document))
    html = (await gateway.get(f"/shared/{token}/page", params={"lang": "de"})).text
    text = _text(html)
    assert f"<li>{OUTCOME_DE}</li>" in html
    assert f"Voraussetzungen {PREREQUISITES_DE}" in text
    for english in (OUTCOME, PREREQUISITES, LABELS["de"]["only_in"]):
        assert english not in text, english
    # The English page keeps to English.
    english_text = _text((await gateway.get(f"/shared/{token}/page")).text)
    assert f"Learning outcomes {OUTCOME}" in english_text
    assert f"Prerequisites {PREREQUISITES}" in english_text
    assert OUTCOME_DE not in english_text
    assert PREREQUISITES_DE not in english_text


async def test_an_outcome_the_offering_lacks_in_the_pages_language_is_shown_marked(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    other = "Simulate a grid-tied inverter."
    outcomes = [LearningOutcome(OUTCOME, translations={"de": OUTCOME_DE}), LearningOutcome(other)]
    document = multilingual("ada", 209, outcomes=outcomes)
    token = await share(gateway, "ada", hold(issuance, "ada", document))
    html = (await gateway.get(f"/shared/{token}/page", params={"lang": "de"})).text
    assert f"<ul>\n<li>{OUTCOME_DE}</li>\n" in html
    assert (
        f'<li><span lang="en">{other}</span> '
        '<span class="only-in">(Der Nachweis nennt dies nur auf Englisch)</span></li>'
    ) in html
    assert OUTCOME not in html
    # The prerequisites, given in English only, are marked too.
    assert f"Voraussetzungen {PREREQUISITES} (Der Nachweis nennt dies nur auf Englisch)" in (
        _text(html)
    )


async def test_the_page_shows_every_eu_element_the_grade_and_the_optional_ones(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    token = await share(gateway, "ada", hold(issuance, "ada", multilingual("ada", 202)))
    text = _text((await gateway.get(f"/shared/{token}/page")).text)
    mandatory = [
        "Learner identified in the credential by a salted hash",  # 1, and the check below
        TITLE_EN,  # 2
        "Awarding body Technische Hochschule Rheinfeld (Germany, DE)",  # 3, 4
        "Issued by Nordhavn University of Technology (Denmark, DK)",
        "Date of issue 2026-06-30",  # 5
        f"Learning outcomes {OUTCOME}",  # 6
        "Workload 5 ECTS",  # 7
        "EQF level 6",  # 8
        "Type of assessment Project work",  # 9
        "Form of participation Blended",  # 10
        "Quality assurance Institutional quality assurance",  # 11
    ]
    optional = [
        "Grade 1,7",
        "Grading scheme de-1-5",
        "Supervision and identity verification Supervised online or onsite with identity "
        "verification",
        "Integration and stackability Integrated, stackable towards another credential",
        "Prerequisites Basic circuit theory",
        "Further information https://rheinfeld.example/power-electronics",
        "Learning activity 2026-04-01 \N{EN DASH} 2026-06-30",
        "Credits earned 5 ECTS",
    ]
    for fact in mandatory + optional:
        assert fact in text, fact
    assert "Status: valid (checked with its issuer when this page was opened)" in text
    assert f"POST https://wallet.example/shared/{token}/identity-check" in text
    # The learner chose no name to show.
    assert NAME not in text


async def test_the_status_is_looked_up_when_the_page_is_viewed(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = hold(issuance, "ada", multilingual("ada", 203))
    token = await share(gateway, "ada", credential_id)
    issuance.suspended.add(credential_id)
    assert "Status: ausgesetzt" in (await gateway.get(f"/shared/{token}/page?lang=de")).text
    issuance.suspended.clear()
    issuance.revoked.add(203)
    assert "Status: revoked" in (await gateway.get(f"/shared/{token}/page")).text


async def test_a_script_in_the_credential_is_text_on_the_page(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    script = '<script>alert("x")</script>'
    document = multilingual("ada", 204, title=f"Power {script}", title_de=f"Leistung {script}")
    token = await share(gateway, "ada", hold(issuance, "ada", document))
    for lang in ("en", "de"):
        html = (await gateway.get(f"/shared/{token}/page", params={"lang": lang})).text
        assert "<script" not in html, lang
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html, lang
    # The verification page and the learner's share list escape it too.
    details = await gateway.get(f"/verify/{token}", headers={"accept": "text/html"})
    assert "<script" not in details.text
    assert "&lt;script&gt;" in details.text


async def test_the_learner_may_show_their_name_and_a_verifier_may_check_one(
    gateway: httpx.AsyncClient, issuance: FakeIssuance
) -> None:
    credential_id = hold(issuance, "ada", multilingual("ada", 205))
    named = await share(gateway, "ada", credential_id, show_name=NAME)
    text = _text((await gateway.get(f"/shared/{named}/page")).text)
    assert f"Name shown by the learner {NAME} (matches the credential's hashed identity)" in text
    german = _text((await gateway.get(f"/shared/{named}/page?lang=de")).text)
    assert f"{NAME} (stimmt mit der gehashten Identität des Nachweises überein)" in german

    # A name the credential does not hash is shown as the learner's word only.
    other = await share(gateway, "ada", credential_id, show_name="Augusta King")
    text = _text((await gateway.get(f"/shared/{other}/page")).text)
    assert "Augusta King (not confirmed by the credential)" in text

    check = f"/shared/{named}/identity-check"
    for claimed, match in ((NAME, True), (f"  {NAME} ", True), ("ada lovelace", False),
                           ("Grace Hopper", False), (learner("ada"), True),
                           (learner("grace"), False)):  # fmt: skip
        answer = await gateway.post(check, json={"identity": claimed})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"match": match}, claimed
    assert (await gateway.post(check, json={"identity": ""})).status_code == 422
    assert (await gateway.post(check, json={"identity": NAME, "x": 1})).status_code == 422

    await gateway.delete(f"/me/shares/{named}", headers=bearer("ada"))
    assert (await gateway.post(check, json={"identity": NAME})).status_code == 410
    assert (await gateway.post(f"/shared/{'A' * 43}/identity-check",
                               json={"identity": NAME})).status_code == 404  # fmt: skip


def test_an_e_mail_address_is_checked_as_hashed_and_unhashed_identities_as_given() -> None:
    credential = json.loads(multilingual("ada", 206, learner_name=None))
    [identity] = credential["credentialSubject"]["identifier"]
    assert not identity_matches(credential, NAME)
    identity["identityHash"] = identity_hash("ada@example.org", identity["salt"])
    assert identity_matches(credential, "Ada@Example.org")
    plain = {"credentialSubject": {"identifier": [{"identityHash": "x-1", "hashed": False}]}}
    assert identity_matches(plain, "x-1")
    assert not identity_matches(plain, "x-2")
    assert not identity_matches({"credentialSubject": {"identifier": "junk"}}, "junk")
    assert not identity_matches([], NAME)


def test_the_language_is_chosen_from_those_carried() -> None:
    assert choose_language(("en", "de"), None, "da, de;q=0.8") == "de"
    assert choose_language(("en", "de"), None, "de;q=0, en;q=0.1") == "en"
    assert choose_language(("da", "en"), None, None) == "da"
    assert choose_language(("en", "de"), "DE-ch", "en") == "de"
    assert choose_language(("en", "de"), None, "q=;;,*") == "en"
    # A language the pages have no labels for is never chosen over one they have.
    assert choose_language(("fr", "de"), None, "fr") == "de"
    facts = essentials(json.loads(multilingual("ada", 207)), "de")
    assert (facts.title, facts.title_language, facts.description) == (
        TITLE_DE,
        None,
        DESCRIPTION_DE,
    )
    assert ("Arbeitsaufwand", "5 ECTS") in facts.rows()
