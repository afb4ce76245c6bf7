"""What a credential must be before anyone signs or accepts it.

`check_credential` applies every MUST of W3C VC Data Model 2.0 (or 1.1, for a credential
whose first context is the 1.1 one) that can be seen in the JSON itself, then the profile
the credential claims: an Open Badges 3.0 credential must satisfy 1EdTech's published JSON
Schema for `AchievementCredential` (vendored in `schemas/`, see SOURCES.md there), a CLR 2.0
`ClrCredential` the CLR rules below (1EdTech's CLR 2.0 schema could not be had) with each
component credential checked as an Open Badge.

A `relatedResource` states digests of documents: their form is checked, and a digest of a
document this service holds as its URL serves it (the VC 2.0 contexts) must match it. Nothing
is fetched to check the others.

What the JSON-LD means is checked by canonicalization in safe mode (`reference.py`): a
term or type no context defines fails there, when signing and when verifying.

A failure is an `InvalidCredential` naming the rule and the section of the specification
that states it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from shared.credentials.loader import (
    CLR_V2P0,
    KNOWN_CONTEXTS,
    OB_V3P0,
    VC_V1,
    VC_V2,
    served_bytes,
)
from shared.credentials.microcredential import IRI_PATTERN
from shared.registry import b58decode

if TYPE_CHECKING:
    from jsonschema import Draft201909Validator

Version = Literal["1.1", "2.0"]

SPECIFICATIONS: dict[Version, str] = {
    "2.0": "https://www.w3.org/TR/vc-data-model-2.0/",
    "1.1": "https://www.w3.org/TR/vc-data-model-1.1/",
}
SCHEMAS = Path(__file__).resolve().parent / "schemas"
OB_SCHEMA_FILE = SCHEMAS / "ob_v3p0_achievementcredential_schema.json"
OB_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})
CLR_TYPE = "ClrCredential"

# xsd:dateTimeStamp (VC 2.0): a dateTime with its time zone. VC 1.1 takes any xsd:dateTime.
_DATETIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
# Subresource Integrity's hash-expression (W3C SRI, section 3.5), without options.
_SRI = re.compile(r"^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$")
_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")
# The multihash codes VC Data Integrity 1.0 (section 2.7) names, with their digests' lengths.
_MULTIHASHES = {
    0x12: ("sha256", 32),
    0x20: ("sha384", 48),
    0x16: ("sha3_256", 32),
    0x15: ("sha3_384", 48),
}


class InvalidCredential(Exception):
    """The credential breaks `rule`; `url` is where the specification states it."""

    def __init__(self, rule: str, message: str, url: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.message = message
        self.url = url


def vc_version(credential: dict[str, Any]) -> Version:
    """Which data model the credential's first context names."""
    contexts = credential.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else None
    if first == VC_V2:
        return "2.0"
    if first == VC_V1:
        return "1.1"
    raise InvalidCredential(
        "contexts",
        f"@context must be a list whose first item is {VC_V2} (or {VC_V1} for VC 1.1)",
        SPECIFICATIONS["2.0"] + "#contexts",
    )


def check_credential(credential: dict[str, Any]) -> Version:
    """Raises `InvalidCredential` for the first rule the credential breaks; its version."""
    version = vc_version(credential)
    _Rules(credential, version).check()
    types = _types(credential)
    if CLR_TYPE in types:
        _check_clr(credential)
    elif OB_TYPES & types:
        check_open_badge(credential)
    return version


def check_presentation(presentation: dict[str, Any]) -> Version:
    """Raises `InvalidCredential` for the first rule of the data model the presentation
    itself breaks (its credentials are checked each as a credential); its version."""
    version = vc_version(presentation)
    _PresentationRules(presentation, version).check()
    return version


def check_open_badge(credential: dict[str, Any]) -> None:
    """1EdTech's JSON Schema for an OB 3.0 `AchievementCredential`."""
    # The proof is left to the proof check: the schema wants an array, a single embedded
    # proof is an object (VC Data Integrity allows both).
    unsecured = {key: value for key, value in credential.items() if key != "proof"}
    error = next(iter(sorted(_ob_validator().iter_errors(unsecured), key=_error_order)), None)
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the credential"
        raise InvalidCredential(
            "open-badges-schema", f"{where}: {error.message[:300]}", _ob_schema()["$id"]
        )
    # A rule of the OB 3.0 text that its schema does not express.
    subject = credential["credentialSubject"]
    if "id" not in subject and not subject.get("identifier"):
        raise InvalidCredential(
            "open-badges-subject",
            "credentialSubject has an id or at least one identifier",
            "https://www.imsglobal.org/spec/ob/v3p0/#achievementsubject",
        )


@cache
def _ob_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(OB_SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


@cache
def _ob_validator() -> Draft201909Validator:
    # Imported on first use: only credentials handed to the VC API or a verifier are
    # checked, and jsonschema would cost every issuance and gateway process about 3 MiB.
    from jsonschema import Draft201909Validator

    return Draft201909Validator(_ob_schema())


def _error_order(error: Any) -> tuple[int, str]:
    # The shallowest error first: it is the one a person can act on.
    return len(error.absolute_path), str(list(error.absolute_path))


def _check_clr(credential: dict[str, Any]) -> None:
    url = "https://www.imsglobal.org/spec/clr/v2p0/#clrcredential"
    contexts = credential["@context"]
    if contexts[1:2] != [CLR_V2P0] or OB_V3P0 not in contexts:
        raise InvalidCredential("clr-contexts", f"@context is {VC_V2}, {CLR_V2P0}, {OB_V3P0}", url)
    if OB_TYPES & _types(credential):
        raise InvalidCredential(
            "clr-type", f"type holds {CLR_TYPE} or an Open Badge type, not both", url
        )
    for key in ("id", "validFrom", "name"):
        if key not in credential:
            raise InvalidCredential("clr-required", f"a {CLR_TYPE} has `{key}`", url)
    subject = credential["credentialSubject"]
    if not isinstance(subject, dict) or "ClrSubject" not in _types(subject):
        raise InvalidCredential("clr-subject", "credentialSubject is one ClrSubject", url)
    components = subject.get("verifiableCredential")
    if not isinstance(components, list) or not components:
        raise InvalidCredential(
            "clr-subject", "credentialSubject.verifiableCredential lists the components", url
        )
    for component in components:
        if not isinstance(component, dict):
            raise InvalidCredential("clr-subject", "each component is a credential", url)
        check_open_badge(component)


class _Rules:
    """The data model's rules, in the order of its sections."""

    kind = "VerifiableCredential"

    def __init__(self, credential: dict[str, Any], version: Version) -> None:
        self.credential = credential
        self.version = version
        self.spec = SPECIFICATIONS[version]

    def fail(self, rule: str, section: str, message: str) -> InvalidCredential:
        return InvalidCredential(rule, message, self.spec + "#" + section)

    def check(self) -> None:
        self.contexts()
        self.identifier()
        self.types()
        self.names_and_descriptions()
        self.issuer()
        self.subjects()
        self.dates()
        self.typed_entries()
        self.related_resources()

    def contexts(self) -> None:
        contexts = self.credential["@context"]
        for context in contexts[1:]:
            if isinstance(context, dict):
                continue  # an embedded context: JSON-LD processing judges it
            if not isinstance(context, str) or not IRI_PATTERN.match(context):
                raise self.fail("contexts", "contexts", "each @context item is a URL or an object")
            if context in (VC_V1, VC_V2):
                raise self.fail("contexts", "contexts", "one data model context, named first")
            if context not in KNOWN_CONTEXTS:
                raise self.fail(
                    "contexts",
                    "contexts",
                    f"{context} is not a context this service holds; known: "
                    f"{sorted(KNOWN_CONTEXTS)}",
                )

    def identifier(self) -> None:
        if "id" in self.credential and not _is_url(self.credential["id"]):
            raise self.fail("identifiers", "identifiers", "id is a single URL")

    def types(self) -> None:
        value = self.credential.get("type")
        if not all(isinstance(item, str) for item in as_list(value)) or value == []:
            raise self.fail("types", "types", "type is a string or a list of strings")
        if self.kind not in _types(self.credential):
            raise self.fail("types", "types", f"type includes {self.kind}")

    def names_and_descriptions(self) -> None:
        if self.version != "2.0":
            return  # VC 1.1 defines neither term
        issuer = self.credential.get("issuer")
        for node, label in ((self.credential, ""), (issuer, "issuer.")):
            if not isinstance(node, dict):
                continue
            for key in ("name", "description"):
                if key in node and not _is_text(node[key]):
                    raise self.fail(
                        "names-and-descriptions",
                        "names-and-descriptions",
                        f"{label}{key} is a string, or language value objects "
                        '({"@value": text, "@language": BCP 47 tag, "@direction": "ltr"|"rtl"})',
                    )

    def issuer(self) -> None:
        issuer = self.credential.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        if not _is_url(issuer_id):
            raise self.fail("issuer", "issuer", "issuer is a URL or an object whose id is a URL")

    def subjects(self) -> None:
        subjects = as_list(self.credential.get("credentialSubject"))
        section = "credential-subject"
        if not subjects or not all(isinstance(s, dict) and s for s in subjects):
            raise self.fail(
                "credential-subject", section, "credentialSubject is one or more non-empty objects"
            )
        for subject in subjects:
            if "id" in subject and not _is_url(subject["id"]):
                raise self.fail("credential-subject", section, "a subject's id is a URL")

    def dates(self) -> None:
        if self.version == "1.1":
            issued = self.date("issuanceDate", "issuance-date", required=True)
            expires = self.date("expirationDate", "expiration", required=False)
            if issued and expires and expires < issued:
                raise self.fail("expiration", "expiration", "expirationDate is before issuanceDate")
            return
        valid_from = self.date("validFrom", "validity-period", required=False)
        valid_until = self.date("validUntil", "validity-period", required=False)
        if valid_from and valid_until and valid_until < valid_from:
            raise self.fail("validity-period", "validity-period", "validUntil is before validFrom")

    def date(self, key: str, section: str, *, required: bool) -> datetime | None:
        value = self.credential.get(key)
        if value is None and not required:
            return None
        moment = parse_datetime(value, with_zone=self.version == "2.0")
        if moment is None:
            kind = (
                "an xsd:dateTimeStamp (with a time zone)"
                if self.version == "2.0"
                else ("an xsd:dateTime")
            )
            raise self.fail(section, section, f"{key} is {kind}")
        return moment

    def typed_entries(self) -> None:
        # Each entry of these properties says what it is by its type; some also need an id.
        needs_id = {
            "credentialStatus": self.version == "1.1",
            "credentialSchema": True,
            "refreshService": self.version == "1.1",
            "termsOfUse": False,
            "evidence": False,
        }
        sections = {
            "credentialStatus": "status",
            "credentialSchema": "data-schemas",
            "refreshService": "refreshing",
            "termsOfUse": "terms-of-use",
            "evidence": "evidence",
        }
        for key, id_required in needs_id.items():
            if key not in self.credential:
                continue
            for entry in as_list(self.credential[key]):
                section = sections[key]
                if (
                    not isinstance(entry, dict)
                    or not _types(entry)
                    or not all(isinstance(item, str) for item in as_list(entry.get("type")))
                ):
                    raise self.fail(section, section, f"each {key} entry is an object with a type")
                if (id_required or "id" in entry) and not _is_url(entry.get("id")):
                    raise self.fail(section, section, f"each {key} entry's id is a URL")

    def related_resources(self) -> None:
        if "relatedResource" not in self.credential:
            return
        section = "integrity-of-related-resources"
        resources = self.credential["relatedResource"]
        entries = as_list(resources)
        if not entries or not all(isinstance(entry, dict) for entry in entries):
            raise self.fail(section, section, "relatedResource is one or more objects")
        stated: dict[str, list[tuple[str, bytes]]] = {}
        for entry in entries:
            identifier = entry.get("id")
            if not _is_url(identifier):
                raise self.fail(section, section, "each related resource has an id, a URL")
            if identifier in stated:
                raise self.fail(section, section, f"related resource {identifier} is listed twice")
            if "mediaType" in entry and not isinstance(entry["mediaType"], str):
                raise self.fail(section, section, "a related resource's mediaType is a string")
            digests = _resource_digests(entry)
            if isinstance(digests, str):
                raise self.fail(section, section, f"related resource {identifier}: {digests}")
            stated[identifier] = digests
        # Then integrity, once every entry has its form. The service retrieves nothing (no
        # network); what it holds as served, it checks.
        for identifier, digests in stated.items():
            held = served_bytes(identifier)
            for algorithm, digest in digests:
                if held is not None and hashlib.new(algorithm, held).digest() != digest:
                    raise self.fail(
                        section,
                        section,
                        f"related resource {identifier}: its {algorithm} digest does not match "
                        "the document this service holds for that URL",
                    )


class _PresentationRules(_Rules):
    """A presentation's own rules (section 4.13): those of a credential that apply to it,
    its holder, and credentials that are objects."""

    kind = "VerifiablePresentation"

    def check(self) -> None:
        self.contexts()
        self.identifier()
        self.types()
        self.holder()
        self.credentials()

    def holder(self) -> None:
        if "holder" not in self.credential:
            return
        holder = self.credential["holder"]
        if not _is_url(holder.get("id") if isinstance(holder, dict) else holder):
            raise self.fail(
                "presentations", "verifiable-presentations", "holder is a URL or has an id, a URL"
            )

    def credentials(self) -> None:
        if "verifiableCredential" not in self.credential:
            return
        credentials = as_list(self.credential["verifiableCredential"])
        if not credentials or not all(isinstance(item, dict) for item in credentials):
            raise self.fail(
                "presentations",
                "verifiable-presentations",
                "verifiableCredential is one or more objects (no strings, numbers or URLs)",
            )


def _resource_digests(entry: dict[str, Any]) -> list[tuple[str, bytes]] | str:
    """The (hashlib name, digest) pairs a related resource states, or what is wrong with them."""
    sri = entry.get("digestSRI")
    multibase = entry.get("digestMultibase")
    if sri is None and multibase is None:
        return "it has no digestSRI or digestMultibase"
    digests: list[tuple[str, bytes]] = []
    if sri is not None:
        # SRI's metadata is hash expressions separated by white space.
        for expression in sri.split() if isinstance(sri, str) and sri.strip() else [""]:
            match = _SRI.match(expression)
            digest = _base64(match.group(2), url=False) if match else None
            if not match or digest is None or len(digest) != _SIZES[match.group(1)]:
                return "digestSRI is sha256-, sha384- or sha512- and that digest in base64"
            digests.append((match.group(1), digest))
    for value in [] if multibase is None else as_list(multibase) or [None]:
        multihash = _multibase(value)
        algorithm, size = _MULTIHASHES.get(multihash[0], ("", -1)) if multihash else ("", -1)
        if multihash is None or len(multihash) != size + 2 or multihash[1] != size:
            return (
                "digestMultibase is a multibase (u or z) multihash of SHA-256, SHA-384, "
                "SHA3-256 or SHA3-384"
            )
        digests.append((algorithm, multihash[2:]))
    return digests


def _multibase(value: Any) -> bytes | None:
    if not isinstance(value, str) or len(value) < 2:
        return None
    if value[0] == "u":
        return _base64(value[1:], url=True)
    if value[0] == "z":
        try:
            return b58decode(value[1:])
        except ValueError:
            return None
    return None


def _base64(text: str, *, url: bool) -> bytes | None:
    """Strict base64 (SRI) or base64url without padding (multibase `u`)."""
    if url and not _BASE64URL.match(text):
        return None
    try:
        if url:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_datetime(value: Any, *, with_zone: bool = True) -> datetime | None:
    """An xsd:dateTimeStamp (or, without `with_zone`, an xsd:dateTime read as UTC)."""
    if not isinstance(value, str) or not _DATETIME.match(value):
        return None
    if with_zone and not (value.endswith("Z") or value[-6] in "+-"):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _is_text(value: Any) -> bool:
    items = value if isinstance(value, list) and value else [value]
    return all(isinstance(item, str) or _is_language_value(item) for item in items)


def _is_language_value(item: Any) -> bool:
    if not isinstance(item, dict) or not isinstance(item.get("@value"), str):
        return False
    if set(item) - {"@value", "@language", "@direction"}:
        return False
    language = item.get("@language")
    if language is not None and not (isinstance(language, str) and _LANGUAGE_TAG.match(language)):
        return False
    return item.get("@direction") in (None, "ltr", "rtl")


def _types(node: dict[str, Any]) -> set[str]:
    return {value for value in as_list(node.get("type")) if isinstance(value, str)}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and bool(IRI_PATTERN.match(value))
