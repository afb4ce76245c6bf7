"""Verifying a credential (VC 1.1 or 2.0, OB 3.0 and CLR 2.0 profiles), check by check, in
the order OB 3.0 verifiers use.

`verify` runs, in order: `structure` (the data model and the profile, `data_model.py`),
`proof` (every eddsa-rdfc-2022 proof of a proof set or chain, one by a key in the issuer's
DID document `assertionMethod`, canonicalized in JSON-LD safe mode), `validity` (validFrom
<= now <= validUntil, each when present; issuanceDate/expirationDate for VC 1.1),
`status` (each BitstringStatusListEntry,
reading a status list credential whose own proof is verified too) and `trust` (the issuer
is a partner of the alliance). Each check says `passed`, `failed` or `skipped` and why; a
malformed credential skips everything after `structure`.

DID documents and status lists come from a `Resolver`: `OfflineResolver` from documents
handed over (the CLI's files, tests), `HttpResolver` over the network (did:web). did:key
is always resolved locally.

`verify_presentation` checks a verifiable presentation: its structure, its `authentication`
proof (by its holder, for the verifier's challenge and domain), then each credential it
carries with `verify`.

Which issuer DIDs belong to which partner (the `trust` check), as `TrustedIssuers` reads
them from the alliance registry (`alliance/registry.yaml`), for `did:web` only:
1. `did:web:<issuing host>:partners:<partner id>` is that partner, where an issuing host
   is the website host (or a subdomain of it) of a partner that operates the alliance's
   `issuance` service, or a host the deployment names (the issuance service's own public
   host). This is how the alliance issues "by mandate" for every partner.
2. Otherwise a `did:web` whose host is a partner's website host, or a subdomain of it, is
   that partner: only the partner controls that domain.
Any host is NOT enough for rule 1: whoever runs `evil.example` could then serve
`did:web:evil.example:partners:nordhavn` and pass as a partner. did:key issuers are bound
to no partner.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx

from shared.credentials.data_model import (
    CLR_TYPE,
    OB_TYPES,
    InvalidCredential,
    as_list,
    check_credential,
    check_presentation,
    parse_datetime,
)
from shared.credentials.did import (
    ASSERTION_METHOD,
    AUTHENTICATION,
    KeyResolutionError,
    KeyResolver,
    build_did_document,
    did_web_document_url,
    public_key_from_did_key,
)
from shared.credentials.loader import VC_V1
from shared.credentials.microcredential import IRI_PATTERN
from shared.credentials.proof import verify_credential, verify_presentation_proof
from shared.credentials.status_list import (
    PURPOSES,
    REVOCATION,
    StatusListError,
    decode_status_list,
    get_status,
)
from shared.registry import DEFAULT_REGISTRY, AllianceRegistry, Partner

STATUS_ENTRY = "BitstringStatusListEntry"
STATUS_LIST_CREDENTIAL = "BitstringStatusListCredential"
STATUS_PURPOSES = frozenset(PURPOSES)
ISSUANCE_SERVICE = "issuance"
# Bounds on what the HTTP resolver reads: it fetches URLs a submitted credential names.
MAX_DOCUMENT_BYTES = 1 << 20
# Each credential of a presentation may have status lists fetched: a bound on the fetches
# one request can cause (a wallet presents a handful).
MAX_PRESENTED_CREDENTIALS = 20
HTTP_TIMEOUT_S = 10.0


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class CheckName(StrEnum):
    STRUCTURE = "structure"
    PROOF = "proof"
    VALIDITY = "validity"
    STATUS = "status"
    TRUST = "trust"


@dataclass(frozen=True)
class Check:
    name: CheckName
    outcome: Outcome
    message: str

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED


@dataclass(frozen=True)
class VerificationReport:
    """Every check, in order; `verified` only when all of them passed."""

    checks: tuple[Check, ...]
    credential_id: str | None = None
    issuer: str | None = None
    partner_id: str | None = None
    partner_name: str | None = None

    @property
    def verified(self) -> bool:
        return all(check.passed for check in self.checks)

    def check(self, name: CheckName | str) -> Check:
        return next(check for check in self.checks if check.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "credentialId": self.credential_id,
            "issuer": self.issuer,
            "partner": (
                {"id": self.partner_id, "legalName": self.partner_name} if self.partner_id else None
            ),
            "checks": [
                {"check": str(check.name), "outcome": str(check.outcome), "message": check.message}
                for check in self.checks
            ],
        }


# The W3C VC API's names for our checks (`options.checks`), ours accepted too.
VC_API_CHECKS: dict[str, CheckName] = {
    "proof": CheckName.PROOF,
    "validity": CheckName.VALIDITY,
    "expiration": CheckName.VALIDITY,
    "credentialStatus": CheckName.STATUS,
    "status": CheckName.STATUS,
    "trust": CheckName.TRUST,
}


def vc_api_response(
    report: VerificationReport, checks: Iterable[str] | None = None
) -> dict[str, Any]:
    """The W3C VC API verify answer: whether verified, checks that passed, warnings, errors.

    `checks` (the request's `options.checks`) limits the answer to those checks, named as
    asked; the structure check always counts, since nothing else means anything without
    it. An unknown name is a `ValueError`. An untrusted issuer is a warning, not an error:
    the credential is genuine, only not from an alliance partner, and VC API callers
    decide what that means for them.
    """
    if checks is None:
        wanted = {str(check.name): check.name for check in report.checks}
    else:
        unknown = [name for name in checks if name not in VC_API_CHECKS]
        if unknown:
            raise ValueError(f"unknown checks {unknown}; known: {sorted(VC_API_CHECKS)}")
        wanted = {name: VC_API_CHECKS[name] for name in checks}
        wanted.setdefault(str(CheckName.STRUCTURE), CheckName.STRUCTURE)
    response: dict[str, list[str]] = {"checks": [], "warnings": [], "errors": []}
    for name, check_name in wanted.items():
        check = report.check(check_name)
        if check.passed:
            response["checks"].append(name)
        elif check.name is CheckName.TRUST or check.outcome is Outcome.SKIPPED:
            response["warnings"].append(f"{name}: {check.message}")
        else:
            response["errors"].append(f"{name}: {check.message}")
    return {"verified": not response["errors"], **response}


@dataclass(frozen=True)
class PresentationReport:
    """A presentation's own checks (what is wrong, None when it holds) and the report of
    each credential it carries; `verified` when none of them has an error (an issuer who is
    no partner is a warning, as for a credential)."""

    structure: str | None
    proof: str | None
    credentials: tuple[VerificationReport, ...] = ()

    @property
    def verified(self) -> bool:
        verified: bool = self.vc_api()["verified"]
        return verified

    def vc_api(self) -> dict[str, Any]:
        """The W3C VC API verify answer, each credential's answer in `credentialResults`
        and its errors and warnings also the presentation's, prefixed with its place."""
        response: dict[str, Any] = {"checks": [], "warnings": [], "errors": []}
        for name, problem in (("structure", self.structure), ("proof", self.proof)):
            if problem is None:
                response["checks"].append(name)
            else:
                response["errors"].append(f"{name}: {problem}")
        results = [vc_api_response(report) for report in self.credentials]
        for number, result in enumerate(results):
            for kind in ("warnings", "errors"):
                response[kind] += [f"verifiableCredential[{number}] {m}" for m in result[kind]]
        return {"verified": not response["errors"], **response, "credentialResults": results}


# --- resolving DID documents and status lists -------------------------------------------


class ResolutionError(Exception):
    """A DID document or status list cannot be had."""


class Resolver(Protocol):
    async def did_document(self, did: str) -> dict[str, Any]: ...

    async def status_list(self, url: str) -> dict[str, Any]: ...


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document a did:key stands for (its one key as assertion method)."""
    try:
        return build_did_document(did, [public_key_from_did_key(did)])
    except KeyResolutionError as exc:
        raise ResolutionError(str(exc)) from exc


class OfflineResolver:
    """DID documents and status list credentials handed over, keyed by their `id`.

    What is not here goes to `fallback` (e.g. an `HttpResolver`), if one is given.
    """

    def __init__(
        self,
        did_documents: Iterable[dict[str, Any]] = (),
        status_lists: Iterable[dict[str, Any]] = (),
        fallback: Resolver | None = None,
    ) -> None:
        self._documents = {document["id"]: document for document in did_documents}
        self._status_lists = {credential["id"]: credential for credential in status_lists}
        self._fallback = fallback

    async def did_document(self, did: str) -> dict[str, Any]:
        if did in self._documents:
            return self._documents[did]
        if did.startswith("did:key:"):
            return did_key_document(did)
        if self._fallback is not None:
            return await self._fallback.did_document(did)
        raise ResolutionError(f"no DID document given for {did}")

    async def status_list(self, url: str) -> dict[str, Any]:
        if url in self._status_lists:
            return self._status_lists[url]
        if self._fallback is not None:
            return await self._fallback.status_list(url)
        raise ResolutionError(f"no status list credential given for {url}")


class HttpResolver:
    """did:web documents and status lists over HTTPS (did:key locally).

    Plain http is used only for loopback hosts (`localhost`, `127.0.0.1`, `::1`), which is
    how the services run on a developer's machine; everything else must be https. A resolver
    that reads the same documents another way overrides `fetch` (and `status_list`, for the
    URLs it accepts).
    """

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._client = client

    async def did_document(self, did: str) -> dict[str, Any]:
        if did.startswith("did:key:"):
            return did_key_document(did)
        try:
            url = did_web_document_url(did)
        except KeyResolutionError as exc:
            raise ResolutionError(f"cannot resolve {did}: only did:web and did:key") from exc
        if _is_loopback(_hostname(url)):
            url = "http://" + url.removeprefix("https://")
        return await self.fetch(url)

    async def status_list(self, url: str) -> dict[str, Any]:
        scheme = url.partition(":")[0]
        if not (scheme == "https" or (scheme == "http" and _is_loopback(_hostname(url)))):
            raise ResolutionError(f"refusing to fetch {url}: not https")
        return await self.fetch(url)

    async def fetch(self, url: str) -> dict[str, Any]:
        """The JSON object published at `url`."""
        if self._client is not None:
            return await _fetch_json(self._client, url)
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as client:
            return await _fetch_json(client, url)


async def _fetch_json(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    try:
        async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
            if response.status_code != httpx.codes.OK:
                raise ResolutionError(f"{url} answered {response.status_code}")
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise ResolutionError(f"{url} is larger than {MAX_DOCUMENT_BYTES} bytes")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise ResolutionError(f"cannot fetch {url}: {exc}") from exc
    return json_object(url, body)


def json_object(url: str, body: bytes) -> dict[str, Any]:
    """`body`, read from `url`, as the JSON object a DID document or status list is."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ResolutionError(f"{url} is not JSON") from exc
    if not isinstance(document, dict):
        raise ResolutionError(f"{url} is not a JSON object")
    return document


def _hostname(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # e.g. an unbalanced "[" in a host a credential made up
        return ""


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


# --- which issuers are alliance partners --------------------------------------------------


class TrustedIssuers:
    """Maps issuer DIDs to alliance partners (the rules are in this module's docstring)."""

    def __init__(self, registry: AllianceRegistry, issuing_hosts: Iterable[str] = ()) -> None:
        self._partners = registry.partners
        self._domains = {
            partner_id: _hostname(partner.website) for partner_id, partner in self._partners.items()
        }
        self._issuing_domains = frozenset(
            self._domains[partner_id]
            for partner_id, partner in self._partners.items()
            if ISSUANCE_SERVICE in partner.operates
        )
        self._issuing_hosts = frozenset(host.lower() for host in issuing_hosts)

    @classmethod
    def load(
        cls, path: Path = DEFAULT_REGISTRY, issuing_hosts: Iterable[str] = ()
    ) -> TrustedIssuers:
        return cls(AllianceRegistry.load(path), issuing_hosts)

    def partner_for(self, did: str) -> Partner | None:
        if not did.startswith("did:web:"):
            return None
        authority, *path = did.removeprefix("did:web:").split(":")
        authority = unquote(authority).lower()
        hostname = _hostname("//" + authority)
        if self._is_issuing_host(authority, hostname) and len(path) == 2 and path[0] == "partners":
            return self._partners.get(unquote(path[1]))
        for partner_id, domain in self._domains.items():
            if _within(hostname, domain):
                return self._partners[partner_id]
        return None

    def _is_issuing_host(self, authority: str, hostname: str) -> bool:
        # A configured host with a port matches that port only; without one, any port.
        if authority in self._issuing_hosts or hostname in self._issuing_hosts:
            return True
        return any(_within(hostname, domain) for domain in self._issuing_domains)


def _within(hostname: str, domain: str) -> bool:
    return bool(domain) and (hostname == domain or hostname.endswith("." + domain))


@cache
def _registry_trust() -> TrustedIssuers:
    return TrustedIssuers.load()


# --- the checks -------------------------------------------------------------------------


async def verify(
    credential: dict[str, Any],
    resolver: Resolver,
    *,
    trust: TrustedIssuers | None = None,
    now: datetime | None = None,
) -> VerificationReport:
    """Check `credential` in OB 3.0 verifier order; never raises for a bad credential.

    `trust` defaults to the alliance registry with no extra issuing hosts; `now` to the
    current time.
    """
    trusted = trust or _registry_trust()
    moment = now or datetime.now(UTC)
    if not isinstance(credential, dict):  # JSON from outside may be anything
        credential, problem = {}, "a credential is a JSON object"
    else:
        problem = _structure_problem(credential)
    issuer = _issuer_id(credential)
    credential_id = credential.get("id") if isinstance(credential.get("id"), str) else None
    if problem is not None:
        skipped = "not checked: the credential is malformed"
        return VerificationReport(
            (
                Check(CheckName.STRUCTURE, Outcome.FAILED, problem),
                *(Check(name, Outcome.SKIPPED, skipped) for name in list(CheckName)[1:]),
            ),
            credential_id,
            issuer,
        )
    documents = _DocumentCache(resolver)
    types = _types(credential)
    kind = (
        CLR_TYPE
        if CLR_TYPE in types
        else "OpenBadgeCredential"
        if OB_TYPES & types
        else "VerifiableCredential"
    )
    partner = trusted.partner_for(issuer or "")
    checks = (
        Check(CheckName.STRUCTURE, Outcome.PASSED, f"a well-formed {kind}"),
        await _proof_check(credential, documents),
        _validity_check(credential, moment),
        await _status_check(credential, documents, moment),
        _trust_check(issuer or "", partner),
    )
    return VerificationReport(
        checks,
        credential_id,
        issuer,
        partner.id if partner else None,
        partner.legal_name if partner else None,
    )


async def verify_presentation(
    presentation: dict[str, Any],
    resolver: Resolver,
    *,
    challenge: str | None,
    domain: str | None,
    trust: TrustedIssuers | None = None,
    now: datetime | None = None,
) -> PresentationReport:
    """Check `presentation` and each credential in it; never raises for a bad one.

    `challenge` and `domain` are the verifier's (the proof must carry them); None leaves
    that one unchecked. `trust` and `now` as for `verify`."""
    skipped = "not checked: the presentation is malformed"
    if not isinstance(presentation, dict):  # JSON from outside may be anything
        return PresentationReport("a presentation is a JSON object", skipped)
    try:
        check_presentation(presentation)
    except InvalidCredential as exc:
        return PresentationReport(f"{exc} ({exc.url})", skipped)
    presented = as_list(presentation.get("verifiableCredential"))
    if len(presented) > MAX_PRESENTED_CREDENTIALS:
        return PresentationReport(
            f"this verifier takes at most {MAX_PRESENTED_CREDENTIALS} credentials a "
            f"presentation, not {len(presented)}",
            skipped,
        )
    documents = _DocumentCache(resolver)
    proof = as_list(presentation.get("proof"))
    method = proof[0].get("verificationMethod") if proof and isinstance(proof[0], dict) else None
    try:
        key_resolver = await documents.key_resolver(
            [method] if isinstance(method, str) else [], AUTHENTICATION
        )
    except ResolutionError as exc:
        problem: str | None = f"cannot resolve a verification method: {exc}"
    else:
        result = await asyncio.to_thread(
            verify_presentation_proof,
            presentation,
            key_resolver,
            challenge=challenge,
            domain=domain,
        )
        problem = None if result.verified else result.reason
    credentials = [await verify(c, resolver, trust=trust, now=now) for c in presented]
    return PresentationReport(None, problem, tuple(credentials))


@dataclass
class _DocumentCache:
    """DID documents fetched once per verification (credential and status list share one)."""

    resolver: Resolver
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def key_resolver(
        self, methods: list[str], relation: str = ASSERTION_METHOD
    ) -> KeyResolver:
        """A resolver over the DID documents of every method's controller, for the keys of
        one verification relationship."""
        dids = list(dict.fromkeys(method.split("#", 1)[0] for method in methods))
        for did in dids:
            if did not in self.documents:
                document = await self.resolver.did_document(did)
                if document.get("id") != did:
                    raise ResolutionError(f"the DID document for {did} names {document.get('id')}")
                self.documents[did] = document
        return KeyResolver([self.documents[did] for did in dids], relation)


def _structure_problem(credential: dict[str, Any]) -> str | None:
    try:
        check_credential(credential)
    except InvalidCredential as exc:
        return f"{exc} ({exc.url})"
    return _status_entries_problem(credential.get("credentialStatus"))


def _status_entries_problem(status: Any) -> str | None:
    for entry in as_list(status):
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            return "each credentialStatus entry is an object with a type"
        if entry["type"] != STATUS_ENTRY:
            continue  # reported by the status check as unsupported
        index = entry.get("statusListIndex")
        if not (isinstance(index, str) and index.isascii() and index.isdigit()):
            return "statusListIndex must be a string of digits"
        if not _is_iri(entry.get("statusListCredential")):
            return "statusListCredential must be a URL"
        if not isinstance(entry.get("statusPurpose"), str):
            return "statusPurpose is required"
    return None


async def _proof_check(credential: dict[str, Any], documents: _DocumentCache) -> Check:
    problem, method = await _proof_problem(credential, documents)
    if problem is not None:
        return Check(CheckName.PROOF, Outcome.FAILED, problem)
    count = len(as_list(credential.get("proof")))
    proofs = f" ({count} proofs, all verified)" if count > 1 else ""
    return Check(CheckName.PROOF, Outcome.PASSED, f"eddsa-rdfc-2022 signature by {method}{proofs}")


async def _proof_problem(
    credential: dict[str, Any], documents: _DocumentCache
) -> tuple[str | None, str | None]:
    """Why the embedded proofs do not hold (None when they do), and the issuer's method."""
    proofs = as_list(credential.get("proof"))
    methods = [
        proof["verificationMethod"]
        for proof in proofs
        if isinstance(proof, dict) and isinstance(proof.get("verificationMethod"), str)
    ]
    if not proofs or len(methods) != len(proofs):
        return "no embedded proof with a verificationMethod", None
    try:
        key_resolver = await documents.key_resolver(methods)
    except ResolutionError as exc:
        return f"cannot resolve a verification method: {exc}", None
    result = await asyncio.to_thread(verify_credential, credential, key_resolver)
    return (None if result.verified else result.reason), result.verification_method


def _validity_check(credential: dict[str, Any], now: datetime) -> Check:
    problem = _validity_problem(credential, now)
    if problem is not None:
        return Check(CheckName.VALIDITY, Outcome.FAILED, problem)
    begins, ends = _validity_period(credential)
    beginning = f"valid from {begins}" if begins else "valid with no start date"
    ending = f" until {ends}" if ends else ", with no end date"
    return Check(CheckName.VALIDITY, Outcome.PASSED, beginning + ending)


def _validity_period(document: dict[str, Any]) -> tuple[Any, Any]:
    """Start and end as the document's data model names them; VC 2.0 makes both optional."""
    if as_list(document.get("@context"))[:1] == [VC_V1]:
        return document.get("issuanceDate"), document.get("expirationDate")
    return document.get("validFrom"), document.get("validUntil")


def _validity_problem(document: dict[str, Any], now: datetime) -> str | None:
    begins, ends = _validity_period(document)
    with_zone = as_list(document.get("@context"))[:1] != [VC_V1]
    if begins is not None:
        start = parse_datetime(begins, with_zone=with_zone)
        if start is None:
            return f"the start {begins!r} is not a dateTime"
        if now < start:
            return f"not valid before {begins}"
    if ends is not None:
        end = parse_datetime(ends, with_zone=with_zone)
        if end is None:
            return f"the end {ends!r} is not a dateTime"
        if now > end:
            return f"expired on {ends}"
    return None


async def _status_check(
    credential: dict[str, Any], documents: _DocumentCache, now: datetime
) -> Check:
    entries = credential.get("credentialStatus")
    if entries is None:
        return Check(CheckName.STATUS, Outcome.PASSED, "no credentialStatus: it cannot be revoked")
    messages = []
    for entry in as_list(entries):
        problem = await _status_problem(credential, entry, documents, now)
        if problem is not None:
            return Check(CheckName.STATUS, Outcome.FAILED, problem)
        messages.append(f"not {_status_word(entry['statusPurpose'])}")
    return Check(
        CheckName.STATUS, Outcome.PASSED, "; ".join(messages) + " (status list proof verified)"
    )


async def _status_problem(
    credential: dict[str, Any], entry: dict[str, Any], documents: _DocumentCache, now: datetime
) -> str | None:
    if entry["type"] != STATUS_ENTRY:
        return f"credentialStatus type {entry['type']!r} is not supported"
    purpose = entry["statusPurpose"]
    if purpose not in STATUS_PURPOSES:
        return f"statusPurpose {purpose!r} is not supported"
    if entry.get("statusSize", 1) != 1:
        return "only one-bit status entries (statusSize 1) are supported"
    url = entry["statusListCredential"]
    try:
        status_list = await documents.resolver.status_list(url)
    except ResolutionError as exc:
        return f"cannot read the status list {url}: {exc}"
    list_problem = await _status_list_problem(status_list, credential, purpose, documents, now)
    if list_problem is not None:
        return f"status list {url}: {list_problem}"
    try:
        bits = decode_status_list(status_list["credentialSubject"]["encodedList"])
        is_set = get_status(bits, int(entry["statusListIndex"]))
    except StatusListError as exc:
        return f"status list {url}: {exc}"
    if is_set:
        return f"the credential is {_status_word(purpose)} (index {entry['statusListIndex']})"
    return None


async def _status_list_problem(
    status_list: dict[str, Any],
    credential: dict[str, Any],
    purpose: str,
    documents: _DocumentCache,
    now: datetime,
) -> str | None:
    # Anyone able to replace the file could otherwise publish an all-clear list of their own.
    if STATUS_LIST_CREDENTIAL not in _types(status_list):
        return f"not a {STATUS_LIST_CREDENTIAL}"
    if _issuer_id(status_list) != _issuer_id(credential):
        return f"issued by {_issuer_id(status_list)}, not by the credential's issuer"
    proof_problem, _ = await _proof_problem(status_list, documents)
    if proof_problem is not None:
        return f"its proof does not hold: {proof_problem}"
    dates_problem = _validity_problem(status_list, now)
    if dates_problem is not None:
        return dates_problem
    subject = status_list.get("credentialSubject")
    if not isinstance(subject, dict) or not isinstance(subject.get("encodedList"), str):
        return "no encodedList"
    if purpose not in as_list(subject.get("statusPurpose")):
        return f"it is not a {purpose} list"
    return None


def _trust_check(issuer: str, partner: Partner | None) -> Check:
    if partner is None:
        return Check(
            CheckName.TRUST,
            Outcome.FAILED,
            f"{issuer} is not the DID of an alliance partner (partners issue as did:web on "
            "their own domain, or did:web:<issuing host>:partners:<partner id>)",
        )
    return Check(
        CheckName.TRUST,
        Outcome.PASSED,
        f"the issuer is {partner.legal_name} ({partner.country}), a partner of the alliance",
    )


# --- small helpers ------------------------------------------------------------------------


def _status_word(purpose: str) -> str:
    return "revoked" if purpose == REVOCATION else "suspended"


def _issuer_id(document: dict[str, Any]) -> str | None:
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    return issuer_id if isinstance(issuer_id, str) else None


def _types(node: dict[str, Any]) -> set[str]:
    return {value for value in as_list(node.get("type")) if isinstance(value, str)}


def _is_iri(value: Any) -> bool:
    return isinstance(value, str) and bool(IRI_PATTERN.match(value))


__all__ = [
    "VC_API_CHECKS",
    "Check",
    "CheckName",
    "HttpResolver",
    "OfflineResolver",
    "Outcome",
    "ResolutionError",
    "Resolver",
    "TrustedIssuers",
    "VerificationReport",
    "did_key_document",
    "json_object",
    "vc_api_response",
    "verify",
]
