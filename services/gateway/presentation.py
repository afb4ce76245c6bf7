"""A shared credential for people: its essentials as a page or a PDF, with a QR code to the
verification link.

Everything shown comes from the credential itself (which identifies the learner only by
salted hashes, so no personal data is shown) and from its verification. Text is escaped
where the page is built; the page has no script.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from html import escape
from typing import Any

import segno
from fpdf import FPDF

from shared.credentials.verifier import CheckName, Outcome, VerificationReport

OUTCOMES_HEADING = "Learning outcomes:"
# Only the inline styles of the page itself; no script, no remote content.
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass(frozen=True)
class Essentials:
    """What a reader needs from a micro-credential (or a stacked credential)."""

    title: str
    kind: str
    description: str | None = None
    awarding_body: str | None = None
    issuer: str | None = None
    issued_on: str | None = None
    ects: str | None = None
    eqf_level: str | None = None
    assessment_type: str | None = None
    participation: str | None = None
    quality_assurance: str | None = None
    grade: str | None = None
    learning_outcomes: tuple[str, ...] = ()
    components: tuple[Essentials, ...] = field(default_factory=tuple)

    def rows(self) -> list[tuple[str, str]]:
        """The labelled facts, in reading order; absent ones left out."""
        rows = [
            ("Awarding body", self.awarding_body),
            ("Issued by", self.issuer),
            ("Date of issue", self.issued_on),
            ("Workload", f"{self.ects} ECTS" if self.ects else None),
            ("EQF level", self.eqf_level),
            ("Type of assessment", self.assessment_type),
            ("Form of participation", self.participation),
            ("Quality assurance", self.quality_assurance),
            ("Grade", self.grade),
        ]
        return [(label, value) for label, value in rows if value]


def essentials(credential: dict[str, Any]) -> Essentials:
    """The essentials of an OpenBadgeCredential or a ClrCredential, read leniently: a part
    the credential lacks is left out, never guessed."""
    subject = _dict(credential.get("credentialSubject"))
    if "ClrCredential" in _list(credential.get("type")):
        # The pathway's own achievement comes first, then the components'.
        pathway = next(map(_dict, _list(subject.get("achievement"))), {})
        return replace(
            _described(credential, pathway, "Stacked credential"),
            kind="Stacked credential (Comprehensive Learner Record)",
            components=tuple(
                essentials(_dict(component))
                for component in _list(subject.get("verifiableCredential"))
            ),
        )
    achievement = _dict(subject.get("achievement"))
    alignments = {
        _text(a.get("targetType")): _text(a.get("targetName"))
        for a in map(_dict, _list(achievement.get("alignment")))
    }
    grades = [_text(r.get("value")) for r in map(_dict, _list(subject.get("result")))]
    return replace(
        _described(credential, achievement, "Credential"),
        eqf_level=_eqf_level(alignments.get("ext:EQFLevel")),
        assessment_type=alignments.get("ext:AssessmentType"),
        participation=alignments.get("ext:ModeOfLearning"),
        quality_assurance=alignments.get("ext:QualityAssurance"),
        grade=next((grade for grade in grades if grade), None),
        learning_outcomes=_outcomes(_dict(achievement.get("criteria")).get("narrative")),
    )


def _described(
    credential: dict[str, Any], achievement: dict[str, Any], untitled: str
) -> Essentials:
    """What every credential states of itself and its achievement."""
    issuer = _dict(credential.get("issuer"))
    return Essentials(
        title=_text(credential.get("name")) or _text(achievement.get("name")) or untitled,
        kind="Micro-credential",
        description=_text(achievement.get("description")),
        awarding_body=_organisation(_dict(achievement.get("creator")), issuer),
        issuer=_organisation(issuer, issuer),
        issued_on=_date(credential.get("validFrom")),
        ects=_number(achievement.get("creditsAvailable")),
    )


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


# --- the page ------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;
color:#1b1f23;line-height:1.45}
h1{margin:.2rem 0 1rem}.kind{color:#57606a;margin:0;text-transform:uppercase;font-size:.8rem}
dl{display:grid;grid-template-columns:13rem 1fr;gap:.3rem 1rem}dt{font-weight:600}dd{margin:0}
.standing{padding:.5rem .8rem;border-radius:.4rem;font-weight:600}
.valid{background:#dafbe1}.revoked,.suspended,.not-verified{background:#ffebe9}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;
padding:.3rem;text-align:left;vertical-align:top}figure{margin:1rem 0}
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def _facts(facts: Essentials) -> str:
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts.rows())
    return f"<dl>{rows}</dl>"


def _standing_html(report: VerificationReport) -> str:
    word = standing(report)
    detail = (
        "every verification check passed"
        if report.verified
        else "; ".join(f"{c.name}: {c.message}" for c in report.checks if c.outcome is not
                       Outcome.PASSED)
    )  # fmt: skip
    css = word.replace(" ", "-")
    return f'<p class="standing {css}">Status: {escape(word)} <small>({escape(detail)})</small></p>'


def credential_page(
    facts: Essentials, report: VerificationReport, links: dict[str, str], verify_url: str
) -> str:
    """The readable page of a shared credential; `links` are labelled further links."""
    parts = [
        f'<p class="kind">{escape(facts.kind)}</p><h1>{escape(facts.title)}</h1>',
        _standing_html(report),
    ]
    if facts.description:
        parts.append(f"<p>{escape(facts.description)}</p>")
    parts.append(_facts(facts))
    if facts.learning_outcomes:
        items = "".join(f"<li>{escape(outcome)}</li>" for outcome in facts.learning_outcomes)
        parts.append(f"<h2>Learning outcomes</h2><ul>{items}</ul>")
    if facts.components:
        rows = "".join(
            f"<tr><td>{escape(c.title)}</td><td>{escape(c.awarding_body or '')}</td>"
            f"<td>{escape(c.ects or '')}</td><td>{escape(c.eqf_level or '')}</td></tr>"
            for c in facts.components
        )
        parts.append(
            "<h2>Stacked micro-credentials</h2><table><tr><th>Title</th><th>Awarding body</th>"
            f"<th>ECTS</th><th>EQF</th></tr>{rows}</table>"
        )
    parts.append(
        f"<h2>Verify</h2><figure>{qr_svg(verify_url)}<figcaption>Scan, or open "
        f'<a href="{escape(verify_url)}">{escape(verify_url)}</a></figcaption></figure>'
    )
    anchors = " · ".join(
        f'<a href="{escape(url)}">{escape(label)}</a>' for label, url in links.items()
    )
    parts.append(f"<p>{anchors}</p>")
    return _page(facts.title, "".join(parts))


def verification_page(title: str, report: VerificationReport) -> str:
    rows = "".join(
        f"<tr><td>{escape(c.name)}</td><td>{escape(c.outcome)}</td>"
        f"<td>{escape(c.message)}</td></tr>"
        for c in report.checks
    )
    issuer = report.partner_name or report.issuer or "unknown"
    body = (
        f'<p class="kind">Verification</p><h1>{escape(title)}</h1>'
        f"{_standing_html(report)}<p>Issuer: {escape(issuer)}</p>"
        "<p>The checks, in the order Open Badges 3.0 verifiers run them:</p>"
        f"<table><tr><th>Check</th><th>Outcome</th><th>Why</th></tr>{rows}</table>"
    )
    return _page(f"Verification: {title}", body)


# --- the PDF -------------------------------------------------------------------------------


def credential_pdf(facts: Essentials, report: VerificationReport, verify_url: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(facts.title))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("Helvetica", size=9)
    pdf.cell(width, 6, _latin1(facts.kind.upper()), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(width, 9, _latin1(facts.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(width, 8, f"Status: {standing(report)}", new_x="LMARGIN", new_y="NEXT")
    if facts.description:
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(width, 5, _latin1(facts.description), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for label, value in facts.rows():
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(50, 6, _latin1(label))
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(width - 50, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    _pdf_list(pdf, "Learning outcomes", facts.learning_outcomes)
    _pdf_list(
        pdf,
        "Stacked micro-credentials",
        [f"{c.title} ({c.awarding_body}, {c.ects} ECTS)" for c in facts.components],
    )
    pdf.ln(4)
    pdf.image(io.BytesIO(qr_png(verify_url)), w=40)
    pdf.set_font("Helvetica", size=8)
    pdf.multi_cell(width, 4, f"Verify: {verify_url}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _pdf_list(pdf: FPDF, heading: str, items: Sequence[str]) -> None:
    if not items:
        return
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(pdf.epw, 7, heading, new_x="LMARGIN", new_y="NEXT")
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


def _organisation(profile: dict[str, Any], fallback: dict[str, Any]) -> str | None:
    """`Name (Country, CC)`; the country from the issuer's address when the profile has
    none (the credential states an address once per organisation)."""
    name = _text(profile.get("name"))
    if name is None:
        return None
    address = _dict(profile.get("address")) or (
        _dict(fallback.get("address")) if profile.get("id") == fallback.get("id") else {}
    )
    country = ", ".join(
        part
        for part in (_text(address.get("addressCountry")), _text(address.get("addressCountryCode")))
        if part
    )
    return f"{name} ({country})" if country else name


def _outcomes(narrative: Any) -> tuple[str, ...]:
    """The outcomes listed under "Learning outcomes:" in the criteria narrative."""
    lines = (_text(narrative) or "").splitlines()
    if OUTCOMES_HEADING not in lines:
        return ()
    outcomes = []
    for line in lines[lines.index(OUTCOMES_HEADING) + 1 :]:
        if not line.startswith("- "):
            break
        outcomes.append(line[2:].strip())
    return tuple(outcomes)
