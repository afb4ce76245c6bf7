"""The compiled canonicalizer is the build of the source beside it, never stale code."""

from __future__ import annotations

import importlib.machinery
from pathlib import Path

import pytest

from infra import compiled
from shared.credentials import canon


def test_the_canonicalizer_in_use_is_the_build_of_its_present_source() -> None:
    assert canon.__file__ is not None
    assert canon.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), (
        f"{canon.__file__} is the interpreted source: run `make setup` to compile it"
    )
    assert compiled.current(), (
        f"the builds of {', '.join(compiled.MODULES)} are not of their present sources: "
        "run `make setup` to rebuild them"
    )


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository of one compiled module, built (its extension and stamp written)."""
    source = tmp_path / "pkg" / "fast.py"
    source.parent.mkdir()
    source.write_text("def f() -> int:\n    return 1\n")
    monkeypatch.setattr(compiled, "ROOT", tmp_path)
    monkeypatch.setattr(compiled, "MODULES", ("pkg/fast.py",))
    monkeypatch.setattr(compiled, "STAMP", tmp_path / "stamp")
    (source.parent / f"fast{importlib.machinery.EXTENSION_SUFFIXES[0]}").write_bytes(b"")
    compiled.STAMP.write_text(compiled.digest() + "\n")
    return source


def test_a_build_is_current_until_its_source_changes(scratch: Path) -> None:
    assert compiled.current()
    scratch.write_text("def f() -> int:\n    return 2\n")
    assert not compiled.current()


def test_a_stamp_without_its_extension_is_not_a_build(scratch: Path) -> None:
    for path in compiled.built("pkg/fast.py"):
        path.unlink()
    assert not compiled.current()
