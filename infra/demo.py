"""Load the demo alliance: every partner publishes its demo offerings, as its own system would.

    python -m infra.demo    (`make run` does this, with the run profile's environment)

Reads `alliance/demo/offerings.yaml`, validates every offering against the contract model,
asks the catalogue (CATALOGUE_URL) which of them it already holds at that version, publishes
only the others to Kafka (KAFKA_BOOTSTRAP_SERVERS) as `offering.published` events signed by
their own partner, then waits until the catalogue lists them all. Then the same for the
pathways of `alliance/demo/pathways.yaml` (`pathway.defined`, signed by the partner owning
each, listed by recognition at RECOGNITION_URL), and each partner's recognition rules of
`alliance/demo/recognition-rules.yaml` (through recognition's API, as that partner's
system). Running it again publishes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from infra.profiles import PROFILES, SERVICES
from shared.dev_idp import TokenRequest, issue_token
from shared.events import OfferingPublished, OfferingSnapshot
from shared.events.pathways import PathwayDefined
from shared.partner_system import PartnerSystem, demo_signer
from shared.registry import REPO_ROOT, AllianceRegistry
from shared.settings import ServiceSettings

DEMO_OFFERINGS = REPO_ROOT / "alliance" / "demo" / "offerings.yaml"
DEMO_PATHWAYS = REPO_ROOT / "alliance" / "demo" / "pathways.yaml"
DEMO_RECOGNITION_RULES = REPO_ROOT / "alliance" / "demo" / "recognition-rules.yaml"
_RUN = PROFILES["run"]
DEFAULT_KAFKA = _RUN.bootstrap_servers
DEFAULT_CATALOGUE_URL = _RUN.service_url(next(s for s in SERVICES if s.name == "catalogue"))
DEFAULT_RECOGNITION_URL = _RUN.service_url(next(s for s in SERVICES if s.name == "recognition"))
WAIT_S = 30.0
_PAGE_SIZE = 100  # the largest page the catalogue serves
_POLL_S = 0.5


class DemoError(Exception):
    """The demo cannot be loaded; the message says why."""


@dataclass(frozen=True)
class LoadReport:
    catalogue_url: str
    offerings: tuple[OfferingSnapshot, ...]
    published: tuple[str, ...]
    """Ids of the offerings this run published; the catalogue already held the others."""


# --- the demo file -------------------------------------------------------------------------


def read_offerings(
    path: Path = DEMO_OFFERINGS, registry: AllianceRegistry | None = None
) -> tuple[OfferingSnapshot, ...]:
    """Every offering in the demo file, validated; DemoError names what is wrong and where."""
    entries = _entries(path)
    offerings = tuple(_validated(path, number, entry) for number, entry in enumerate(entries, 1))
    _check_alliance(path, offerings, registry or AllianceRegistry.load())
    return offerings


def _entries(path: Path) -> list[Any]:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DemoError(f"cannot read {path}: {exc}") from exc
    entries = raw.get("offerings") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise DemoError(f"{path}: expected a non-empty list of offerings under `offerings:`")
    return entries


def _validated(path: Path, number: int, entry: Any) -> OfferingSnapshot:
    try:
        return OfferingSnapshot.model_validate(entry)
    except ValidationError as exc:
        name = entry.get("offering_id") if isinstance(entry, dict) else None
        problems = "\n".join(
            f"  {'.'.join(map(str, error['loc'])) or '(offering)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise DemoError(
            f"{path}: offering {name or '?'} (entry {number}) is invalid:\n{problems}"
        ) from exc


def _check_alliance(
    path: Path, offerings: Sequence[OfferingSnapshot], registry: AllianceRegistry
) -> None:
    """What the model alone cannot see: unique ids, known partners, prerequisites in the file."""
    counts = Counter(offering.offering_id for offering in offerings)
    problems = [f"offering {id_} is listed {n} times" for id_, n in counts.items() if n > 1]
    for offering in offerings:
        if offering.partner_id not in registry.partners:
            problems.append(
                f"offering {offering.offering_id}: partner_id {offering.partner_id!r} is not a "
                "partner in the alliance registry"
            )
        required = offering.prerequisites.required_offering_ids if offering.prerequisites else ()
        problems.extend(
            f"offering {offering.offering_id}: prerequisites.required_offering_ids names "
            f"{id_}, which is not in the file"
            for id_ in required
            if id_ not in counts
        )
    if problems:
        raise DemoError(f"{path}:\n" + "\n".join(f"  {problem}" for problem in problems))


def by_partner(offerings: Iterable[OfferingSnapshot]) -> dict[str, list[OfferingSnapshot]]:
    grouped: dict[str, list[OfferingSnapshot]] = {}
    for offering in offerings:
        grouped.setdefault(offering.partner_id, []).append(offering)
    return grouped


# --- the catalogue's API -------------------------------------------------------------------


async def _get_json(
    client: httpx.AsyncClient, path: str, params: Mapping[str, str | int] | None = None
) -> Any | None:
    """The JSON answer, or None for 404; DemoError when the catalogue cannot answer."""
    try:
        response = await client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise DemoError(
            f"the catalogue at {client.base_url} does not answer ({exc!r}); is it running?"
        ) from exc
    if response.status_code == httpx.codes.NOT_FOUND:
        return None
    if response.status_code != httpx.codes.OK:
        raise DemoError(
            f"the catalogue answered {response.status_code} to GET {response.url}: "
            f"{response.text[:300]}"
        )
    return response.json()


async def held_versions(client: httpx.AsyncClient, offering_ids: Sequence[str]) -> dict[str, int]:
    """The version the catalogue holds of each of `offering_ids` it has, one lookup each."""
    answers = await asyncio.gather(
        *(_get_json(client, f"/offerings/{offering_id}") for offering_id in offering_ids)
    )
    return {
        offering_id: int(answer["version"])
        for offering_id, answer in zip(offering_ids, answers, strict=True)
        if answer is not None
    }


async def catalogue_listing(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every offering the catalogue's search lists, page by page (withdrawn ones included,
    so an offering its partner has since withdrawn does not look missing)."""
    items: list[dict[str, Any]] = []
    while True:
        page = await _get_json(
            client,
            "/offerings",
            {"limit": _PAGE_SIZE, "offset": len(items), "include_withdrawn": "true"},
        )
        if page is None or not page["items"]:
            return items
        items.extend(page["items"])
        if len(items) >= page["total"]:
            return items


def not_held(
    offerings: Iterable[OfferingSnapshot], versions: Mapping[str, int]
) -> list[OfferingSnapshot]:
    """The offerings the catalogue lacks, or holds only at an older version."""
    return [o for o in offerings if versions.get(o.offering_id, 0) < o.version]


async def wait_until_listed(
    client: httpx.AsyncClient, offerings: Sequence[OfferingSnapshot], wait_s: float
) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        listing = await catalogue_listing(client)
        missing = not_held(offerings, {item["offering_id"]: item["version"] for item in listing})
        if not missing:
            return
        if time.monotonic() >= deadline:
            raise DemoError(
                f"after {wait_s:.0f} s the catalogue at {client.base_url} still does not list "
                f"{len(missing)} of the {len(offerings)} demo offerings "
                f"({', '.join(o.offering_id for o in missing)}); is it consuming "
                "alliance.offerings? Its log and its dead-letter topic say why."
            )
        await asyncio.sleep(_POLL_S)


# --- publishing, as each partner's own system ----------------------------------------------


def offering_published(offering: OfferingSnapshot) -> OfferingPublished:
    return OfferingPublished.model_validate(
        {**offering.model_dump(), "published_at": dt.datetime.now(dt.UTC)}
    )


async def publish(bootstrap_servers: str, offerings: Sequence[OfferingSnapshot]) -> None:
    """Each partner publishes its own offerings, signed with its own key."""
    try:
        for partner_id, own in by_partner(offerings).items():
            async with PartnerSystem(bootstrap_servers, demo_signer(partner_id)) as system:
                for offering in own:
                    await system.publish(offering_published(offering))
    except KafkaError as exc:
        raise DemoError(f"cannot publish to Kafka at {bootstrap_servers}: {exc!r}") from exc


# --- the whole load ------------------------------------------------------------------------


async def load_demo(
    bootstrap_servers: str,
    catalogue_url: str,
    path: Path = DEMO_OFFERINGS,
    wait_s: float = WAIT_S,
) -> LoadReport:
    offerings = read_offerings(path)
    async with httpx.AsyncClient(base_url=catalogue_url, timeout=10.0) as client:
        held = await held_versions(client, [o.offering_id for o in offerings])
        missing = not_held(offerings, held)
        await publish(bootstrap_servers, missing)
        await wait_until_listed(client, offerings, wait_s)
    return LoadReport(catalogue_url, offerings, tuple(o.offering_id for o in missing))


def summary(report: LoadReport, registry: AllianceRegistry) -> str:
    grouped = by_partner(report.offerings)
    lines = [
        f"Demo alliance in the catalogue at {report.catalogue_url}: {len(report.offerings)} "
        f"offerings from {len(grouped)} partners ({len(report.published)} published now, "
        f"{len(report.offerings) - len(report.published)} already there)."
    ]
    for partner_id, own in grouped.items():
        partner = registry.partners[partner_id]
        lines.append(f"  {partner_id:<10} {partner.city} ({partner.country}): {len(own)} offerings")
    return "\n".join(lines)


# --- pathways and recognition rules, for the recognition service ---------------------------


def read_pathways(
    offerings: Sequence[OfferingSnapshot],
    path: Path = DEMO_PATHWAYS,
    registry: AllianceRegistry | None = None,
) -> tuple[PathwayDefined, ...]:
    """Every pathway in the demo file, validated, naming only offerings of `offerings`."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DemoError(f"cannot read {path}: {exc}") from exc
    entries = raw.get("pathways") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise DemoError(f"{path}: expected a non-empty list of pathways under `pathways:`")
    now = dt.datetime.now(dt.UTC)
    try:
        pathways = tuple(PathwayDefined.model_validate({**e, "defined_at": now}) for e in entries)
    except (TypeError, ValidationError) as exc:
        raise DemoError(f"{path}: a pathway is invalid: {exc}") from exc
    partners = (registry or AllianceRegistry.load()).partners
    known = {o.offering_id for o in offerings}
    problems = [
        f"pathway {id_} is listed {n} times"
        for id_, n in Counter(p.pathway_id for p in pathways).items()
        if n > 1
    ]
    for pathway in pathways:
        if pathway.owner_partner_id not in partners:
            problems.append(
                f"pathway {pathway.pathway_id}: unknown owner {pathway.owner_partner_id}"
            )
        criteria = pathway.criteria
        problems.extend(
            f"pathway {pathway.pathway_id} names {id_}, which is not a demo offering"
            for id_ in (*criteria.required_offering_ids, *criteria.eligible_offering_ids)
            if id_ not in known
        )
    if problems:
        raise DemoError(f"{path}:\n" + "\n".join(f"  {problem}" for problem in problems))
    return pathways


def read_recognition_rules(path: Path = DEMO_RECOGNITION_RULES) -> dict[str, Any]:
    """Partner id -> its rule set, as recognition's API takes it (the API validates it)."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DemoError(f"cannot read {path}: {exc}") from exc
    partners = raw.get("partners") if isinstance(raw, dict) else None
    if not isinstance(partners, dict):
        raise DemoError(f"{path}: expected rule sets by partner id under `partners:`")
    return partners


async def load_pathways(
    bootstrap_servers: str,
    recognition_url: str,
    pathways: Sequence[PathwayDefined],
    rules: dict[str, Any],
    wait_s: float = WAIT_S,
) -> tuple[str, ...]:
    """Publishes the pathways recognition lacks (each signed by its owner), waits until it
    lists them, then sets each partner's recognition rules where they differ. Returns the
    ids of the pathways published."""
    async with httpx.AsyncClient(base_url=recognition_url, timeout=10.0) as client:
        held = await _recognition_pathways(client)
        missing = [p for p in pathways if held.get(p.pathway_id, 0) < p.version]
        try:
            for pathway in missing:
                signer = demo_signer(pathway.owner_partner_id)
                async with PartnerSystem(bootstrap_servers, signer) as system:
                    await system.publish(pathway)
        except KafkaError as exc:
            raise DemoError(f"cannot publish to Kafka at {bootstrap_servers}: {exc!r}") from exc
        deadline = time.monotonic() + wait_s
        while any(held.get(p.pathway_id, 0) < p.version for p in pathways):
            if time.monotonic() >= deadline:
                raise DemoError(
                    f"after {wait_s:.0f} s recognition at {recognition_url} still does not list "
                    "every demo pathway; is it consuming alliance.pathway-definitions?"
                )
            await asyncio.sleep(_POLL_S)
            held = await _recognition_pathways(client)
        for partner_id, rule_set in rules.items():
            await _set_rules(client, partner_id, rule_set)
    return tuple(p.pathway_id for p in missing)


async def _recognition_pathways(client: httpx.AsyncClient) -> dict[str, int]:
    try:
        response = await client.get("/pathways")
    except httpx.HTTPError as exc:
        raise DemoError(f"recognition at {client.base_url} does not answer ({exc!r})") from exc
    if response.status_code != httpx.codes.OK:
        raise DemoError(f"recognition answered {response.status_code} to GET /pathways")
    return {p["pathway_id"]: int(p["version"]) for p in response.json()}


async def _set_rules(client: httpx.AsyncClient, partner_id: str, rule_set: Any) -> None:
    # As the partner's own system, with a token of the development identity provider.
    # Idempotent: recognition keeps the version of rules that do not change.
    issuer = ServiceSettings(service_name="recognition").oidc_issuer
    token = issue_token(
        issuer,
        TokenRequest(subject=f"sis-{partner_id}", role="partner_system", partner_id=partner_id),
    )
    answer = await client.put(
        f"/recognition-rules/{partner_id}",
        json=rule_set,
        headers={"Authorization": f"Bearer {token}"},
    )
    if answer.status_code != httpx.codes.OK:
        raise DemoError(
            f"recognition refused the rules of {partner_id} ({answer.status_code}): "
            f"{answer.text[:300]}"
        )


def main() -> None:
    bootstrap_servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_KAFKA)
    catalogue_url = os.environ.get("CATALOGUE_URL", DEFAULT_CATALOGUE_URL)
    recognition_url = os.environ.get("RECOGNITION_URL", DEFAULT_RECOGNITION_URL)
    try:
        report = asyncio.run(load_demo(bootstrap_servers, catalogue_url))
        pathways = read_pathways(report.offerings)
        published = asyncio.run(
            load_pathways(bootstrap_servers, recognition_url, pathways, read_recognition_rules())
        )
    except DemoError as exc:
        sys.exit(f"demo: {exc}")
    print(summary(report, AllianceRegistry.load()))
    print(
        f"Demo pathways in recognition at {recognition_url}: {len(pathways)} "
        f"({len(published)} published now): {', '.join(p.pathway_id for p in pathways)}."
    )


if __name__ == "__main__":
    main()
