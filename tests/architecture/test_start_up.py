"""A service process starts without the libraries only a rare route, a tool or tracing needs.

Every module a process imports stays in its memory for the process's life (issue 15 caps a
service process at 150 MiB). Each service's app is built in a fresh interpreter, untraced as
in the benchmark, with the start-up check's migration head read, and the modules it loaded
are compared with those loaded where used. What is built at start is kept out of the
garbage collector's scans.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from services import SERVICES
from shared import serve

ROOT = Path(__file__).resolve().parents[2]
# Top-level module -> where it is loaded instead.
NOT_AT_START = {
    "alembic": "only to migrate (the start-up check reads the head without it)",
    "mako": "with Alembic",
    "jsonschema": "once a payload or credential fails a check",
    "pyld": "by the reference canonicalizer, which the fast path leaves to rare documents",
    "fpdf": "when the gateway makes a PDF",
    "numpy": "with fpdf2",
    "pypdf": "when a verifier is handed a PDF",
    "opentelemetry.instrumentation": "only when traces are exported",
}
# The gateway has no events: none of the messaging runtime.
NOT_IN_THE_GATEWAY = {
    "faststream": "by the event runtime only",
    "aiokafka": "by the event runtime only",
}

BUILD = """
import importlib, json, sys
from shared.db.migrate import head
from shared.settings import ServiceSettings
service, database = sys.argv[1], sys.argv[2]
bootstrap = importlib.import_module(f"services.{service}.bootstrap").bootstrap
bootstrap(ServiceSettings(service_name=service, database_url=database))
head(service)  # as the start-up check does
print(json.dumps(sorted(sys.modules)))
"""


def _loaded_at_start(service: str, tmp_path: Path) -> set[str]:
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": ""}
    database = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    done = subprocess.run(
        [sys.executable, "-c", BUILD, service, database],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules: list[str] = json.loads(done.stdout.splitlines()[-1])
    return set(modules)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_starts_without_what_it_loads_where_used(service: str, tmp_path: Path) -> None:
    loaded = _loaded_at_start(service, tmp_path)
    unwanted = {**NOT_AT_START, **(NOT_IN_THE_GATEWAY if service == "gateway" else {})}
    found = {
        name: why
        for name, why in unwanted.items()
        if any(module == name or module.startswith(name + ".") for module in loaded)
    }
    assert not found, f"{service} loads at start what it should load {found}"


def test_what_the_app_is_built_of_is_kept_out_of_collections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Everything alive once the app is built lives as long as the process: serving starts
    with it frozen, so collections of the oldest generation no longer scan it each time."""
    built: list[list[int]] = []

    def bootstrap() -> FastAPI:
        built.extend([i] for i in range(10_000))
        return FastAPI()

    served: list[FastAPI] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    gc.unfreeze()
    try:
        serve.serve(bootstrap)
        assert served, "the app was not served"
        assert gc.get_freeze_count() >= len(built)
    finally:
        gc.unfreeze()
