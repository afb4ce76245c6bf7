"""Running a service as its own process, as `make run` does, for black-box tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import httpx

from shared.events import OfferingPublished
from shared.events.topics import OFFERINGS
from shared.partner_system import PartnerSystem, demo_signer
from tests.support.infra import REPO_ROOT, Infrastructure
from tests.support.kafka import wait_until_caught_up

# A short retry budget for transient failures while a fresh consumer group replays the
# session's earlier events.
SHORT_RETRIES = {"CONSUMER_BACKOFF_INITIAL_S": "0.01", "CONSUMER_BACKOFF_MAX_S": "0.05"}


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port free now and not handed out before in this test run. The kernel may
    offer the same free port twice in a row, and two processes told the same port race for it
    (one fails to bind while the other answers its health checks)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


@dataclass
class ServiceProcess:
    name: str
    env: dict[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 40.0) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"],
            cwd=REPO_ROOT,
            env={**_inherited(), **self.env, "HTTP_PORT": str(self.port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited at start:\n{self.log_tail()}")
            try:
                ready = httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                ready = False
            # Ready only while this process still runs: another one on the port would answer.
            if ready and self.process.poll() is None:
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.name} not ready in {timeout_s}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks run, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _inherited() -> dict[str, str]:
    """The test run's environment, less the trace exporter: only the processes a trace test
    starts (with `OTEL_EXPORTER_OTLP_ENDPOINT` in their own env) export spans, whether the
    run's shell loaded `.run/test/env` or not."""
    return {k: v for k, v in os.environ.items() if k != "OTEL_EXPORTER_OTLP_ENDPOINT"}


@dataclass
class ServiceUnderTest:
    """One service process on the session's broker and database, as a service's tests
    drive it: its consumer group, its API."""

    infra: Infrastructure
    service: ServiceProcess
    api_timeout_s: ClassVar[float] = 10

    @property
    def bootstrap(self) -> str:
        return self.infra.kafka_bootstrap_servers

    @property
    def consumer(self) -> str:
        return self.service.env["CONSUMER_NAME"]

    def api(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.service.url, timeout=self.api_timeout_s)


async def publish_offering(
    infra: Infrastructure, service: ServiceProcess, offering: OfferingPublished
) -> None:
    """The teaching partner's system publishes `offering`; returns once `service` has it."""
    async with PartnerSystem(infra.kafka_bootstrap_servers, demo_signer(offering.partner_id)) as p:
        await p.publish(offering)
    await wait_until_caught_up(
        infra.kafka_bootstrap_servers, service.env["CONSUMER_NAME"], OFFERINGS
    )
