"""Modules compiled to C with mypyc: `python -m infra.compiled` builds what is out of date.

The credential canonicalizer runs for every credential signed or verified and is pure
Python work on strings and dicts. Compiled by mypyc (mypy's compiler, already a dependency),
the same source signs about 1.8 times as many credentials a second: micro-credentials 0.64
-> 0.34 ms of CPU each, stacked ones 2.2 -> 1.3 ms (alternating runs, this machine).

A compiled module sits beside its source, where Python's import finds it before the source,
so a source edited after its build would be shadowed by stale code. The build therefore
records a digest of its inputs, `make` (scripts/setup.sh) rebuilds when it changes, and
`tests/infra/test_compiled.py` fails when the module imported is not the build of the
source beside it. Without a build the source runs interpreted, slower but the same.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.machinery
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("shared/credentials/canon.py",)
STAMP = ROOT / ".cache" / "stamps" / "compiled"


def digest() -> str:
    """Of everything a build depends on: the sources, the compiler's and Python's versions."""
    inputs = hashlib.sha256(f"mypy {version('mypy')} {sys.implementation.cache_tag}\n".encode())
    for module in MODULES:
        inputs.update((ROOT / module).read_bytes())
    return inputs.hexdigest()


def built(module: str) -> list[Path]:
    """The extension files of `module` (its own and mypyc's runtime beside it)."""
    source = ROOT / module
    return sorted(
        {
            path
            for suffix in importlib.machinery.EXTENSION_SUFFIXES
            for path in source.parent.glob(f"{source.stem}*{suffix}")
        }
    )


def current() -> bool:
    """Whether every module's build is there and was made from its present source."""
    return (
        STAMP.is_file()
        and STAMP.read_text().strip() == digest()
        and all(built(module) for module in MODULES)
    )


def build() -> None:
    # Imported only to build: the check every `make` target runs first would otherwise spend
    # 0.2 s importing the compiler and setuptools.
    from mypyc.build import mypycify
    from setuptools import setup

    for module in MODULES:
        for path in built(module):
            path.unlink()
    STAMP.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        setup(
            name="alliance-compiled",
            # Named, so setuptools does not look for the repository's packages itself.
            packages=[],
            ext_modules=mypycify([str(ROOT / module) for module in MODULES], target_dir=scratch),
            script_args=[
                "-q",
                "build_ext",
                "--inplace",
                "--build-lib",
                scratch,
                "--build-temp",
                scratch,
            ],
        )
    STAMP.parent.mkdir(parents=True, exist_ok=True)
    STAMP.write_text(digest() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.compiled", description=__doc__)
    parser.parse_args()
    if current():
        print("compiled modules: up to date")
        return
    print(f"compiled modules: building {', '.join(MODULES)} with mypyc", flush=True)
    build()


if __name__ == "__main__":
    main()
