"""Micro-benchmark: `python -m shared.credentials.bench [--seconds N]`.

Prints, from one run, OB 3.0 micro-credentials signed per second on the fast path, raw
Ed25519 signatures per second (the ceiling) and credentials signed per second when
canonicalizing with the reference (pyld) path. Rates are wall-clock on one core; CPU-time
rates are shown too, as a busy machine lowers the first but not the second.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.credentials import canon, proof
from shared.credentials.did import did_web, verification_method_id
from shared.credentials.microcredential import (
    MODE_ONLINE_URI,
    Concept,
    LearningOutcome,
    MicroCredentialData,
    Organisation,
    Translation,
    build_microcredential,
)
from shared.credentials.reference import canonicalize_reference

ISSUER = did_web("issuer.alliance.example")


def sample_data(n: int) -> MicroCredentialData:
    """A realistic micro-credential, varied by `n` so nothing is accidentally cached."""
    return MicroCredentialData(
        credential_id=f"https://issuer.alliance.example/credentials/{n}",
        achievement_id="https://issuer.alliance.example/achievements/data-literacy",
        issuer=Organisation(ISSUER, "Alliance Issuing Office", "BE", "Belgium"),
        awarding_body=Organisation(did_web("uni-a.example"), "Universidade A", "PT", "Portugal"),
        learner_id=f"learner-{n}",
        learner_name=f"Learner Number {n}",
        salt=f"{n:032x}",
        title="Data literacy for researchers",
        description="Finding, cleaning and sharing research data responsibly.",
        language="en",
        valid_from="2025-06-30T12:00:00Z",
        learning_outcomes=[
            LearningOutcome(
                "Apply FAIR principles to a data set",
                "http://data.europa.eu/esco/skill/5fd5c985-eaaa-47aa-8314-62359c54505a",
            ),
            LearningOutcome("Document a data set's provenance"),
        ],
        ects=3,
        eqf_level=7,
        assessment_type=Concept("https://example.eu/assessment/project", "Project work"),
        participation_form=Concept(MODE_ONLINE_URI, "Online"),
        quality_assurance=Concept(
            "https://example.eu/qa/institutional", "Institutional quality assurance"
        ),
        grade="B",
        translations=[Translation("pt", "Literacia de dados para investigadores")],
        status_list_credential="https://issuer.alliance.example/status/1",
        status_list_index=(n * 7919) % 131072,
    )


def _rate(work: Callable[[int], Any], seconds: float) -> tuple[float, float]:
    """(per second wall-clock, per second of CPU time) for `work(i)` run for `seconds`."""
    count = 0
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - start_wall < seconds:
        work(count)
        count += 1
    wall = time.perf_counter() - start_wall
    cpu = time.process_time() - start_cpu
    return count / wall, count / max(cpu, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = parser.parse_args()
    key = Ed25519PrivateKey.generate()
    method = verification_method_id(ISSUER, key.public_key())
    documents = [build_microcredential(sample_data(n)) for n in range(64)]
    created = "2025-06-30T12:00:01Z"
    canon.canonicalize_fast(documents[0])  # compile the contexts once, outside the timing
    message = bytes(64)

    def fast(i: int) -> None:
        proof.sign_credential(documents[i % 64], key, method, created)

    def raw(i: int) -> None:
        key.sign(message)

    def reference(i: int) -> None:
        # The same steps with every canonicalization done by pyld.
        document = documents[i % 64]
        config = proof.proof_configuration(document, method, created)
        key.sign(
            proof.sha256_pair(canonicalize_reference(config), canonicalize_reference(document))
        )

    print(f"one core, {args.seconds:g} s each")
    for label, work, seconds in (
        ("fast path: credentials signed", fast, args.seconds),
        ("raw Ed25519 signatures", raw, args.seconds),
        ("reference path: credentials signed", reference, args.seconds),
    ):
        wall, cpu = _rate(work, seconds)
        print(f"{label:<38} {wall:>10,.0f}/s   ({cpu:,.0f}/s of CPU time)")
    print(f"(sample document: {len(canon.canonicalize_fast(documents[0]).splitlines())} quads)")


if __name__ == "__main__":
    main()
