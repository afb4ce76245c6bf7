"""Credentials the project issues verify with an independent implementation, and a single
changed field makes it refuse them: digitalbazaar's JavaScript Data Integrity verifier
(`verify.mjs`, pinned by `package-lock.json`), given only the credential, the issuer's DID
document and local copies of the contexts. Our own verifier must agree with it.
"""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import subprocess
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.credentials import (
    build_did_document,
    build_microcredential,
    build_status_list_credential,
    did_key,
    did_key_verification_method,
    did_web,
    new_status_list,
    set_status,
    sign_credential,
    verification_method_id,
)
from shared.credentials.bench import sample_data
from shared.credentials.loader import KNOWN_CONTEXTS, VC_V2, load_context
from shared.credentials.status_list import PURPOSES, SUSPENSION, status_list_entry
from shared.credentials.verifier import OfflineResolver, did_key_document, verify

HERE = Path(__file__).resolve().parent
ISSUER = did_web("issuance.nordhavn.example.eu", "partners", "valdemora")
STATUS_URL = "https://issuance.nordhavn.example.eu/status/7"
CREATED = "2025-06-30T12:00:01Z"
NODE_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, with the pinned packages installed (`npm ci`) when missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm are needed for the independent verifier (Node.js >= 20)")
    if not (HERE / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        try:
            install = subprocess.run(
                [npm, "ci", "--prefix", str(HERE), "--no-audit", "--no-fund"],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail("`npm ci --prefix tests/independent` did not finish in 5 minutes")
        if install.returncode != 0:
            pytest.fail(
                f"`npm ci --prefix tests/independent` failed ({install.returncode}):\n"
                f"{install.stderr[-2000:]}"
            )
    return node


@dataclass(frozen=True)
class Files:
    """Everything the independent verifier is given, written to a folder."""

    folder: Path
    did_document: Path
    contexts: tuple[str, ...]

    def write(self, name: str, document: dict[str, Any]) -> Path:
        path = self.folder / name
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        return path


def _files(folder: Path, did_document: dict[str, Any]) -> Files:
    contexts = []
    for number, url in enumerate(sorted(KNOWN_CONTEXTS)):
        path = folder / f"context-{number}.json"
        path.write_text(json.dumps(load_context(url)), encoding="utf-8")
        contexts += ["--context", f"{url}={path}"]
    files = Files(folder, folder / "did.json", tuple(contexts))
    files.write("did.json", did_document)
    return files


def _independent(
    node: str, files: Files, credential: dict[str, Any], *status_lists: dict[str, Any]
) -> dict[str, Any]:
    command = [
        node,
        str(HERE / "verify.mjs"),
        str(files.write("credential.json", credential)),
        "--did",
        str(files.did_document),
        *files.contexts,
    ]
    for number, status_list in enumerate(status_lists):
        command += ["--status-list", str(files.write(f"status-{number}.json", status_list))]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=NODE_TIMEOUT_S, check=False
    )
    assert run.returncode in (0, 1), f"verify.mjs crashed ({run.returncode}): {run.stderr}"
    result: dict[str, Any] = json.loads(run.stdout)
    assert (run.returncode == 0) == result["verified"], run.stdout
    return result


def _ours(
    credential: dict[str, Any], did_document: dict[str, Any], *status_lists: dict[str, Any]
) -> bool:
    report = asyncio.run(
        verify(
            credential,
            OfflineResolver([did_document], status_lists),
            now=datetime(2026, 1, 15, tzinfo=UTC),
        )
    )
    return report.check("proof").passed and report.check("status").passed


def _signed(document: dict[str, Any], key: Ed25519PrivateKey, issuer: str) -> dict[str, Any]:
    method = (
        did_key_verification_method(key.public_key())
        if issuer.startswith("did:key:")
        else verification_method_id(issuer, key.public_key())
    )
    return sign_credential(document, key, method, CREATED)


def _micro_credential(key: Ed25519PrivateKey, issuer: str) -> dict[str, Any]:
    data = sample_data(7)
    data = replace(data, issuer=replace(data.issuer, id=issuer), status_list_credential=STATUS_URL)
    return _signed(build_microcredential(data), key, issuer)


def _status_list(key: Ed25519PrivateKey, issuer: str, revoked: int | None) -> dict[str, Any]:
    bits = new_status_list()
    if revoked is not None:
        set_status(bits, revoked)
    return _signed(build_status_list_credential(STATUS_URL, issuer, CREATED, bits), key, issuer)


CHANGES = {
    "credits": ("credentialSubject", "achievement", "creditsAvailable", 30),
    "title": ("name", "Forged title"),
    "learner": ("credentialSubject", "identifier", 0, "identityHash", "sha256$00"),
}


def test_did_web_credential_verifies_and_any_change_is_refused(node: str, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    did_document = build_did_document(ISSUER, [key.public_key()])
    files = _files(tmp_path, did_document)
    credential = _micro_credential(key, ISSUER)
    clear = _status_list(key, ISSUER, None)

    result = _independent(node, files, credential, clear)
    assert result["verified"], result["error"]
    assert result["verificationMethod"] == credential["proof"]["verificationMethod"]
    assert result["status"]["checked"] == ["revocation: clear"]
    assert _ours(credential, did_document, clear)

    for label, (*path, value) in CHANGES.items():
        tampered = copy.deepcopy(credential)
        target: Any = tampered
        for step in path[:-1]:
            target = target[step]
        assert target[path[-1]] != value, label
        target[path[-1]] = value
        result = _independent(node, files, tampered, clear)
        assert not result["verified"], label
        assert "Invalid signature" in result["error"], (label, result["error"])
        assert not _ours(tampered, did_document, clear), label


def test_status_lists_are_read_the_same_way(node: str, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    did_document = build_did_document(ISSUER, [key.public_key()])
    files = _files(tmp_path, did_document)
    credential = _micro_credential(key, ISSUER)
    index = int(credential["credentialStatus"]["statusListIndex"])

    revoked = _status_list(key, ISSUER, index)
    result = _independent(node, files, credential, revoked)
    assert not result["verified"]
    assert "revocation bit set" in result["error"]
    assert not _ours(credential, did_document, revoked)

    # Clearing the bit without the issuer's key breaks the list's own proof.
    forged = copy.deepcopy(revoked)
    clear = _status_list(key, ISSUER, None)
    forged["credentialSubject"]["encodedList"] = clear["credentialSubject"]["encodedList"]
    result = _independent(node, files, credential, forged)
    assert not result["verified"]
    assert "status list: Invalid signature" in result["error"]
    assert not _ours(credential, did_document, forged)


def test_did_key_credential_verifies(node: str, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    issuer = did_key(key.public_key())
    did_document = did_key_document(issuer)
    credential = _micro_credential(key, issuer)
    result = _independent(node, _files(tmp_path, did_document), credential)
    assert result["verified"], result["error"]
    assert result["status"]["checked"] == ["revocation: unchecked (no status list given)"]


def test_a_credential_stating_its_outcomes_in_several_languages_verifies(
    node: str, tmp_path: Path
) -> None:
    """The criteria narrative's language sections are signed like any text: the German
    outcome cannot be changed."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    did_document = build_did_document(ISSUER, [key.public_key()])
    data = sample_data(8)
    first, second = data.learning_outcomes
    data = replace(
        data,
        issuer=replace(data.issuer, id=ISSUER),
        status_list_credential=STATUS_URL,
        learning_outcomes=[
            replace(first, translations={"pt": "Aplicar os princípios FAIR",
                                         "de": "FAIR-Prinzipien anwenden"}),
            replace(second, translations={"pt": "Documentar a proveniência"}),
        ],
        prerequisites="Basic statistics.\nA laptop.",
        prerequisites_translations={"de": "Grundlagen der Statistik."},
    )  # fmt: skip
    credential = _signed(build_microcredential(data), key, ISSUER)
    criteria = credential["credentialSubject"]["achievement"]["criteria"]
    assert "\n## de\n" in criteria["narrative"]
    files = _files(tmp_path, did_document)
    clear = _status_list(key, ISSUER, None)
    result = _independent(node, files, credential, clear)
    assert result["verified"], result["error"]
    assert _ours(credential, did_document, clear)

    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["achievement"]["criteria"]["narrative"] = criteria[
        "narrative"
    ].replace("FAIR-Prinzipien anwenden", "Alles können")
    result = _independent(node, files, tampered, clear)
    assert not result["verified"]
    assert "Invalid signature" in result["error"], result["error"]
    assert not _ours(tampered, did_document, clear)


def test_a_suspended_credential_is_refused_as_suspended_and_verifies_once_reinstated(
    node: str, tmp_path: Path
) -> None:
    """A plain VC 2.0 credential carries a revocation and a suspension entry at one index."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    did_document = build_did_document(ISSUER, [key.public_key()])
    files = _files(tmp_path, did_document)
    index = 4242
    urls = {purpose: f"{STATUS_URL}/{purpose}" for purpose in PURPOSES}
    credential = _signed(
        {
            "@context": [VC_V2],
            "type": ["VerifiableCredential"],
            "issuer": ISSUER,
            "validFrom": CREATED,
            "credentialSubject": {"id": "did:example:learner"},
            "credentialStatus": [
                status_list_entry(urls[purpose], index, purpose) for purpose in PURPOSES
            ],
        },
        key,
        ISSUER,
    )

    def lists(suspended: bool) -> list[dict[str, Any]]:
        made = []
        for purpose, url in urls.items():
            bits = new_status_list()
            if purpose == SUSPENSION and suspended:
                set_status(bits, index)
            unsigned = build_status_list_credential(url, ISSUER, CREATED, bits, purpose)
            made.append(_signed(unsigned, key, ISSUER))
        return made

    result = _independent(node, files, credential, *lists(suspended=True))
    assert not result["verified"]
    assert "suspension bit set" in result["error"]
    report = asyncio.run(
        verify(credential, OfflineResolver([did_document], lists(suspended=True)),
               now=datetime(2026, 1, 15, tzinfo=UTC))
    )  # fmt: skip
    assert report.check("status").message.startswith("the credential is suspended")

    result = _independent(node, files, credential, *lists(suspended=False))
    assert result["verified"], result["error"]
    assert result["status"]["checked"] == ["revocation: clear", "suspension: clear"]
    assert _ours(credential, did_document, *lists(suspended=False))
