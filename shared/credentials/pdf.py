"""A credential carried inside a PDF: the signed JSON-LD attached as an embedded file, so the
PDF a learner hands over can be verified itself, not only the page printed on it.

The printed page says what the credential says; only the attached credential is signed, so a
verifier checks the attachment and nothing else.
"""

from __future__ import annotations

import io
import json
from typing import Any

from shared.credentials.verifier import MAX_DOCUMENT_BYTES

# The attachment's name in every PDF the gateway makes.
ATTACHMENT = "credential.jsonld"
ATTACHMENT_TYPE = "application/ld+json"
PDF_MAGIC = b"%PDF-"
# A page with a QR code and the credential is tens of KiB; the credential itself is at most
# MAX_DOCUMENT_BYTES.
MAX_PDF_BYTES = 4 * MAX_DOCUMENT_BYTES


class NoCredentialInPdf(ValueError):
    """The PDF is unreadable, or carries no (single, JSON) credential."""


def is_pdf(data: bytes) -> bool:
    return data.lstrip()[:5] == PDF_MAGIC


def credential_in_pdf(data: bytes) -> Any:
    """The credential attached to a PDF, parsed from its JSON."""
    if len(data) > MAX_PDF_BYTES:
        raise NoCredentialInPdf(f"a PDF is at most {MAX_PDF_BYTES // 2**20} MiB")
    # Imported here: only a verifier handed a PDF reads one, and pypdf costs a process that
    # merely names the attachment (the gateway, which writes the PDFs) about 6 MiB.
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        attachments = PdfReader(io.BytesIO(data)).attachments
        found = attachments.get(ATTACHMENT, [])
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise NoCredentialInPdf(f"the PDF cannot be read: {exc}") from exc
    if len(found) != 1:
        # Two attachments of the name would leave open which one a reader was shown.
        raise NoCredentialInPdf(f"the PDF carries no single attached {ATTACHMENT}")
    [document] = found
    if len(document) > MAX_DOCUMENT_BYTES:
        raise NoCredentialInPdf("the attached credential is larger than 1 MiB")
    try:
        return json.loads(document)
    except ValueError as exc:
        raise NoCredentialInPdf(f"the attached {ATTACHMENT} is not JSON") from exc
