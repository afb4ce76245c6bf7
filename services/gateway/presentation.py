"""A shared credential for people: its EU elements as a page or a PDF, in one of the languages
the credential carries, with a QR code to the verification link.

Everything shown comes from the credential itself (which identifies the learner only by
salted hashes), its verification, and the name the learner chose to show when sharing. Pages
are Jinja2 templates (`templates/`) that escape every value; the page has no script.

One page, one language: the viewer's (`?lang=`, then `Accept-Language`) when the credential
carries it, else the credential's own. The labels come from `templates/labels.json`, value-set
concepts (assessment, participation, ...) from `templates/concepts.json` by their code. The
learning outcomes and prerequisites come from the criteria's section in the page's language.
Text the credential does not state in the page's language (an outcome the offering gave in
English only, for instance) is shown as stated, marked with its language and said to be so,
never machine-translated.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from shared.credentials.microcredential import read_narrative
from shared.credentials.pdf import ATTACHMENT, ATTACHMENT_TYPE
from shared.credentials.verifier import CheckName, Outcome, VerificationReport

if TYPE_CHECKING:
    from fpdf import FPDF

# Only the inline styles of the page itself; no script, no remote content.
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
# The language of a credential that does not say (issuance's labels are English).
DEFAULT_LANGUAGE = "en"

_TEMPLATES = Path(__file__).parent / "templates"
PAGES = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=True,  # every template, whatever its name: nothing from a credential is markup
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
LABELS: dict[str, dict[str, str]] = json.loads((_TEMPLATES / "labels.json").read_text("utf-8"))
# Value-set concept code -> language -> label (the ELM value sets' labels).
CONCEPTS: dict[str, dict[str, str]] = json.loads((_TEMPLATES / "concepts.json").read_text("utf-8"))


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    # The language of `value` when it is not the page's (None: the page's, or none at all).
    language: str | None = None


@dataclass(frozen=True)
class Stated:
    """Text as the credential states it, with its language when it is not the page's."""

    text: str
    language: str | None = None


@dataclass(frozen=True)
class Essentials:
    """What a reader needs from a micro-credential (or a stacked credential), in `language`."""

    title: str
    kind: str
    language: str = DEFAULT_LANGUAGE
    # Every language the credential carries its title in, its own first.
    languages: tuple[str, ...] = (DEFAULT_LANGUAGE,)
    title_language: str | None = None
    description: str | None = None
    description_language: str | None = None
    awarding_body: str | None = None
    issuer: str | None = None
    issued_on: str | None = None
    ects: str | None = None
    eqf_level: str | None = None
    facts: tuple[tuple[str, str, str | None], ...] = ()  # (label key, value, language)
    grade: str | None = None
    learner_identified: bool = False
    learning_outcomes: tuple[Stated, ...] = ()
    components: tuple[Essentials, ...] = field(default_factory=tuple)

    @property
    def labels(self) -> Mapping[str, str]:
        return labels(self.language)

    @property
    def outcomes_language(self) -> str | None:
        """The language every outcome is stated in when none is in the page's (the list is
        then marked as a whole, else each outcome in another language on its own)."""
        languages = {outcome.language for outcome in self.learning_outcomes}
        return languages.pop() if len(languages) == 1 else None

    def rows(self) -> list[tuple[str, str]]:
        """The labelled facts, in reading order; absent ones left out."""
        return [(row.label, row.value) for row in self.marked_rows()]

    def marked_rows(self) -> list[Row]:
        t = self.labels
        rows = [
            Row(t["awarding_body"], self.awarding_body or ""),
            Row(t["issuer"], self.issuer or ""),
            Row(t["date_of_issue"], self.issued_on or ""),
            Row(t["workload"], f"{self.ects} {t['ects']}" if self.ects else ""),
            Row(t["eqf_level"], self.eqf_level or ""),
            *(Row(t[key], value, language) for key, value, language in self.facts),
        ]
        return [row for row in rows if row.value]


def labels(language: str) -> Mapping[str, str]:
    return LABELS.get(_base(language), LABELS[DEFAULT_LANGUAGE])


# --- the language ------------------------------------------------------------------------


def languages_of(credential: dict[str, Any]) -> tuple[str, ...]:
    """The languages a credential carries its title in, its own first."""
    achievement = _main_achievement(credential)
    own = _text(achievement.get("inLanguage")) or DEFAULT_LANGUAGE
    others = [
        language
        for related in map(_dict, _list(achievement.get("related")))
        if (language := _text(related.get("inLanguage"))) and _text(related.get("name"))
    ]
    return tuple(dict.fromkeys([own, *others]))


def choose_language(carried: Sequence[str], asked: str | None, accept_language: str | None) -> str:
    """The viewer's language among those the credential carries (that the pages have labels
    for): `asked` first, then `Accept-Language` by preference; else the credential's own."""
    offered = [language for language in carried if _base(language) in LABELS] or list(carried)
    wanted = ([asked] if asked else []) + _accepted(accept_language or "")
    for want in wanted:
        for exact in (True, False):
            for language in offered:
                if language.lower() == want.lower() or (
                    not exact and _base(language) == _base(want)
                ):
                    return language
    return offered[0] if offered else DEFAULT_LANGUAGE


def _accepted(header: str) -> list[str]:
    """`Accept-Language` tags by descending preference; `*` and refused (q=0) ones left out."""
    weighted = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and weight > 0:
            weighted.append((-weight, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def _base(language: str) -> str:
    return language.split("-")[0].lower()


def _other(language: str, page: str) -> str | None:
    """`language` when it is not the page's (so the text is marked as such)."""
    return None if _base(language) == _base(page) else language


# --- reading the credential --------------------------------------------------------------


def essentials(credential: dict[str, Any], language: str | None = None) -> Essentials:
    """The essentials of an OpenBadgeCredential or a ClrCredential in `language` (the
    credential's own when not given), read leniently: a part the credential lacks is left
    out, never guessed."""
    carried = languages_of(credential)
    page = language or carried[0]
    subject = _dict(credential.get("credentialSubject"))
    achievement = _main_achievement(credential)
    t = labels(page)
    if "ClrCredential" in _list(credential.get("type")):
        return replace(
            _described(credential, achievement, page, carried),
            kind=t["stacked"],
            components=tuple(
                essentials(_dict(component), page)
                for component in _list(subject.get("verifiableCredential"))
            ),
        )
    own = carried[0]
    alignments = {
        _text(a.get("targetType")): a for a in map(_dict, _list(achievement.get("alignment")))
    }
    stated = read_narrative(_text(_dict(achievement.get("criteria")).get("narrative")) or "", own)
    facts: list[tuple[str, str, str | None]] = []
    for key, target in (
        ("assessment", "ext:AssessmentType"),
        ("participation", "ext:ModeOfLearning"),
        ("quality_assurance", "ext:QualityAssurance"),
    ):
        facts.append((key, *_concept(alignments.get(target), page, own)))
    grade, scheme = _grade(subject, achievement)
    facts += [("grade", grade or "", None), ("grading_scheme", scheme or "", None)]
    for key, target in (
        ("supervision", "ext:SupervisionVerification"),
        ("stackability", "ext:Stackability"),
    ):
        facts.append((key, *_concept(alignments.get(target), page, own)))
    prerequisites = _in_page(stated.prerequisites, page, own)
    further = _text(_dict(alignments.get("ext:FurtherInformation")).get("targetUrl"))
    days = [_date(subject.get(key)) for key in ("activityStartDate", "activityEndDate")]
    activity = " \N{EN DASH} ".join(day for day in days if day)
    earned = _number(subject.get("creditsEarned"))
    facts += [
        ("prerequisites", prerequisites.text, prerequisites.language),
        ("further_information", further or "", None),
        ("activity", activity, None),
        ("credits_earned", f"{earned} {t['ects']}" if earned else "", None),
        ("valid_until", _date(credential.get("validUntil")) or "", None),
    ]
    return replace(
        _described(credential, achievement, page, carried),
        kind=t["micro"],
        eqf_level=_eqf_level(_text(_dict(alignments.get("ext:EQFLevel")).get("targetName"))),
        facts=tuple(fact for fact in facts if fact[1]),
        grade=grade,
        learner_identified=bool(subject.get("id") or _list(subject.get("identifier"))),
        learning_outcomes=tuple(_in_page(texts, page, own) for texts in stated.learning_outcomes),
    )


def _main_achievement(credential: dict[str, Any]) -> dict[str, Any]:
    """The achievement a credential is about (a CLR's first: the pathway's own)."""
    achievement = _dict(credential.get("credentialSubject")).get("achievement")
    return next(map(_dict, _list(achievement)), {})


def _described(
    credential: dict[str, Any], achievement: dict[str, Any], page: str, carried: tuple[str, ...]
) -> Essentials:
    """What every credential states of itself and its achievement, in the page's language
    where the credential carries it."""
    own = carried[0]
    issuer = _dict(credential.get("issuer"))
    translated = next(
        (
            related
            for related in map(_dict, _list(achievement.get("related")))
            if _base(_text(related.get("inLanguage")) or "") == _base(page)
            and _base(page) != _base(own)
        ),
        None,
    )
    title = _text(credential.get("name")) or _text(achievement.get("name"))
    description = _text(achievement.get("description"))
    title_language = description_language = _other(own, page)
    if translated is not None:
        title, title_language = _text(translated.get("name")) or title, None
        if _text(translated.get("description")):
            description, description_language = _text(translated.get("description")), None
    english = _base(page) == "en"
    return Essentials(
        title=title or labels(page)["untitled"],
        kind=labels(page)["micro"],
        language=page,
        languages=carried,
        title_language=title_language if title else None,
        description=description,
        description_language=description_language,
        awarding_body=_organisation(_dict(achievement.get("creator")), issuer, english),
        issuer=_organisation(issuer, issuer, english),
        issued_on=_date(credential.get("validFrom")),
        ects=_number(achievement.get("creditsAvailable")),
    )


def _concept(alignment: dict[str, Any] | None, page: str, own: str) -> tuple[str, str | None]:
    """A value-set concept's label in the page's language (by its code), else as the
    credential states it, marked with the credential's language."""
    found = _dict(alignment)
    stated = _text(found.get("targetName")) or ""
    # Several concepts named under one code (issuance joins them with "; ") keep their text.
    code = _text(found.get("targetCode")) if ";" not in stated else None
    translated = CONCEPTS.get(code or "", {}).get(_base(page))
    if translated:
        return translated, None
    return stated, _other(own, page)


def _grade(subject: dict[str, Any], achievement: dict[str, Any]) -> tuple[str | None, str | None]:
    """The grade achieved and the grading scheme its result description names."""
    schemes = {
        _text(d.get("id")): _text(d.get("name"))
        for d in map(_dict, _list(achievement.get("resultDescription")))
    }
    for result in map(_dict, _list(subject.get("result"))):
        value = _text(result.get("value"))
        if value:
            scheme = schemes.get(_text(result.get("resultDescription")))
            # "Grade" is what the issuer writes when the result names no scheme.
            return value, scheme if scheme and scheme != "Grade" else None
    return None, None


def standing(report: VerificationReport) -> str:
    """One word for the reader: valid, revoked, suspended, or not verified."""
    if report.verified:
        return "valid"
    status = report.check(CheckName.STATUS)
    # The verifier words a set status bit as "the credential is revoked (index n)".
    for word in ("revoked", "suspended"):
        if status.outcome is Outcome.FAILED and status.message.startswith(
            f"the credential is {word}"
        ):
            return word
    return "not verified"


def qr_svg(url: str) -> str:
    """An inline SVG QR code for `url`."""
    return str(segno.make(url, error="m").svg_inline(scale=4, title="Verification link"))


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


# --- the pages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sharing:
    """What a share link adds to the credential on its page and PDF."""

    verify_url: str
    links: Mapping[str, str] = field(default_factory=dict)  # label key -> URL
    page_url: str | None = None  # for the other languages' links
    identity_check_url: str | None = None
    # The name the learner chose to show, and whether the credential's hashes confirm it.
    learner_name: str | None = None
    name_confirmed: bool = False


def credential_page(facts: Essentials, report: VerificationReport, sharing: Sharing) -> str:
    """The readable page of a shared credential."""
    others = [
        (language, labels(language)["language"], f"{sharing.page_url}?lang={language}")
        for language in facts.languages
        if sharing.page_url and language != facts.language and _base(language) in LABELS
    ]
    return PAGES.get_template("credential.html").render(
        lang=facts.language,
        language_name=language_name,
        facts=facts,
        learner_rows=_learner_rows(facts, sharing),
        t=facts.labels,
        standing=standing(report),
        sharing=sharing,
        qr=Markup(qr_svg(sharing.verify_url)),  # noqa: S704 (segno's own SVG, URL escaped)
        other_languages=others,
    )


def verification_page(title: str, report: VerificationReport) -> str:
    # The verifier words its checks in English: so does this page, throughout.
    return PAGES.get_template("verification.html").render(
        lang=DEFAULT_LANGUAGE,
        title=title,
        report=report,
        standing=standing(report),
        t=labels(DEFAULT_LANGUAGE),
        issuer=report.partner_name or report.issuer or "unknown",
    )


# --- the PDF -----------------------------------------------------------------------------


def credential_pdf(
    facts: Essentials, report: VerificationReport, sharing: Sharing, credential: bytes
) -> bytes:
    """The page as a PDF, carrying `credential` (the signed JSON-LD, as issued) as an
    attached file, so the PDF itself can be verified."""
    # Imported here: fpdf2 brings numpy, Pillow and fontTools, about 33 MiB in every gateway
    # process, for a route only a learner downloading a PDF calls.
    from fpdf import FPDF

    t = facts.labels
    pdf = FPDF(format="A4")
    pdf.set_lang(facts.language)
    pdf.set_title(_latin1(facts.title))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("Helvetica", size=9)
    pdf.cell(width, 6, _latin1(facts.kind.upper()), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(width, 9, _latin1(facts.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 11)
    status = f"{t['status']}: {t[standing(report)]} ({t['checked_now']})"
    pdf.multi_cell(width, 7, _latin1(status), new_x="LMARGIN", new_y="NEXT")
    if facts.description:
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(width, 5, _latin1(facts.description), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for row in _learner_rows(facts, sharing) + facts.marked_rows():
        top = pdf.get_y()
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(55, 5, _latin1(row.label), new_x="LMARGIN", new_y="NEXT")
        below_label = pdf.get_y()
        pdf.set_xy(pdf.l_margin + 55, top)
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(width - 55, 5, _latin1(_marked(row.value, row.language, t)),
                       new_x="LMARGIN", new_y="NEXT")  # fmt: skip
        # A label longer than its value must not run into the next row.
        pdf.set_y(max(pdf.get_y(), below_label) + 1)
    heading = t["learning_outcomes"]
    if facts.outcomes_language:
        heading += f" ({_only_in(facts.outcomes_language, t)})"
    _pdf_list(
        pdf,
        heading,
        [
            outcome.text if facts.outcomes_language else _marked(outcome.text, outcome.language, t)
            for outcome in facts.learning_outcomes
        ],
    )
    _pdf_list(
        pdf,
        t["components"],
        [f"{c.title} ({c.awarding_body}, {c.ects} {t['ects']})" for c in facts.components],
    )
    pdf.ln(4)
    pdf.image(io.BytesIO(qr_png(sharing.verify_url)), w=40)
    pdf.set_font("Helvetica", size=8)
    pdf.multi_cell(width, 4, _latin1(f"{t['verify']}: {sharing.verify_url}"),
                   new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.multi_cell(width, 4, _latin1(t["attached"]), new_x="LMARGIN", new_y="NEXT")
    pdf.embed_file(
        bytes=credential,
        basename=ATTACHMENT,
        mime_type=ATTACHMENT_TYPE,
        desc="The signed credential (W3C VC 2.0, Open Badges 3.0)",
        associated_file_relationship="Source",
    )
    return bytes(pdf.output())


def _learner_rows(facts: Essentials, sharing: Sharing) -> list[Row]:
    """The learner's identification (an EU mandatory element): how the credential
    identifies them, and the name they chose to show, if any."""
    t = facts.labels
    rows = [Row(t["learner"], t["learner_hashed"])] if facts.learner_identified else []
    if sharing.learner_name:
        confirmed = t["name_confirmed"] if sharing.name_confirmed else t["name_unconfirmed"]
        rows.append(Row(t["learner_name"], f"{sharing.learner_name} ({confirmed})"))
    return rows


def _marked(value: str, language: str | None, t: Mapping[str, str]) -> str:
    return f"{value} ({_only_in(language, t)})" if language else value


def _only_in(language: str, t: Mapping[str, str]) -> str:
    return f"{t['only_in']} {language_name(language, t)}"


def language_name(language: str, t: Mapping[str, str]) -> str:
    """A language's name in the page's language (its code when the pages know no name)."""
    return t.get(f"name_{_base(language)}", language)


def _pdf_list(pdf: FPDF, heading: str, items: Sequence[str]) -> None:
    if not items:
        return
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(pdf.epw, 7, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for item in items:
        pdf.multi_cell(pdf.epw, 5, _latin1(f"- {item}"), new_x="LMARGIN", new_y="NEXT")


_TYPOGRAPHY = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
     "\u2014": "-", "\u2026": "...", "\u20ac": "EUR"}
)  # fmt: skip


def _latin1(text: str) -> str:
    """The PDF's built-in fonts cover Latin-1 (every alliance language's letters); other
    characters become `?` rather than failing the export."""
    return text.translate(_TYPOGRAPHY).encode("latin-1", "replace").decode("latin-1")


# --- reading the credential leniently ------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return f"{value:g}"


def _date(value: Any) -> str | None:
    text = _text(value)
    return text[:10] if text else None


def _eqf_level(name: str | None) -> str | None:
    return name.removeprefix("EQF level ") if name else None


def _organisation(profile: dict[str, Any], fallback: dict[str, Any], english: bool) -> str | None:
    """`Name (Country, CC)`; the country from the issuer's address when the profile has
    none (the credential states an address once per organisation). The country's name is
    English in the credential, so other pages show its code alone."""
    name = _text(profile.get("name"))
    if name is None:
        return None
    address = _dict(profile.get("address")) or (
        _dict(fallback.get("address")) if profile.get("id") == fallback.get("id") else {}
    )
    parts = (_text(address.get("addressCountry")) if english else None,
             _text(address.get("addressCountryCode")))  # fmt: skip
    country = ", ".join(part for part in parts if part)
    return f"{name} ({country})" if country else name


def _in_page(texts: Mapping[str, str], page: str, own: str) -> Stated:
    """Text the credential states in several languages (language -> text), in the page's
    language; else in the credential's own (else its first), marked. Nothing: empty."""
    for language, text in texts.items():
        if _base(language) == _base(page):
            return Stated(text)
    language = own if own in texts else next(iter(texts), own)
    return Stated(texts.get(language, ""), _other(language, page))
