"""infra.local without Kafka or PostgreSQL: profiles, generated files, process supervision.

The supervision tests run tiny stdlib HTTP servers written into tmp_path, so they take
about a second and never touch the real services or the real profiles' folders.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import struct
import textwrap
from pathlib import Path

import pytest
import yaml

from infra import local
from infra.processes import (
    InfraError,
    Managed,
    group_alive,
    http_ok,
    metadata_request_body,
    metadata_version,
    port_open,
)
from infra.profiles import (
    DATABASES,
    PG_HBA,
    PROFILES,
    SERVICES,
    Profile,
    Service,
    jaeger_config,
    kafka_properties,
    postgres_settings,
    render_env_file,
)
from services.gateway.settings import GatewaySettings
from tests.support.services import free_port

RUN, TEST = PROFILES["run"], PROFILES["test"]


def all_ports(profile: Profile) -> set[int]:
    services = {profile.service_port(s) for s in SERVICES}
    infrastructure = {
        profile.kafka_port,
        profile.kafka_controller_port,
        profile.postgres_port,
        profile.otlp_port,
        profile.traces_ui_port,
        profile.traces_grpc_port,
    }
    return infrastructure | services


def test_profiles_use_the_agreed_ports() -> None:
    assert (RUN.kafka_port, RUN.kafka_controller_port, RUN.postgres_port) == (9092, 9093, 5433)
    assert (TEST.kafka_port, TEST.kafka_controller_port, TEST.postgres_port) == (
        19092,
        19093,
        15433,
    )
    ports = {s.name: RUN.service_port(s) for s in SERVICES}
    assert ports == {
        "gateway": 8000,
        "catalogue": 8001,
        "enrolment": 8002,
        "assessment": 8003,
        "issuance": 8004,
        "recognition": 8005,
    }
    assert all(TEST.service_port(s) == RUN.service_port(s) + 10000 for s in SERVICES)


def test_profiles_never_share_ports_or_folders() -> None:
    assert len(all_ports(RUN)) == 6 + len(SERVICES)
    assert not all_ports(RUN) & all_ports(TEST)
    assert RUN.run_dir != TEST.run_dir
    assert RUN.logs_dir == RUN.run_dir / "logs"


def test_every_service_has_a_database_and_runs_its_own_module() -> None:
    assert set(DATABASES) == {
        "catalogue",
        "enrolment",
        "assessment",
        "issuance",
        "recognition",
        "gateway",
    }
    assert all(s.module == f"services.{s.name}" for s in SERVICES)


def test_env_file_content() -> None:
    env = TEST.infra_env()
    password = TEST.kafka_passwords().get("admin", "")
    assert env == {
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
        # The tools the env file is for connect as the super user, over TLS.
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": "admin",
        "KAFKA_SASL_PASSWORD": password,
        "KAFKA_SSL_CAFILE": str(TEST.kafka_ca_file),
        "KAFKA_CREDENTIALS_FILE": str(TEST.kafka_credentials_file),
        "DATABASE_URL_TEMPLATE": "postgresql+asyncpg://postgres@127.0.0.1:15433/{service}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:14318",
        "TRACES_URL": "http://127.0.0.1:26686",
    }
    assert render_env_file(env).startswith("KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092\n")


def test_a_service_connects_as_its_own_principal_without_the_others_passwords() -> None:
    enrolment = next(s for s in SERVICES if s.name == "enrolment")
    env = TEST.service_env(enrolment, TEST.infra_env())
    assert env["KAFKA_SASL_USERNAME"] == "enrolment"
    assert env["KAFKA_SASL_PASSWORD"] == TEST.kafka_passwords().get("enrolment", "")
    assert "KAFKA_CREDENTIALS_FILE" not in env


def test_service_env_adds_its_settings_to_the_given_environment() -> None:
    enrolment = next(s for s in SERVICES if s.name == "enrolment")
    base = {"PATH": "/bin", "HTTP_PORT": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318"}
    env = TEST.service_env(enrolment, base)
    assert env["PATH"] == "/bin"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://x:4318"
    assert env["SERVICE_NAME"] == "enrolment"
    assert env["HTTP_PORT"] == "18002"
    assert env["DATABASE_URL"] == "postgresql+asyncpg://postgres@127.0.0.1:15433/enrolment"
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:19092"
    assert base["HTTP_PORT"] == "1"
    # Without one given, services export to the profile's own trace backend.
    assert TEST.service_env(enrolment, {})["OTEL_EXPORTER_OTLP_ENDPOINT"] == (
        "http://127.0.0.1:14318"
    )


def test_the_gateway_calls_the_services_of_its_own_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gateway = next(s for s in SERVICES if s.name == "gateway")
    for name, value in TEST.service_env(gateway, {}).items():
        monkeypatch.setenv(name, value)
    settings = GatewaySettings()
    assert settings.catalogue_url == "http://127.0.0.1:18001"
    assert settings.recognition_url == "http://127.0.0.1:18005"
    assert settings.resolved_issuance_public_url == "http://127.0.0.1:18004"


def test_kafka_properties_single_kraft_node_on_loopback() -> None:
    lines = kafka_properties(TEST).splitlines()
    props = dict(line.split("=", 1) for line in lines)
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "SASL_SSL://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "SASL_SSL://127.0.0.1:19092"
    assert props["listener.security.protocol.map"] == (
        "SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT"
    )
    assert props["authorizer.class.name"].endswith(".StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:admin"
    assert Path(props["log.dirs"]).is_relative_to(TEST.run_dir)
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "share.coordinator.state.topic.replication.factor",
    ):
        assert props[key] == "1"


def test_postgres_listens_on_loopback_only_and_tests_skip_fsync() -> None:
    run, test = postgres_settings(RUN), postgres_settings(TEST)
    assert run["listen_addresses"] == test["listen_addresses"] == "127.0.0.1"
    assert (run["port"], test["port"]) == ("5433", "15433")
    assert "fsync" not in run
    assert test["fsync"] == "off"
    hba_rules = [r for r in PG_HBA.splitlines() if r and not r.startswith("#")]
    assert hba_rules == ["host all all 127.0.0.1/32 trust"]


def test_only_the_benchmarks_postgres_counts_statements() -> None:
    assert postgres_settings(PROFILES["bench"])["shared_preload_libraries"] == "pg_stat_statements"
    assert "shared_preload_libraries" not in postgres_settings(RUN)
    assert "shared_preload_libraries" not in postgres_settings(TEST)


def test_kafka_cluster_id_is_a_kafka_uuid() -> None:
    ids = {local.kafka_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)


def test_metadata_version_picks_the_highest_encodable() -> None:
    def api_versions(*entries: tuple[int, int, int]) -> bytes:
        body = struct.pack(">hi", 0, len(entries))
        return body + b"".join(struct.pack(">hhh", *entry) for entry in entries)

    assert metadata_version(api_versions((18, 0, 4), (3, 0, 13))) == 8
    assert metadata_version(api_versions((3, 4, 5))) == 5
    with pytest.raises(ConnectionError):
        metadata_version(api_versions((3, 9, 13)))
    assert len(metadata_request_body(4)) == 5
    assert len(metadata_request_body(8)) == 7


def test_urls_list_gateway_docs_and_every_service_contract() -> None:
    text = "\n".join(local.url_lines(RUN))
    assert "http://127.0.0.1:8000/docs" in text
    for service in SERVICES:
        if service.name != "gateway":
            url = RUN.service_url(service)
            assert f"{url}/docs" in text
            assert f"{url}/asyncapi" in text
    assert str(RUN.logs_dir) in text


# --- supervision with throwaway services ------------------------------------------------

FAKE_SERVICE = textwrap.dedent(
    """
    import http.server, os, sys

    mode = os.environ.get("FAKE_" + os.environ["SERVICE_NAME"].upper(), "ok")
    print("env", os.environ["SERVICE_NAME"], os.environ["DATABASE_URL"], flush=True)
    if mode == "crash":
        sys.exit("boom: cannot start")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ok = mode == "ok" and self.path == "/health/ready"
            self.send_response(200 if ok else 503)
            self.end_headers()

    http.server.HTTPServer(("127.0.0.1", int(os.environ["HTTP_PORT"])), Handler).serve_forever()
    """
)


@pytest.fixture
def sandbox(tmp_path: Path) -> Profile:
    (tmp_path / "fake_service.py").write_text(FAKE_SERVICE)
    return dataclasses.replace(TEST, root=tmp_path, service_port_offset=0)


def fakes(*names: str) -> list[Service]:
    return [Service(name=name, module="fake_service", port=free_port()) for name in names]


def test_services_start_wait_and_stop(sandbox: Profile) -> None:
    services = fakes("alpha", "beta")
    local.start_services(sandbox, services, os.environ, timeout=20)
    try:
        for service in services:
            assert http_ok(sandbox.service_url(service) + "/health/ready")
            log = (sandbox.logs_dir / f"{service.name}.log").read_text()
            assert f"env {service.name} {sandbox.database_url(service.name)}" in log
        # A second start reuses the running processes.
        pids = [local.service_process(sandbox, s).pid() for s in services]
        local.start_services(sandbox, services, os.environ, timeout=20)
        assert [local.service_process(sandbox, s).pid() for s in services] == pids
    finally:
        local.stop_services(sandbox, services)
    for service in services:
        assert local.service_process(sandbox, service).pid() is None
        assert not port_open(sandbox.service_port(service))


def test_a_crashing_service_is_named_with_its_log_and_the_rest_stopped(
    sandbox: Profile,
) -> None:
    services = fakes("alpha", "beta")
    env = {**os.environ, "FAKE_BETA": "crash"}
    with pytest.raises(InfraError, match=r"(?s)beta exited during start-up.*boom"):
        local.start_services(sandbox, services, env, timeout=20)
    assert local.service_process(sandbox, services[0]).pid() is None


def test_a_service_never_ready_times_out(sandbox: Profile) -> None:
    services = fakes("gamma")
    env = {**os.environ, "FAKE_GAMMA": "unready"}
    with pytest.raises(InfraError, match="gamma did not answer /health/ready with 200"):
        local.start_services(sandbox, services, env, timeout=1.5)
    assert not port_open(sandbox.service_port(services[0]))


def test_stop_kills_a_group_that_ignores_sigterm(tmp_path: Path) -> None:
    managed = Managed(
        name="stubborn",
        pid_file=tmp_path / "stubborn.pid",
        log_file=tmp_path / "stubborn.log",
        marker="stubborn-marker",
    )
    script = "trap '' TERM; sleep 60 & echo started; wait"
    pid = managed.spawn(["sh", "-c", script, "stubborn-marker"])
    assert managed.pid() == pid
    assert managed.stop(signal.SIGTERM, timeout=0.5)
    assert managed.pid() is None
    assert not group_alive(pid)
    assert not managed.stop()


def test_a_stale_pid_file_is_not_trusted(tmp_path: Path) -> None:
    managed = Managed(
        name="stale",
        pid_file=tmp_path / "stale.pid",
        log_file=tmp_path / "stale.log",
        marker="a marker no process has",
    )
    # Our own pid is alive but is not the process the file claims.
    managed.pid_file.write_text(f"{os.getpid()}\n")
    assert managed.pid() is None
    assert not managed.pid_file.exists()


def test_cli_rejects_unknown_services() -> None:
    with pytest.raises(InfraError, match="unknown service nope"):
        local.select_services(["catalogue", "nope"])


def test_jaeger_config_keeps_every_port_on_loopback_and_in_the_profile() -> None:
    config = yaml.safe_load(jaeger_config(TEST))
    query = config["extensions"]["jaeger_query"]
    assert query["http"]["endpoint"] == "127.0.0.1:26686"
    assert query["grpc"]["endpoint"] == "127.0.0.1:26685"
    assert config["receivers"]["otlp"]["protocols"] == {"http": {"endpoint": "127.0.0.1:14318"}}
    assert config["service"]["pipelines"]["traces"]["receivers"] == ["otlp"]
    # The collector's own metrics server would take a fixed port shared by the profiles.
    assert config["service"]["telemetry"]["metrics"]["level"] == "none"
