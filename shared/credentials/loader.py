"""Local JSON-LD contexts and a document loader that never touches the network.

Canonicalization must give the same bytes on every machine and at any time, so the
contexts a credential names are served from copies kept in `contexts/` (see SOURCES.md).
Any other URL is an error, never a fetch.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
ED25519_2020_V1 = "https://w3id.org/security/suites/ed25519-2020/v1"
VC_EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_V3P0_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
CLR_V2P0 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
EDC_AP = "http://data.europa.eu/snb/model/context/edc-ap"

_FILES = {
    VC_V1: "credentials-v1.jsonld",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
    ED25519_2020_V1: "ed25519-signature-2020-v1.jsonld",
    VC_V2: "credentials-v2.jsonld",
    VC_EXAMPLES_V2: "credentials-examples-v2.jsonld",
    OB_V3P0: "ob-v3p0-context-3.0.3.json",
    OB_V3P0_EXTENSIONS: "ob-v3p0-extensions.json",
    CLR_V2P0: "clr-v2p0-context-2.0.1.json",
    EDC_AP: "edc-ap-context.jsonld",
}

KNOWN_CONTEXTS: frozenset[str] = frozenset(_FILES)


class UnknownContext(Exception):
    """A document names a context that is not kept locally."""


@cache
def load_context(url: str) -> dict[str, Any]:
    """The parsed context document served for `url`."""
    name = _FILES.get(url)
    if name is None:
        raise UnknownContext(
            f"JSON-LD context {url!r} is not available offline; known: {sorted(_FILES)}"
        )
    document: dict[str, Any] = json.loads((CONTEXTS_DIR / name).read_text(encoding="utf-8"))
    return document


# The copies that are byte for byte what their URL serves (SOURCES.md), so a digest of the
# served document can be checked against them; the others keep its JSON, not its bytes.
_SERVED_BYTES = frozenset({VC_V2, VC_EXAMPLES_V2})


@cache
def served_bytes(url: str) -> bytes | None:
    """What `url` serves, when this service holds it byte for byte; otherwise None."""
    return (CONTEXTS_DIR / _FILES[url]).read_bytes() if url in _SERVED_BYTES else None


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A pyld document loader serving only the local contexts."""
    # A copy: the parsed documents are shared with the fast path and must stay pristine.
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": copy.deepcopy(load_context(url)),
    }
