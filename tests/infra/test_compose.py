"""docker-compose.yml, checked without a Docker engine through `docker-compose config`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.profiles import DATABASES, SERVICES

REPO_ROOT = Path(__file__).resolve().parents[2]
APPS = [service.name for service in SERVICES]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(
            "docker-compose is not installed, so docker-compose.yml cannot be validated; "
            "`make setup` installs it (Debian package docker-compose)"
        )
    result = subprocess.run(
        [binary, "-f", "docker-compose.yml", "config"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    config = yaml.safe_load(result.stdout)
    assert isinstance(config, dict)
    return config


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    services = compose["services"]
    assert name in services, f"{name} missing from docker-compose.yml"
    entry = services[name]
    assert isinstance(entry, dict)
    return entry


def memory_limit(entry: dict[str, Any]) -> Any:
    limits = entry.get("deploy", {}).get("resources", {}).get("limits", {})
    return limits.get("memory") or entry.get("mem_limit")


def test_has_infrastructure_and_every_app(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) >= {"kafka", "postgres", "jaeger", *APPS}


def test_kafka_runs_kraft_single_node(compose: dict[str, Any]) -> None:
    kafka = service(compose, "kafka")
    env = kafka["environment"]
    assert kafka["image"].startswith("apache/kafka:")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{env['KAFKA_NODE_ID']}@kafka:")
    assert "CONTROLLER" in env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert env["CLUSTER_ID"]
    assert not any("ZOOKEEPER" in key for key in env)
    assert "zookeeper" not in compose["services"]
    assert kafka["healthcheck"]["test"]
    assert memory_limit(kafka)


def test_postgres_creates_one_database_per_service(compose: dict[str, Any]) -> None:
    postgres = service(compose, "postgres")
    assert postgres["image"] == "postgres:16"
    assert postgres["healthcheck"]["test"]
    mounts = [str(v.get("source", v) if isinstance(v, dict) else v) for v in postgres["volumes"]]
    init = REPO_ROOT / "infra" / "compose" / "postgres-init.sql"
    assert any(str(init) in mount for mount in mounts)
    created = {
        line.removeprefix("CREATE DATABASE ").rstrip(";").strip('"')
        for line in init.read_text().splitlines()
        if line.startswith("CREATE DATABASE ")
    }
    assert created == set(DATABASES)


def test_jaeger_v2_with_otlp_and_ui(compose: dict[str, Any]) -> None:
    jaeger = service(compose, "jaeger")
    assert jaeger["image"].startswith("jaegertracing/jaeger:2.")
    published = {int(port["published"]) for port in jaeger["ports"]}
    assert published >= {4317, 4318, 16686}


@pytest.mark.parametrize("name", APPS)
def test_app_service(compose: dict[str, Any], name: str) -> None:
    app = service(compose, name)
    expected_port = next(s.port for s in SERVICES if s.name == name)
    env = app["environment"]

    assert app["build"]["dockerfile"] == "infra/compose/Dockerfile"
    assert env["SERVICE_NAME"] == name
    # The same ports as the local `run` profile, so URLs and docs read the same everywhere.
    assert int(env["HTTP_PORT"]) == expected_port
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert env["DATABASE_URL"].endswith(f"@postgres:5432/{name}")
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
    assert {int(port["published"]) for port in app["ports"]} == {expected_port}

    assert "/health/ready" in " ".join(app["healthcheck"]["test"])
    assert memory_limit(app), f"{name} has no memory limit"
    depends = app["depends_on"]
    assert depends["kafka"]["condition"] == "service_healthy"
    assert depends["postgres"]["condition"] == "service_healthy"


def test_dockerfile_migrates_then_runs_the_service() -> None:
    dockerfile = (REPO_ROOT / "infra" / "compose" / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install -r requirements.lock" in dockerfile
    cmd = dockerfile[dockerfile.index("CMD") :]
    assert cmd.index("shared.db.migrate --service") < cmd.index("services.$SERVICE_NAME")
