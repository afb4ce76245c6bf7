"""Every service has the same rooms, and its middle keeps the rules of services/README.md.

Read from the source (no service is started): the files each service has, and what its use
cases and event handlers may reach for.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from services import SERVICES

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
# The gateway consumes and announces nothing and keeps no domain of its own: it composes the
# other services' APIs for learners (services/README.md), so it has no use cases to shape.
WITH_USE_CASES = tuple(s for s in SERVICES if s != "gateway")
ROOMS = ("bootstrap.py", "api.py", "handlers.py", "domain.py", "unit_of_work.py",
         "repository.py", "tables.py", "migrations")  # fmt: skip
# What the middle may not reach for: the transaction's session, the table classes, and the
# entry points' own ways of refusing (HTTP problems, the consumer's exceptions).
FORBIDDEN_NAMES = {"session", "Problem", "EventRejected", "Deferred", "TransientError"}


def _middle(service: str) -> list[Path]:
    """The service's use cases and event handlers."""
    root = SERVICES_DIR / service
    application = root / "application"
    files = sorted(application.glob("*.py")) if application.is_dir() else [root / "application.py"]
    return [*files, root / "handlers.py"]


def _reaches(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            found.add(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            found.add(f"line {node.lineno}: {node.id}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").endswith(".tables"):
            found.add(f"line {node.lineno}: imports {node.module}")
    return found


@pytest.mark.parametrize("service", WITH_USE_CASES)
def test_every_service_has_the_same_rooms(service: str) -> None:
    root = SERVICES_DIR / service
    missing = [room for room in ROOMS if not (root / room).exists()]
    has_application = (root / "application.py").exists() or (root / "application").is_dir()
    assert missing == [], f"{service} lacks {missing}"
    assert has_application, f"{service} has no application module"


@pytest.mark.parametrize("service", WITH_USE_CASES)
def test_use_cases_and_handlers_reach_only_for_repositories_and_domain_refusals(
    service: str,
) -> None:
    reached = {str(path.relative_to(SERVICES_DIR)): _reaches(path) for path in _middle(service)}
    assert {path: names for path, names in reached.items() if names} == {}


def test_the_check_sees_a_session_a_table_and_a_consumer_refusal(tmp_path: Path) -> None:
    drifted = tmp_path / "application.py"
    drifted.write_text(
        "from services.catalogue.tables import OfferingRecord\n"
        "from shared.messaging.consumer import EventRejected\n"
        "async def f(uow):\n"
        "    await uow.session.get(OfferingRecord, 'x')\n"
        "    raise EventRejected('no')\n"
    )
    assert _reaches(drifted) == {
        "line 1: imports services.catalogue.tables",
        "line 4: .session",
        "line 5: EventRejected",
    }
