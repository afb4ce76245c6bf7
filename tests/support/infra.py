"""Where the tests get a real Kafka broker and a real PostgreSQL.

In this order: addresses given in the environment (KAFKA_BOOTSTRAP_SERVERS plus
DATABASE_URL_TEMPLATE with a `{service}` placeholder); testcontainers when a Docker daemon
answers; otherwise the project's own local `test` profile (`python -m infra.local`). A test
that cannot get its infrastructure fails with the reason; it is never skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from shared.db.engine import driver_dsn

REPO_ROOT = Path(__file__).resolve().parents[2]
PROFILE = "test"


class InfrastructureUnavailable(Exception):
    pass


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap_servers: str
    database_url_template: str  # SQLAlchemy URL with a {service} placeholder
    origin: str

    def database_url(self, database: str) -> str:
        return self.database_url_template.format(service=database)

    def asyncpg_dsn(self, database: str) -> str:
        return driver_dsn(self.database_url(database))


def _from_environment() -> Infrastructure | None:
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    template = os.environ.get("DATABASE_URL_TEMPLATE")
    if kafka and template:
        return Infrastructure(kafka, template, "environment")
    if kafka or template:
        raise InfrastructureUnavailable(
            "set both KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL_TEMPLATE, or neither"
        )
    return None


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


@contextmanager
def _containers() -> Iterator[Infrastructure]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with ExitStack() as stack:
        kafka: Any = stack.enter_context(KafkaContainer().with_kraft())
        postgres: Any = stack.enter_context(PostgresContainer("postgres:16", driver="asyncpg"))
        url = postgres.get_connection_url()
        template = url.rsplit("/", 1)[0] + "/{service}"
        yield Infrastructure(kafka.get_bootstrap_server(), template, "testcontainers")


def _read_env_file(path: Path) -> dict[str, str]:
    entries = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            name, value = line.split("=", 1)
            entries[name.strip()] = value.strip()
    return entries


@contextmanager
def _local_profile() -> Iterator[Infrastructure]:
    local = [sys.executable, "-m", "infra.local"]
    running = subprocess.run(
        [*local, "status", "--profile", PROFILE],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    already_up = running.returncode == 0
    started = subprocess.run(
        [*local, "start", "--profile", PROFILE],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if started.returncode != 0:
        raise InfrastructureUnavailable(
            "could not start the local test infrastructure (python -m infra.local start "
            f"--profile {PROFILE}):\n{started.stdout}\n{started.stderr}"
        )
    env = _read_env_file(REPO_ROOT / ".run" / PROFILE / "env")
    # Every client of the session connects as the profile says (shared.messaging.clients):
    # as its super user, or with KAFKA_CREDENTIALS_FILE as a partner or service.
    os.environ.update({k: v for k, v in env.items() if k.startswith("KAFKA_")})
    try:
        yield Infrastructure(env["KAFKA_BOOTSTRAP_SERVERS"], env["DATABASE_URL_TEMPLATE"], "local")
    finally:
        if not already_up:
            subprocess.run(
                [*local, "stop", "--profile", PROFILE],
                cwd=REPO_ROOT,
                capture_output=True,
                check=False,
            )


@contextmanager
def provide_infrastructure() -> Iterator[Infrastructure]:
    given = _from_environment()
    if given is not None:
        yield given
    elif _docker_answers():
        with _containers() as infra:
            yield infra
    else:
        with _local_profile() as infra:
            yield infra


async def create_database(infra: Infrastructure, prefix: str) -> str:
    """A new, empty database for one test; its name."""
    name = f"t_{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(infra.asyncpg_dsn("postgres"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(infra: Infrastructure, name: str) -> None:
    conn = await asyncpg.connect(infra.asyncpg_dsn("postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
