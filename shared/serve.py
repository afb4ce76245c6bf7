"""Runs a service's app under uvicorn: `python -m services.<name>`."""

from __future__ import annotations

import os
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI


def serve(bootstrap: Callable[[], FastAPI]) -> None:
    app = bootstrap()
    uvicorn.run(
        app,
        host=os.environ.get("HTTP_HOST", "127.0.0.1"),
        port=int(os.environ.get("HTTP_PORT", "8000")),
        log_config=None,  # keep the service's structured logging
        access_log=False,
    )
