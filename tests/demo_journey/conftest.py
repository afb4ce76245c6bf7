"""The alliance of six service processes, as `make run` starts it (tests/e2e)."""

from tests.e2e.conftest import alliance

__all__ = ["alliance"]
