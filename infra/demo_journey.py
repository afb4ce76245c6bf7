"""One learner's journey across the demo alliance, and what they received: `make demo`.

    python -m infra.demo_journey [--output demo-output]   (after `make run`)

Against the alliance `make run` started (service URLs of the run profile, Kafka from
KAFKA_BOOTSTRAP_SERVERS), a new learner signs in at the gateway's development identity
provider and, through the gateway only, enrols in four courses at three partners. Each
teaching partner's own system reports the learner's result as a signed
`assessment.result_submitted` event. The learner passes nordhavn's Introduction to Data
Science first, because valdemora's and rheinfeld's courses require it, then completes the
Responsible AI pathway (owned by valdemora), which earns a stacked credential (CLR 2.0).

Then everything the learner received goes into the output folder: each credential exactly
as issued, the issuers' and awarding bodies' DID documents and the status list credentials,
as any verifier resolves them, each micro-credential's Europass export (ELM v3, sealed by its
issuer) and each credential's PDF from a share link, with a README on verifying them offline.
One credential also goes into an independent OpenID4VCI wallet (Animo's npm client in
`infra/wallet`, for a fresh did:key holder), as the wallet received it. Every credential, the
wallet's included, is then verified with `python -m shared.credentials.verify_cli`, and every
Europass export's seal; the exit status is 1 if one does not verify. A second run uses a new
learner and replaces the output.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import json
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from infra import demo, wallet as wallet_client
from infra.profiles import PROFILES, SERVICES
from shared.credentials import verify_cli
from shared.credentials.jades import SealInvalid, verify_seal
from shared.credentials.verifier import HttpResolver, ResolutionError
from shared.events import Grade, Outcome, ResultSubmitted
from shared.events.vocabulary import SupervisionAndIdentityVerification
from shared.partner_system import PartnerSystem, demo_signer
from shared.registry import REPO_ROOT

T = TypeVar("T")

DEFAULT_OUTPUT = REPO_ROOT / "demo-output"
PATHWAY = "pth-responsible-ai"
FOUNDATION = "off-nordhavn-intro-data-science"
# Both need the foundation course; the last one needs data ethics. 17 ECTS at EQF 6-7 from
# three partners, data ethics included: what the Responsible AI pathway asks.
AFTER_FOUNDATION = ("off-valdemora-data-ethics", "off-rheinfeld-applied-machine-learning")
LAST = "off-valdemora-eu-ai-act"
# Grades as each country awards them.
GRADES = {
    "nordhavn": Grade(value="10", scheme="dk-7-point", normalised=83.0),
    "valdemora": Grade(value="8,5", scheme="es-0-10", normalised=85.0),
    "rheinfeld": Grade(value="1,7", scheme="de-1-5", normalised=82.5),
}
WAIT_S = 120.0
_POLL_S = 0.5


class JourneyError(Exception):
    """The journey cannot go on; the message says where and why."""


@dataclass(frozen=True)
class Alliance:
    """Where the alliance answers."""

    gateway: str
    catalogue: str
    recognition: str
    issuance: str
    bootstrap_servers: str

    @classmethod
    def run_profile(cls, environ: Mapping[str, str]) -> Alliance:
        profile = PROFILES["run"]
        urls = {service.name: profile.service_url(service) for service in SERVICES}
        return cls(
            gateway=urls["gateway"],
            catalogue=urls["catalogue"],
            recognition=urls["recognition"],
            issuance=urls["issuance"],
            bootstrap_servers=environ.get("KAFKA_BOOTSTRAP_SERVERS", profile.bootstrap_servers),
        )


@dataclass(frozen=True)
class Received:
    """What the journey collected, by kind, and a share link to one credential."""

    learner_id: str
    credentials: tuple[Path, ...]
    clr: tuple[Path, ...]
    did_documents: tuple[Path, ...]
    status_lists: tuple[Path, ...]
    share_page: str
    share_verify: str
    europass: tuple[Path, ...]
    pdfs: tuple[Path, ...]
    wallet: Path
    holder: str


# --- the learner, through the gateway ------------------------------------------------------


@dataclass
class Learner:
    gateway: httpx.AsyncClient
    headers: dict[str, str]
    learner_id: str
    wait_s: float

    @classmethod
    async def sign_in(cls, gateway: httpx.AsyncClient, subject: str, wait_s: float) -> Learner:
        answer = await _ok(gateway.post("/dev-idp/token", json={"subject": subject}))
        headers = {"Authorization": f"Bearer {answer['access_token']}"}
        me = await _ok(gateway.get("/me", headers=headers))
        return cls(gateway, headers, str(me["learner_id"]), wait_s)

    async def get(self, path: str) -> Any:
        return await _ok(self.gateway.get(path, headers=self.headers))

    async def enrol(self, offering_id: str) -> dict[str, Any]:
        """An accepted enrolment. Asked again while enrolment does not know the offering
        yet, or not yet the credential that meets its prerequisite."""

        async def accepted() -> dict[str, Any] | None:
            answer = await self.gateway.post(
                "/me/enrolments", json={"offering_id": offering_id}, headers=self.headers
            )
            if answer.status_code == httpx.codes.NOT_FOUND:
                return None
            enrolment: dict[str, Any] = _checked(answer).json()
            if enrolment["status"] == "accepted":
                return enrolment
            if enrolment.get("reason") == "prerequisites_not_met":
                return None
            raise JourneyError(f"enrolment in {offering_id}: {enrolment}")

        return await _eventually(accepted, self.wait_s, f"an accepted enrolment in {offering_id}")

    async def credential_for(self, offering_id: str) -> dict[str, Any]:
        async def issued() -> dict[str, Any] | None:
            wallet = await self.get("/me/credentials")
            return next(
                (c for c in wallet["items"]
                 if c["offering_id"] == offering_id and c["status"] == "valid"),
                None,
            )  # fmt: skip

        return await _eventually(issued, self.wait_s, f"the credential for {offering_id}")


async def pass_course(learner: Learner, alliance: Alliance, offering_id: str) -> dict[str, Any]:
    """Enrol through the gateway; the teaching partner's system reports a pass; wait for the
    credential in the wallet."""
    listing = await learner.get(f"/offerings/{offering_id}")
    offering = listing["offering"]
    enrolment = await learner.enrol(offering_id)
    partner_id = enrolment["partner_id"]
    result = ResultSubmitted(
        result_id=f"res-{uuid.uuid4().hex}",
        enrolment_id=enrolment["enrolment_id"],
        offering_id=offering_id,
        partner_id=partner_id,
        learner_id=learner.learner_id,
        outcome=Outcome.PASSED,
        grade=GRADES.get(partner_id),
        assessment_type=offering["assessment_types"][0],
        supervision_and_identity_verification=offering.get("supervision_and_identity_verification")
        or SupervisionAndIdentityVerification.SUPERVISED_WITH_IDENTITY_VERIFICATION,
        assessed_on=dt.date.today(),
        submitted_at=dt.datetime.now(dt.UTC),
    )
    async with PartnerSystem(alliance.bootstrap_servers, demo_signer(partner_id)) as system:
        await system.publish(result)
    credential = await learner.credential_for(offering_id)
    print(f"  passed {offering_id} at {partner_id}: {credential['credential_id']}")
    return credential


async def complete_pathway(learner: Learner, pathway_id: str) -> str:
    """The stacked credential recognition has issuance issue once the pathway is complete."""

    standing: dict[str, Any] = {}

    async def stacked() -> str | None:
        progress = await learner.get("/me/progress")
        mine = next((p for p in progress if p["pathway_id"] == pathway_id), None)
        standing.update(mine or {})
        if mine is None or mine["stacked_credential_id"] is None:
            return None
        wallet = await learner.get("/me/credentials")
        held = {c["credential_id"] for c in wallet["items"] if c["status"] == "valid"}
        credential_id: str = mine["stacked_credential_id"]
        return credential_id if credential_id in held else None

    try:
        credential_id = await _eventually(stacked, learner.wait_s, f"the {pathway_id} credential")
    except JourneyError as exc:
        # What recognition last said: the pathway's status and what it finds missing.
        said = {k: standing.get(k) for k in ("status", "ects_earned", "missing")}
        raise JourneyError(f"{exc} (recognition says {said})") from exc
    print(f"  completed pathway {pathway_id}: {credential_id}")
    return credential_id


async def journey(learner: Learner, alliance: Alliance) -> str:
    """The courses, in the order their prerequisites allow; returns the stacked credential."""
    await pass_course(learner, alliance, FOUNDATION)
    await asyncio.gather(*(pass_course(learner, alliance, o) for o in AFTER_FOUNDATION))
    await pass_course(learner, alliance, LAST)
    return await complete_pathway(learner, PATHWAY)


# --- collecting what the learner received --------------------------------------------------


async def collect(
    learner: Learner, output: Path, stacked_id: str, wallet_command: list[str]
) -> Received:
    """Every credential as issued, and what a verifier resolves for them, into `output`;
    the foundation course's credential also as an independent wallet received it."""
    for folder in ("credentials", "clr", "did", "status", "europass", "pdf", "wallet"):
        shutil.rmtree(output / folder, ignore_errors=True)
        (output / folder).mkdir(parents=True)
    wallet = await learner.get("/me/credentials")
    documents: list[dict[str, Any]] = []
    written: dict[str, list[Path]] = {"credentials": [], "clr": [], "europass": [], "pdf": []}
    links: dict[str, dict[str, Any]] = {}
    for item in wallet["items"]:
        credential_id = item["credential_id"]
        mine = f"/me/credentials/{credential_id}"
        answer = await _done(learner.gateway.get(mine, headers=learner.headers))
        folder = "clr" if item["kind"] == "pathway" else "credentials"
        path = output / folder / f"{credential_id}.json"
        path.write_bytes(answer.content)  # the bytes as issued: the proof covers them
        written[folder].append(path)
        documents.append(json.loads(answer.content))
        if folder == "credentials":  # Europass takes micro-credentials, not the CLR
            sealed = await _done(learner.gateway.get(f"{mine}/elm", headers=learner.headers))
            path = output / "europass" / f"{credential_id}.json"
            path.write_bytes(sealed.content)  # as sealed: the seal covers these bytes
            written["europass"].append(path)
        links[credential_id] = await _ok(
            learner.gateway.post(f"{mine}/share", headers=learner.headers)
        )
        pdf = await _done(learner.gateway.get(links[credential_id]["pdf_url"]))
        path = output / "pdf" / f"{credential_id}.pdf"
        path.write_bytes(pdf.content)
        written["pdf"].append(path)
    resolver = HttpResolver()
    dids: list[Path] = []
    for did in sorted(set(_dids(documents))):
        path = output / "did" / f"{_did_name(did)}.json"
        path.write_text(json.dumps(await _resolved(resolver.did_document(did)), indent=2) + "\n")
        dids.append(path)
    lists: list[Path] = []
    for url in sorted(set(_status_lists(documents))):
        path = output / "status" / f"{_status_name(url)}.json"
        path.write_text(json.dumps(await _resolved(resolver.status_list(url)), indent=2) + "\n")
        lists.append(path)
    [foundation] = [i["credential_id"] for i in wallet["items"] if i["offering_id"] == FOUNDATION]
    held, holder = await take_into_wallet(learner, output, foundation, wallet_command)
    link = links[stacked_id]
    return Received(
        learner.learner_id,
        tuple(written["credentials"]),
        tuple(written["clr"]),
        tuple(dids),
        tuple(lists),
        link["page_url"],
        link["verify_url"],
        tuple(written["europass"]),
        tuple(written["pdf"]),
        held,
        holder,
    )


async def take_into_wallet(
    learner: Learner, output: Path, credential_id: str, wallet_command: list[str]
) -> tuple[Path, str]:
    """The credential offered through the gateway and redeemed by the independent
    OpenID4VCI wallet for a fresh did:key holder; its file and the holder's DID."""
    offer = await _ok(
        learner.gateway.post(f"/me/credentials/{credential_id}/offer", headers=learner.headers)
    )
    try:
        taken = await asyncio.to_thread(
            wallet_client.redeem, wallet_command, offer["offer_link"], offer["tx_code"]
        )
    except wallet_client.WalletError as exc:
        raise JourneyError(f"the wallet: {exc}") from exc
    if "credential" not in taken:
        raise JourneyError(f"the wallet was refused {credential_id}: {taken}")
    credential, holder = taken["credential"], taken["holder"]
    subject = credential["credentialSubject"].get("id")
    if subject != holder:
        raise JourneyError(f"the wallet's credential is issued to {subject}, not to {holder}")
    path = output / "wallet" / f"{credential_id}.json"
    path.write_text(json.dumps(credential, indent=2) + "\n")
    return path, holder


def _walk(documents: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """The credentials and, inside a CLR, its component credentials."""
    for document in documents:
        yield document
        yield from _walk(document["credentialSubject"].get("verifiableCredential", []))


def _dids(documents: Iterable[dict[str, Any]]) -> Iterable[str]:
    """Issuers, signers and awarding bodies (`achievement.creator`)."""
    for document in _walk(documents):
        yield document["issuer"]["id"]
        yield document["proof"]["verificationMethod"].split("#", 1)[0]
        subject = document["credentialSubject"]
        achievements = subject.get("achievement", [])
        for achievement in achievements if isinstance(achievements, list) else [achievements]:
            if "creator" in achievement:
                yield achievement["creator"]["id"]


def _status_lists(documents: Iterable[dict[str, Any]]) -> Iterable[str]:
    for document in _walk(documents):
        status = document.get("credentialStatus")
        for entry in status if isinstance(status, list) else [status] if status else []:
            yield entry["statusListCredential"]


def _did_name(did: str) -> str:
    """`did:web:host:partners:nordhavn` -> `nordhavn`."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", did.rsplit(":", 1)[-1])


def _status_name(url: str) -> str:
    """`.../status/nordhavn/revocation` -> `nordhavn-revocation`."""
    return "-".join(urlsplit(url).path.rstrip("/").split("/")[-2:])


async def _resolved(fetch: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    try:
        return await fetch
    except ResolutionError as exc:
        raise JourneyError(str(exc)) from exc


# --- verifying the output offline ----------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    path: Path
    verified: bool
    checks: tuple[tuple[str, str], ...]


def verify_output(received: Received, issuing_host: str) -> list[Verified]:
    """Every credential file through the command-line verifier, offline (files only)."""
    resolved = [arg for p in received.did_documents for arg in ("--did-document", str(p))]
    resolved += [arg for p in received.status_lists for arg in ("--status-list", str(p))]
    outcomes = []
    for path in (*received.credentials, *received.clr, received.wallet):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = verify_cli.main([str(path), *resolved, "--issuing-host", issuing_host, "--json"])
        report = json.loads(printed.getvalue())
        checks = tuple((c["check"], c["outcome"]) for c in report["checks"])
        outcomes.append(Verified(path, code == 0 and report["verified"], checks))
    return outcomes


def verify_seals(received: Received) -> dict[Path, str | None]:
    """Each Europass export's JAdES seal, checked with the certificate it carries: None when
    it verifies, else why not."""
    outcomes: dict[Path, str | None] = {}
    for path in received.europass:
        try:
            verify_seal(json.loads(path.read_bytes()))
            outcomes[path] = None
        except (SealInvalid, ValueError) as exc:
            outcomes[path] = str(exc)
    return outcomes


README = """\
# What the demo learner received

`make demo` walked one new learner ({learner_id}) across the demo alliance through the
gateway: four courses at nordhavn, valdemora and rheinfeld, each reported as passed by the
teaching partner's own system, which completed the Responsible AI pathway. These files are
what that learner received, and what a verifier needs to check them:

- `credentials/<credential id>.json`: each micro-credential exactly as issued (Open Badges
  3.0 `OpenBadgeCredential`, `eddsa-rdfc-2022` proof), byte for byte what the wallet
  (`GET /me/credentials/<id>` at the gateway) hands over.
- `clr/<credential id>.json`: the stacked credential for the completed pathway (CLR 2.0
  `ClrCredential`), holding the micro-credentials with their own proofs intact.
- `did/<partner>.json`: the `did:web` document of every issuer and awarding body, as a
  verifier resolves it (the alliance issues by mandate, so the signing partner and the
  awarding partner differ).
- `status/<partner>-revocation.json`: the signed Bitstring Status List credential each
  `credentialStatus` points to, as it stood when the files were collected.
- `europass/<credential id>.json`: each micro-credential for Europass, as the wallet gives it
  (`GET /me/credentials/<id>/elm`): a European Learning Model v3 credential in the EDC
  profile, sealed with JAdES (a JWS in the JSON serialization, the credential readable in
  its `payload`) by the issuing partner's key, whose certificate the seal carries (`x5c`).
  The demo certificates are self-signed: Europass itself accepts only an eIDAS seal.
- `pdf/<credential id>.pdf`: each credential as a PDF, from a share link
  (`/shared/<token>/pdf`).
- `wallet/<credential id>.json`: the foundation course's credential as an independent
  OpenID4VCI wallet received it (Animo's `@openid4vc/openid4vci`, `infra/wallet`): offered
  through the gateway (`POST /me/credentials/<id>/offer`), redeemed for the wallet's fresh
  `did:key` ({holder}), which is its `credentialSubject.id`; same achievement and status entry.

## Verifying offline

The alliance's own verifier checks structure, proof, validity dates, status and that the
issuer is a partner in the alliance registry, and says why for each:

```
python -m shared.credentials.verify_cli demo-output/credentials/<file>.json \\
    {resolved} \\
    --issuing-host {issuing_host}
```

`--issuing-host` names the host the alliance's issuance service serves the partners'
DIDs from (`did:web:{issuing_host_encoded}:partners:<partner>`); without it a DID on a local
address is not taken for a partner's. Add `--json` for a machine-readable report, or
`--online` to resolve what is not given over the network instead. The files are plain
JSON-LD: other verifiers take them too (see `tests/independent/`).

A share link to the stacked credential: {share_page} (its verification: {share_verify}).
"""


def write_readme(output: Path, received: Received, issuing_host: str) -> None:
    resolved = " ".join(
        [f"--did-document demo-output/did/{p.name}" for p in received.did_documents]
        + [f"--status-list demo-output/status/{p.name}" for p in received.status_lists]
    )
    (output / "README.md").write_text(
        README.format(
            learner_id=received.learner_id,
            resolved=resolved,
            issuing_host=issuing_host,
            issuing_host_encoded=issuing_host.replace(":", "%3A"),
            share_page=received.share_page,
            share_verify=received.share_verify,
            holder=received.holder,
        )
    )


# --- the whole run -------------------------------------------------------------------------


async def run_journey(
    alliance: Alliance, output: Path, subject: str | None = None, wait_s: float = WAIT_S
) -> Received:
    """Loads what is missing of the demo alliance, walks a new learner, collects into
    `output`."""
    try:
        # First: without node and npm the journey would fail only at its end.
        wallet_command = await asyncio.to_thread(wallet_client.command)
    except wallet_client.WalletError as exc:
        raise JourneyError(str(exc)) from exc
    try:
        report = await demo.load_demo(alliance.bootstrap_servers, alliance.catalogue, wait_s=wait_s)
        await demo.load_pathways(
            alliance.bootstrap_servers,
            alliance.recognition,
            demo.read_pathways(report.offerings),
            demo.read_recognition_rules(),
            wait_s=wait_s,
        )
    except demo.DemoError as exc:
        raise JourneyError(str(exc)) from exc
    async with httpx.AsyncClient(base_url=alliance.gateway, timeout=30.0) as gateway:
        learner = await Learner.sign_in(gateway, subject or f"demo-{uuid.uuid4().hex[:12]}", wait_s)
        print(f"Learner {learner.learner_id} at the gateway {alliance.gateway}")
        stacked_id = await journey(learner, alliance)
        return await collect(learner, output, stacked_id, wallet_command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.demo_journey", description=__doc__)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    alliance = Alliance.run_profile(os.environ)
    issuing_host = urlsplit(alliance.issuance).netloc
    try:
        received = asyncio.run(run_journey(alliance, args.output))
    except (JourneyError, httpx.HTTPError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    write_readme(args.output, received, issuing_host)
    outcomes = verify_output(received, issuing_host)
    seals = verify_seals(received)
    print(summary(args.output, received, outcomes, seals))
    sealed = all(reason is None for reason in seals.values())
    return 0 if sealed and all(o.verified for o in outcomes) else 1


def summary(
    output: Path,
    received: Received,
    outcomes: Iterable[Verified],
    seals: Mapping[Path, str | None],
) -> str:
    lines = [
        f"\nWhat the learner received is in {output}/ (README.md says how to verify it):",
        f"  {len(received.credentials)} micro-credentials, {len(received.clr)} stacked "
        f"credential(s), {len(received.did_documents)} DID documents, "
        f"{len(received.status_lists)} status lists, {len(received.europass)} Europass "
        f"exports (ELM v3, sealed), {len(received.pdfs)} PDFs",
        "Offline verification (python -m shared.credentials.verify_cli):",
    ]
    for outcome in outcomes:
        mark = "✓" if outcome.verified else "✗"
        checks = ", ".join(f"{name} {result}" for name, result in outcome.checks)
        lines.append(f"  {mark} {outcome.path.relative_to(output)}: {checks}")
    [wallet] = [o for o in outcomes if o.path == received.wallet]
    lines.append(
        f"Independent OpenID4VCI wallet (Animo's @openid4vc/openid4vci): "
        f"{received.wallet.relative_to(output)} issued to its holder {received.holder}, "
        + ("verified offline" if wallet.verified else "NOT verified offline")
    )
    broken = {path: reason for path, reason in seals.items() if reason is not None}
    lines.append(
        f"Europass seals (JAdES): {len(seals) - len(broken)} of {len(seals)} verify with "
        "the certificate they carry"
    )
    lines += [f"  ✗ {path.relative_to(output)}: {reason}" for path, reason in broken.items()]
    lines += [
        f"Share link (stacked credential): {received.share_page}",
        f"Its verification:                {received.share_verify}",
    ]
    return "\n".join(lines)


# --- small helpers -------------------------------------------------------------------------


async def _done(request: Awaitable[httpx.Response]) -> httpx.Response:
    return _checked(await request)


def _checked(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        raise JourneyError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text[:300]}"
        )
    return response


async def _ok(request: Awaitable[httpx.Response]) -> Any:
    return (await _done(request)).json()


async def _eventually(check: Callable[[], Awaitable[T | None]], wait_s: float, what: str) -> T:
    deadline = time.monotonic() + wait_s
    while (found := await check()) is None:
        if time.monotonic() > deadline:
            raise JourneyError(f"no {what} after {wait_s:.0f} s; the services' logs say why")
        await asyncio.sleep(_POLL_S)
    return found


if __name__ == "__main__":
    sys.exit(main())
