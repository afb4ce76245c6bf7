"""The generated contract files: export them, publish schema versions, check both."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from contracts.tooling.asyncapi import render_asyncapi
from contracts.tooling.schemas import dump_json, render_schema
from shared.events import EVENT_SPECS
from shared.events.spec import CONTRACTS_DIR

SCHEMAS_DIR = CONTRACTS_DIR / "schemas"
ASYNCAPI_PATH = CONTRACTS_DIR / "asyncapi.yaml"
PUBLISHED_PATH = CONTRACTS_DIR / "published.json"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def published_digests() -> dict[str, str]:
    """Schema file name -> sha256 of the bytes that were published."""
    if not PUBLISHED_PATH.exists():
        return {}
    loaded: dict[str, str] = json.loads(PUBLISHED_PATH.read_text(encoding="utf-8"))
    return loaded


def _generated_files() -> dict[Path, str]:
    files = {spec.schema_path: render_schema(spec) for spec in EVENT_SPECS}
    files[ASYNCAPI_PATH] = render_asyncapi()
    return files


def export() -> list[Path]:
    """Write every generated contract file; returns the files whose content changed."""
    SCHEMAS_DIR.mkdir(parents=True, exist_ok=True)
    changed = []
    for path, text in _generated_files().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def publish() -> list[str]:
    """Record the digest of every schema file not yet published; never alters an entry."""
    digests = published_digests()
    added = [spec.schema_path.name for spec in EVENT_SPECS if spec.schema_path.name not in digests]
    for name in added:
        digests[name] = digest(SCHEMAS_DIR / name)
    PUBLISHED_PATH.write_text(dump_json(dict(sorted(digests.items()))), encoding="utf-8")
    return added


def check() -> list[str]:
    """Every way the contract files disagree with the models or with what was published."""
    problems = [
        f"{path.relative_to(CONTRACTS_DIR)} is out of date: "
        "run `python -m contracts.tooling export`"
        for path, text in _generated_files().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    digests = published_digests()
    for name, expected in digests.items():
        path = SCHEMAS_DIR / name
        if not path.exists():
            problems.append(f"published schema {name} was deleted")
        elif digest(path) != expected:
            problems.append(
                f"published schema {name} changed; published versions are immutable, "
                "so add a new version of the event instead"
            )
    problems += [
        f"{spec.schema_path.name} is not published: run `python -m contracts.tooling publish`"
        for spec in EVENT_SPECS
        if spec.schema_path.name not in digests
    ]
    return problems
