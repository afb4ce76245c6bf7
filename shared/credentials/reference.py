"""The reference canonicalizer: pyld's JSON-LD to RDF plus RDFC-1.0 (URDNA2015).

Correct for any JSON-LD but slow (milliseconds per credential); the fast path in
`canon.py` must give byte-identical output for the shapes this project issues.
"""

from __future__ import annotations

import threading
from typing import Any

from pyld import jsonld  # type: ignore[import-untyped]

from shared.credentials.loader import document_loader


class CanonicalizationError(Exception):
    """A document cannot be turned into canonical N-Quads."""


# pyld keeps module-level caches that are not safe to share between threads, and the
# verifier runs canonicalization in worker threads.
_PYLD = threading.Lock()


def canonicalize_reference(document: dict[str, Any]) -> str:
    """Canonical N-Quads of `document` (RDFC-1.0), contexts served locally."""
    try:
        with _PYLD:
            result: str = jsonld.normalize(
                document,
                {
                    "algorithm": "URDNA2015",
                    "format": "application/n-quads",
                    "documentLoader": document_loader,
                },
            )
    except jsonld.JsonLdError as exc:
        raise CanonicalizationError(_describe(exc)) from exc
    return result


def _describe(exc: Exception) -> str:
    # pyld nests the real cause (e.g. an unknown context) several levels deep.
    parts = []
    current: BaseException | None = exc
    while current is not None:
        parts.append(str(current).split("\n")[0])
        current = getattr(current, "cause", None) or current.__cause__
    return " <- ".join(dict.fromkeys(parts))
