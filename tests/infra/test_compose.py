"""docker-compose.yml, checked without a Docker engine through `docker-compose config`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
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
    # What `make setup` makes on a fresh clone: the broker's credentials, never committed.
    subprocess.run(
        [sys.executable, "-m", "infra.local", "compose-secrets"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
        timeout=60,
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
    assert set(compose["services"]) >= {
        "kafka",
        "postgres",
        "jaeger",
        "prometheus",
        "grafana",
        *APPS,
    }


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


def test_kafka_knows_its_principals_and_authorises_with_acls(compose: dict[str, Any]) -> None:
    env = service(compose, "kafka")["environment"]
    assert "PLAINTEXT://" not in env["KAFKA_LISTENERS"]
    assert set(env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")) == {
        "SASL_SSL:SASL_SSL",
        "HOST:SASL_SSL",
        "CONTROLLER:SASL_PLAINTEXT",
    }
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert env["KAFKA_SUPER_USERS"] == "User:admin"
    for listener in ("SASL__SSL", "HOST", "CONTROLLER"):
        assert "user_catalogue=" in env[f"KAFKA_LISTENER_NAME_{listener}_PLAIN_SASL_JAAS_CONFIG"]
    init = service(compose, "kafka-init")
    # infra.topics creates the topics, then applies every principal's ACLs (infra.acls).
    assert init["command"] == ["python", "-m", "infra.topics"]
    assert init["environment"]["KAFKA_SASL_USERNAME"] == "admin"


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
    # Its own principal, never the super user, over TLS.
    assert env["KAFKA_SASL_USERNAME"] == name
    assert env["KAFKA_SASL_PASSWORD"]
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
    assert {int(port["published"]) for port in app["ports"]} == {expected_port}

    assert "/health/ready" in " ".join(app["healthcheck"]["test"])
    assert memory_limit(app), f"{name} has no memory limit"
    depends = app["depends_on"]
    assert depends["kafka"]["condition"] == "service_healthy"
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["kafka-init"]["condition"] == "service_completed_successfully"


def test_dockerfile_migrates_then_runs_the_service() -> None:
    dockerfile = (REPO_ROOT / "infra" / "compose" / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install -r requirements.lock" in dockerfile
    cmd = dockerfile[dockerfile.index("CMD") :]
    assert cmd.index("infra.migrate --service") < cmd.index("services.$SERVICE_NAME")


def test_prometheus_scrapes_every_service(compose: dict[str, Any]) -> None:
    prometheus = service(compose, "prometheus")
    assert prometheus["image"].startswith("prom/prometheus:")
    assert memory_limit(prometheus)
    mounts = " ".join(
        str(v.get("source", v) if isinstance(v, dict) else v) for v in prometheus["volumes"]
    )
    assert str(REPO_ROOT / "infra" / "compose" / "prometheus.yml") in mounts
    config = yaml.safe_load((REPO_ROOT / "infra" / "compose" / "prometheus.yml").read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        if job.get("metrics_path", "/metrics") == "/metrics"
        for group in job["static_configs"]
        for target in group["targets"]
    }
    assert targets == {f"{s.name}:{s.port}" for s in SERVICES}


def test_grafana_is_provisioned_with_prometheus_and_the_alliance_dashboard(
    compose: dict[str, Any],
) -> None:
    grafana = service(compose, "grafana")
    assert grafana["image"].startswith("grafana/grafana:")
    assert memory_limit(grafana)
    compose_dir = REPO_ROOT / "infra" / "compose" / "grafana"
    datasources = yaml.safe_load(
        (compose_dir / "provisioning" / "datasources" / "alliance.yml").read_text()
    )["datasources"]
    prometheus = next(d for d in datasources if d["type"] == "prometheus")
    assert prometheus["url"] == "http://prometheus:9090"
    dashboard = json.loads((compose_dir / "dashboards" / "alliance.json").read_text())
    assert dashboard["title"] == "Alliance"
    queries = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    # One panel or more for each thing operators watch, on metrics the services export.
    for metric in (
        "alliance_events_consumed_total",
        "alliance_events_published_total",
        "alliance_event_handling_seconds_bucket",
        "alliance_consumer_lag",
        "alliance_outbox_backlog",
        "alliance_outbox_oldest_age_seconds",
        "alliance_dead_letters_total",
        "alliance_http_requests_total",
        "alliance_http_request_seconds_bucket",
    ):
        assert metric in queries, f"no panel shows {metric}"
    assert all(p["datasource"]["uid"] == prometheus["uid"] for p in dashboard["panels"])
    mounts = " ".join(
        str(v.get("source", v) if isinstance(v, dict) else v) for v in grafana["volumes"]
    )
    assert str(compose_dir / "provisioning") in mounts
    assert str(compose_dir / "dashboards") in mounts
