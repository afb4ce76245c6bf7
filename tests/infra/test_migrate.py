"""The start-up check's migration head, read without Alembic, is Alembic's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from services import SERVICES
from shared.db.migrate import alembic_config, head, register_migrations


@pytest.mark.parametrize("service", SERVICES)
def test_the_head_is_alembics(service: str) -> None:
    expected = ScriptDirectory.from_config(alembic_config(service, "")).get_current_head()
    assert expected is not None
    assert head(service) == expected


def _revision(folder: Path, name: str, down: str) -> None:
    (folder / f"{name}.py").write_text(
        f'revision: str = "{name}"\ndown_revision: str | tuple[str, ...] | None = {down}\n'
        "\n\ndef upgrade() -> None:\n    pass\n"
    )


def test_a_merge_is_the_head_and_two_heads_are_refused(tmp_path: Path) -> None:
    register_migrations("scratch", tmp_path)
    assert head("scratch") is None
    _revision(tmp_path, "r1", "None")
    _revision(tmp_path, "r2a", '"r1"')
    _revision(tmp_path, "r2b", '"r1"')
    with pytest.raises(RuntimeError, match="several heads"):
        head("scratch")
    _revision(tmp_path, "r3", '("r2a", "r2b")')
    assert head("scratch") == "r3"
    assert ScriptDirectory.from_config(alembic_config("scratch", "")).get_current_head() == "r3"
