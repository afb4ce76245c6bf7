"""Verify a credential from the command line, check by check.

    python -m shared.credentials.verify_cli CREDENTIAL.json|CREDENTIAL.pdf \\
        [--did-document FILE ...] [--status-list FILE ...] \\
        [--registry alliance/registry.yaml] [--issuing-host HOST ...] [--online] [--json]

A PDF is verified by the credential attached to it (as the gateway's share links make them);
what is printed on its pages is not signed. DID documents and status list credentials come
from the files given (did:key needs none); with `--online`, whatever is not given is fetched
(did:web over https, http for loopback).
Exits 0 only when every check passed, 1 when one did not, 2 when the input is unusable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from shared.credentials.pdf import credential_in_pdf, is_pdf
from shared.credentials.verifier import (
    HttpResolver,
    OfflineResolver,
    Outcome,
    TrustedIssuers,
    VerificationReport,
    verify,
)
from shared.registry import DEFAULT_REGISTRY, RegistryError

MARKS = {Outcome.PASSED: "✓", Outcome.FAILED: "✗", Outcome.SKIPPED: "\N{EN DASH}"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m shared.credentials.verify_cli",
        description="Verify an Open Badges 3.0 / CLR 2.0 credential: structure, proof, "
        "validity dates, status and whether the issuer is an alliance partner.",
    )
    parser.add_argument(
        "credential", type=Path, help="the credential (JSON), or a PDF carrying it attached"
    )
    parser.add_argument(
        "--did-document", type=Path, action="append", default=[], help="an issuer DID document"
    )
    parser.add_argument(
        "--status-list",
        type=Path,
        action="append",
        default=[],
        help="a BitstringStatusListCredential (matched by its id)",
    )
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY)
    parser.add_argument(
        "--issuing-host",
        action="append",
        default=[],
        help="a host the alliance's issuance service serves partner DIDs from "
        "(did:web:HOST:partners:<partner>); HOST:PORT for one port only",
    )
    parser.add_argument(
        "--online", action="store_true", help="fetch DID documents and status lists not given"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _credential(path: Path) -> Any:
    """The credential in a JSON file, or attached to a PDF."""
    data = path.read_bytes()
    return credential_in_pdf(data) if is_pdf(data) else json.loads(data)


def render(report: VerificationReport) -> str:
    """The report as lines a person reads: one per check, then the verdict."""
    width = max(len(check.name) for check in report.checks)
    lines = [f"Credential {report.credential_id or '(no id)'}"]
    lines.append(f"Issuer     {report.issuer or '(none)'}")
    lines += [
        f"{MARKS[check.outcome]} {check.name:<{width}}  {check.message}" for check in report.checks
    ]
    lines.append("VERIFIED" if report.verified else "NOT VERIFIED")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        credential = _credential(args.credential)
        did_documents = [_read(path) for path in args.did_document]
        status_lists = [_read(path) for path in args.status_list]
        trust = TrustedIssuers.load(args.registry, args.issuing_host)
    # A PDF without a readable credential attached is a ValueError too (NoCredentialInPdf).
    except (OSError, ValueError, RegistryError) as exc:
        print(f"cannot read the input: {exc}", file=sys.stderr)
        return 2
    if not all(isinstance(d, dict) and "id" in d for d in did_documents + status_lists):
        print("each DID document and status list must be a JSON object with an id", file=sys.stderr)
        return 2
    fallback = HttpResolver() if args.online else None
    resolver = OfflineResolver(did_documents, status_lists, fallback)
    report = asyncio.run(verify(credential, resolver, trust=trust))
    print(
        json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if args.json else render(report)
    )
    return 0 if report.verified else 1


if __name__ == "__main__":
    sys.exit(main())
