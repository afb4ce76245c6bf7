"""The benchmark's own stack (profile `bench`): Kafka, PostgreSQL and N processes per service.

Everything is started fresh (the profile's data is deleted first), so every run measures the
same empty system, and everything is stopped again at the end, also on Ctrl-C or failure.
Several processes of one service share its database and its consumer group; each answers
HTTP on a port of its own (the service's bench port + 100 x instance number).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from infra import local
from infra.acls import alliance_acls, apply_acls
from infra.processes import InfraError, Managed, http_ok
from infra.profiles import PROFILES, SERVICES, Profile, Service
from infra.topics import ensure_topics

PROFILE = PROFILES["bench"]
INSTANCE_PORT_STEP = 100
READY_TIMEOUT_S = 90.0
# The gateway calls these services over HTTP; each gateway process gets its own partners.
GATEWAY_DOWNSTREAMS = ("catalogue", "enrolment", "assessment", "issuance", "recognition")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Instance:
    """One process of one service."""

    service: Service
    index: int
    port: int

    @property
    def name(self) -> str:
        return f"{self.service.name}-{self.index}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def plan_instances(profile: Profile, instances: int) -> list[Instance]:
    """`instances` processes of every service, the gateway's last (it needs the others)."""
    if instances < 1:
        raise ValueError("at least one instance per service")
    return [
        Instance(service, index, profile.service_port(service) + INSTANCE_PORT_STEP * index)
        for service in SERVICES
        for index in range(instances)
    ]


def of_service(plan: Sequence[Instance], name: str) -> list[Instance]:
    return [instance for instance in plan if instance.service.name == name]


def instance_env(
    profile: Profile, instance: Instance, plan: Sequence[Instance], base: Mapping[str, str]
) -> dict[str, str]:
    """The environment of one process: the profile's, its own port, no trace export; the
    gateway's i-th process talks to the i-th process of each service (round robin)."""
    env = profile.service_env(instance.service, base)
    env["HTTP_PORT"] = str(instance.port)
    # Traces cost every process CPU; the benchmark measures the system without a backend.
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = ""
    name = instance.service.name
    if name == "gateway":
        env["DEV_IDP_ENABLED"] = "true"
        for downstream in GATEWAY_DOWNSTREAMS:
            peers = of_service(plan, downstream)
            env[f"{downstream.upper()}_URL"] = peers[instance.index % len(peers)].url
    if name == "issuance":
        # One issuer identity (did:web) whichever process signs.
        env["PUBLIC_BASE_URL"] = of_service(plan, "issuance")[0].url
    return env


@dataclass
class Stack:
    profile: Profile = PROFILE
    partitions: int = 3
    profile_dir: Path | None = None
    plan: list[Instance] = field(default_factory=list)

    def managed(self, instance: Instance) -> Managed:
        return Managed(
            name=instance.name,
            pid_file=self.profile.pids_dir / f"{instance.name}.pid",
            log_file=self.profile.logs_dir / f"{instance.name}.log",
            marker=instance.service.module,
        )

    # --- infrastructure -------------------------------------------------------------------

    def start_infra(self) -> None:
        """A fresh Kafka and PostgreSQL, migrated databases and the alliance's topics."""
        started = time.monotonic()
        local.reset(self.profile)
        with ThreadPoolExecutor(max_workers=2) as pool:
            jobs = [
                pool.submit(local.start_kafka, self.profile),
                pool.submit(local.start_postgres, self.profile),
            ]
            for job in jobs:
                job.result()
        # This process (its partner systems, observers, checks) connects as the profile says.
        os.environ.update({k: v for k, v in self.profile.infra_env().items() if "KAFKA" in k})
        env = {**os.environ, **self.profile.infra_env()}
        migrated = subprocess.run(
            [sys.executable, "-m", "infra.migrate", "--all"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if migrated.returncode != 0:
            raise InfraError(f"migrations failed:\n{migrated.stdout}\n{migrated.stderr}")
        asyncio.run(
            ensure_topics(
                self.profile.bootstrap_servers, self.partitions, self.profile.kafka_brokers
            )
        )
        asyncio.run(apply_acls(self.profile.bootstrap_servers, alliance_acls()))
        local.say(
            self.profile,
            f"infrastructure ready in {time.monotonic() - started:.0f} s "
            f"(Kafka {self.profile.bootstrap_servers}, PostgreSQL "
            f"127.0.0.1:{self.profile.postgres_port}, {self.partitions} partitions per topic)",
        )

    def stop_infra(self) -> None:
        self.stop_services()
        local.stop_infra(self.profile)

    # --- services -------------------------------------------------------------------------

    def start_services(self, instances: int) -> None:
        started = time.monotonic()
        self.plan = plan_instances(self.profile, instances)
        for instance in self.plan:
            self.spawn(instance)
        self.wait_ready(self.plan)
        local.say(
            self.profile,
            f"{len(self.plan)} service processes ready ({instances} per service) in "
            f"{time.monotonic() - started:.0f} s",
        )

    def spawn(self, instance: Instance, extra_env: Mapping[str, str] | None = None) -> None:
        """Starts one process of the plan (again, after a kill), with `extra_env` on top."""
        argv = [sys.executable, "-m", instance.service.module]
        if self.profile_dir is not None:
            out = self.profile_dir / f"{instance.name}.prof"
            argv = [sys.executable, "-m", "bench.profiled", instance.service.module, str(out)]
        env = instance_env(self.profile, instance, self.plan, os.environ)
        self.managed(instance).spawn(argv, env={**env, **(extra_env or {})}, cwd=self.profile.root)

    def wait_ready(self, instances: Sequence[Instance]) -> None:
        pending = list(instances)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while pending:
            for instance in list(pending):
                if http_ok(instance.url + local.SERVICE_READY_PATH):
                    pending.remove(instance)
                elif self.managed(instance).exited():
                    raise local.failure(instance.name, self.managed(instance), "exited")
            if pending and time.monotonic() > deadline:
                names = ", ".join(instance.name for instance in pending)
                raise InfraError(f"not ready after {READY_TIMEOUT_S:.0f} s: {names}")
            time.sleep(0.3)

    def stop_services(self) -> None:
        # In parallel: each graceful stop waits on its own process.
        with ThreadPoolExecutor(max_workers=max(1, len(self.plan))) as pool:
            list(pool.map(lambda i: self.managed(i).stop(signal.SIGTERM, timeout=20), self.plan))
        self.plan = []

    # --- what runs, for the memory report -------------------------------------------------

    def service_pids(self) -> dict[str, int]:
        pids = {}
        for instance in self.plan:
            pid = self.managed(instance).pid()
            if pid is not None:
                pids[instance.name] = pid
        return pids

    def kafka_pid(self) -> int | None:
        return local.kafka_process(self.profile).pid()

    def postgres_pid(self) -> int | None:
        return local.find_postgres(self.profile).pid()

    def gateways(self) -> list[str]:
        return [instance.url for instance in of_service(self.plan, "gateway")]

    def url(self, service: str) -> str:
        return of_service(self.plan, service)[0].url
