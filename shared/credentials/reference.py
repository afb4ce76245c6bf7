"""The reference canonicalizer: pyld's JSON-LD to RDF plus RDFC-1.0 (URDNA2015), in safe mode.

Correct for any JSON-LD but slow (milliseconds per credential); the fast path in
`canon.py` must give byte-identical output for the shapes this project issues.

Safe mode, as Digital Bazaar's jsonld.js applies it to Data Integrity proofs: a key that
expansion would drop, or a type or reference that stays a relative IRI (no context defines
it), is an error. Plain JSON-LD loses such data silently, leaving a claim the signature
does not cover.
"""

from __future__ import annotations

import threading
from typing import Any

from shared.credentials.loader import document_loader


class CanonicalizationError(Exception):
    """A document cannot be turned into canonical N-Quads."""


class UndefinedTermError(CanonicalizationError):
    """A key or type maps to no IRI in the active context, so JSON-LD would drop it."""


# pyld keeps module-level caches that are not safe to share between threads, and the
# verifier runs canonicalization in worker threads.
_PYLD = threading.Lock()


def canonicalize_reference(document: dict[str, Any]) -> str:
    """Canonical N-Quads of `document` (RDFC-1.0), contexts served locally, in safe mode."""
    # No base IRI (pyld's default is an example.org one): a relative IRI stays relative and
    # is refused, never resolved against a made-up base.
    options = {"documentLoader": document_loader, "base": None}
    # Imported here, not with the module: the fast path in `canon.py` answers for every
    # credential this project issues, and pyld (with lxml and requests, which it loads with
    # itself) would cost each process that imports `shared.credentials` about 10 MiB.
    from pyld import jsonld  # type: ignore[import-untyped]

    try:
        with _PYLD:
            expanded = jsonld.expand(document, options, on_property_dropped=_dropped)
            _refuse_relative_iris(expanded)
            result: str = jsonld.normalize(
                expanded, {**options, "algorithm": "URDNA2015", "format": "application/n-quads"}
            )
    except jsonld.JsonLdError as exc:
        raise CanonicalizationError(_describe(exc)) from exc
    except CanonicalizationError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # pyld fails with bare Python errors on some malformed contexts (an inline
        # `{"@vocab": null}` is a KeyError): the document is refused, not the service broken.
        raise CanonicalizationError(
            f"the document's JSON-LD cannot be processed ({type(exc).__name__}: {exc})"
        ) from exc
    return result


def _dropped(key: str | None) -> None:
    raise UndefinedTermError(
        f"property {key!r} is not defined by the document's contexts and would be dropped "
        "from the signed data (JSON-LD safe mode)"
    )


def _refuse_relative_iris(node: Any) -> None:
    """Every @id and @type of the expanded form is absolute (or a blank node)."""
    if isinstance(node, list):
        for item in node:
            _refuse_relative_iris(item)
        return
    if not isinstance(node, dict):
        return
    if "@value" in node:
        return  # a literal: its @type is a datatype, expanded or refused by pyld itself
    for key in ("@id", "@type"):
        for value in node.get(key, []) if key == "@type" else [node.get(key)]:
            if isinstance(value, str) and not _absolute(value):
                what = "type" if key == "@type" else "reference"
                raise UndefinedTermError(
                    f"{what} {value!r} is not defined by the document's contexts "
                    "(a relative IRI; JSON-LD safe mode)"
                )
    for key, value in node.items():
        if key not in ("@id", "@type"):
            _refuse_relative_iris(value)


def _absolute(iri: str) -> bool:
    scheme, colon, _ = iri.partition(":")
    return bool(colon) and (scheme == "_" or (scheme[:1].isalpha() and scheme.isascii()))


def _describe(exc: Exception) -> str:
    # pyld nests the real cause (e.g. an unknown context) several levels deep.
    parts = []
    current: BaseException | None = exc
    while current is not None:
        parts.append(str(current).split("\n")[0])
        current = getattr(current, "cause", None) or current.__cause__
    return " <- ".join(dict.fromkeys(parts))
