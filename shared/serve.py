"""Runs a service's app under uvicorn: `python -m services.<name>`."""

from __future__ import annotations

import ctypes
import gc
import os
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

# glibc's mallopt parameter for the size from which malloc maps memory of its own.
_M_MMAP_THRESHOLD = -3
# glibc's own starting value, kept fixed.
MMAP_THRESHOLD_BYTES = 128 * 1024


def keep_large_allocations_apart() -> None:
    """Large allocations get memory of their own again, returned to the system when freed.

    glibc raises its threshold to the size of each large block freed (up to 32 MiB), after
    which such blocks come from the heap and stay resident: one scrypt hash (16 MiB, issuance
    hashes its clients' secrets at start) would otherwise hold 16 MiB for the process's life.
    Setting the threshold fixes it. Elsewhere than glibc there is nothing to set."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def keep_the_startup_heap_out_of_collections() -> None:
    """The objects alive once the app is built (modules, routes, schemas, the ORM's
    mappers: about 150,000 a service) live as long as the process, yet each collection of
    the oldest generation scanned them all again: 70 ms each in enrolment at capacity, 25
    ms with them frozen (`make bench`, collections timed with gc.callbacks)."""
    gc.collect()
    gc.freeze()


def serve(bootstrap: Callable[[], FastAPI]) -> None:
    keep_large_allocations_apart()
    app = bootstrap()
    keep_the_startup_heap_out_of_collections()
    uvicorn.run(
        app,
        host=os.environ.get("HTTP_HOST", "127.0.0.1"),
        port=int(os.environ.get("HTTP_PORT", "8000")),
        log_config=None,  # keep the service's structured logging
        access_log=False,
        # No service speaks WebSocket: uvicorn would otherwise load a WebSocket library.
        ws="none",
    )
