"""Where each profile's infrastructure lives: ports, folders and the environment it hands out.

Pure data and string building only, so it can be tested without starting anything.
The two profiles use disjoint ports and folders so a test run never clobbers a running demo.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services import SERVICES as SERVICE_NAMES

REPO_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
# The broker's super user: creates topics and ACLs; the tests and operator tools use it.
KAFKA_ADMIN = "admin"
KAFKA_MECHANISM = "SCRAM-SHA-512"
# Clients reach the broker over TLS with SCRAM; the controller listener stays on loopback.
KAFKA_PROTOCOL = "SASL_SSL"


@dataclass(frozen=True)
class Service:
    """One application process: `python -m <module>` answering HTTP on `port` (profile run)."""

    name: str
    module: str
    port: int


# The services as `services.SERVICES` lists them, in its start order. The gateway, the
# alliance's front door, answers on 8000 (profile run); the others from 8001 in that order.
SERVICES: tuple[Service, ...] = tuple(
    Service(name=name, module=f"services.{name}", port=8000 if name == "gateway" else 8001 + i)
    for i, name in enumerate(SERVICE_NAMES)
)

DATABASES: tuple[str, ...] = tuple(service.name for service in SERVICES)


@dataclass(frozen=True)
class Profile:
    """A complete, isolated set of local infrastructure."""

    name: str
    kafka_port: int
    kafka_controller_port: int
    postgres_port: int
    # The trace backend (Jaeger v2): OTLP/HTTP in, query API and UI out, query gRPC.
    otlp_port: int
    traces_ui_port: int
    traces_grpc_port: int
    service_port_offset: int
    # Tests trade crash safety for speed; a demo keeps PostgreSQL's defaults.
    durable: bool
    root: Path = REPO_ROOT
    # KRaft nodes (broker and controller each); node n listens on kafka_port + 2n and
    # kafka_controller_port + 2n. Three replicate every topic three times, min ISR two.
    kafka_brokers: int = 1
    # PostgreSQL counts every statement by database (pg_stat_statements): the benchmark
    # reports statements per journey from it.
    counts_statements: bool = False

    @property
    def run_dir(self) -> Path:
        return self.root / ".run" / self.name

    @property
    def logs_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def pids_dir(self) -> Path:
        return self.run_dir / "pids"

    @property
    def kafka_dir(self) -> Path:
        return self.kafka_node_dir(0)

    def kafka_node_dir(self, node: int) -> Path:
        return self.run_dir / ("kafka" if node == 0 else f"kafka-{node + 1}")

    def kafka_node_ports(self, node: int) -> tuple[int, int]:
        """(client port, controller port) of KRaft node `node` (0-based)."""
        return self.kafka_port + 2 * node, self.kafka_controller_port + 2 * node

    @property
    def kafka_nodes(self) -> range:
        return range(self.kafka_brokers)

    @property
    def postgres_link(self) -> Path:
        """PostgreSQL's home; a symlink when the data had to live outside the repo."""
        return self.run_dir / "postgres"

    @property
    def kafka_secrets_dir(self) -> Path:
        """Passwords, the local CA and the broker's certificate, made at the first start."""
        return self.run_dir / "kafka-secrets"

    @property
    def kafka_credentials_file(self) -> Path:
        """JSON {principal: password} of every principal of the profile's broker."""
        return self.kafka_secrets_dir / "credentials.json"

    @property
    def kafka_ca_file(self) -> Path:
        return self.kafka_secrets_dir / "ca.pem"

    @property
    def kafka_broker_pem(self) -> Path:
        """The broker's private key and certificate chain, one PEM file (Kafka's PEM store)."""
        return self.kafka_secrets_dir / "broker.pem"

    def kafka_passwords(self) -> dict[str, str]:
        if not self.kafka_credentials_file.exists():
            return {}
        passwords: dict[str, str] = json.loads(self.kafka_credentials_file.read_text())
        return passwords

    def kafka_client_env(self, principal: str) -> dict[str, str]:
        """How a client connects as `principal` (read by shared.messaging.clients)."""
        return {
            "KAFKA_SECURITY_PROTOCOL": KAFKA_PROTOCOL,
            "KAFKA_SASL_MECHANISM": KAFKA_MECHANISM,
            "KAFKA_SASL_USERNAME": principal,
            "KAFKA_SASL_PASSWORD": self.kafka_passwords().get(principal, ""),
            "KAFKA_SSL_CAFILE": str(self.kafka_ca_file),
        }

    @property
    def env_file(self) -> Path:
        return self.run_dir / "env"

    @property
    def kafka_lib(self) -> Path:
        return self.root / ".cache" / "kafka" / "lib"

    @property
    def jaeger_dir(self) -> Path:
        return self.run_dir / "jaeger"

    @property
    def jaeger_binary(self) -> Path:
        return self.root / ".cache" / "jaeger" / "jaeger"

    @property
    def otlp_endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.otlp_port}"

    @property
    def traces_url(self) -> str:
        """Jaeger's query API (`/api/services`, `/api/traces`) and UI."""
        return f"http://{LOOPBACK}:{self.traces_ui_port}"

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"{LOOPBACK}:{self.kafka_node_ports(n)[0]}" for n in self.kafka_nodes)

    @property
    def database_url_template(self) -> str:
        return f"postgresql+asyncpg://postgres@{LOOPBACK}:{self.postgres_port}/{{service}}"

    def database_url(self, database: str) -> str:
        return self.database_url_template.format(service=database)

    def service_port(self, service: Service) -> int:
        return service.port + self.service_port_offset

    def service_url(self, service: Service) -> str:
        return f"http://{LOOPBACK}:{self.service_port(service)}"

    def infra_env(self) -> dict[str, str]:
        """What clients of this profile's infrastructure need to know (the env file)."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            # The super user: the tools this file is for (migrations, topics, ops, tests).
            **self.kafka_client_env(KAFKA_ADMIN),
            # Every principal's password, for the tools that act as several partners.
            "KAFKA_CREDENTIALS_FILE": str(self.kafka_credentials_file),
            "DATABASE_URL_TEMPLATE": self.database_url_template,
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_endpoint,
            "TRACES_URL": self.traces_url,
        }

    def service_env(self, service: Service, base: Mapping[str, str]) -> dict[str, str]:
        """The full environment of a service process: `base` plus its own settings."""
        env = dict(base)
        env.update(
            SERVICE_NAME=service.name,
            HTTP_PORT=str(self.service_port(service)),
            DATABASE_URL=self.database_url(service.name),
            # Every node: a service can start or restart while any one of them is down.
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap_servers,
            # Each service is its own principal at the broker, never the super user.
            **self.kafka_client_env(service.name),
            # Logs reach the log file as they happen, not when a buffer fills.
            PYTHONUNBUFFERED="1",
        )
        env.pop("KAFKA_CREDENTIALS_FILE", None)
        # Where the gateway reaches the others: this profile's ports, never another's.
        env.update(
            {
                f"{other.name.upper()}_URL": self.service_url(other)
                for other in SERVICES
                if other is not service and other.name != "gateway"
            }
        )
        # Every profile is a local alliance, whose development keys are committed.
        env.setdefault("ALLOW_DEVELOPMENT_KEYS", "true")
        # The profile's own trace backend, unless the environment names another one.
        env.setdefault("OTEL_EXPORTER_OTLP_ENDPOINT", self.otlp_endpoint)
        return env


PROFILES: dict[str, Profile] = {
    "run": Profile(
        name="run",
        kafka_port=9092,
        kafka_controller_port=9093,
        postgres_port=5433,
        otlp_port=4318,
        traces_ui_port=16686,
        traces_grpc_port=16685,
        service_port_offset=0,
        durable=True,
    ),
    "test": Profile(
        name="test",
        kafka_port=19092,
        kafka_controller_port=19093,
        postgres_port=15433,
        otlp_port=14318,
        traces_ui_port=26686,
        traces_grpc_port=26685,
        service_port_offset=10000,
        durable=False,
    ),
    # `make bench`: its own broker, databases and service ports, so a benchmark run neither
    # disturbs nor is disturbed by a demo or a test session. No trace backend is started.
    "bench": Profile(
        name="bench",
        kafka_port=29192,
        kafka_controller_port=29193,
        postgres_port=25533,
        otlp_port=24318,
        traces_ui_port=36686,
        traces_grpc_port=36685,
        service_port_offset=20000,
        durable=False,
        counts_statements=True,
    ),
    # `make faults`: the fault suite's own stack, which it stops, kills and restarts.
    "faults": Profile(
        name="faults",
        kafka_port=23092,
        kafka_controller_port=23093,
        postgres_port=25633,
        otlp_port=24418,
        traces_ui_port=24486,
        traces_grpc_port=24485,
        service_port_offset=21000,
        durable=False,
    ),
}

# Most KRaft nodes a profile may run; `stop` looks for this many whatever the setting.
MAX_KAFKA_BROKERS = 3


def render_env_file(env: Mapping[str, str]) -> str:
    """KEY=VALUE lines, readable by `set -a; . file`, python-dotenv and Docker's --env-file."""
    return "".join(f"{key}={value}\n" for key, value in env.items())


def kafka_properties(profile: Profile, node: int = 0) -> str:
    """server.properties for combined broker+controller node `node` of the profile's KRaft
    cluster on loopback (static voters: every node lists all of them)."""
    port, cport = profile.kafka_node_ports(node)
    voters = ",".join(
        f"{n + 1}@{LOOPBACK}:{profile.kafka_node_ports(n)[1]}" for n in profile.kafka_nodes
    )
    # One node cannot replicate; three keep every partition on all of them and accept a
    # write once two have it, so one node may fail without losing an acknowledged record.
    replicas = str(profile.kafka_brokers)
    min_isr = "2" if profile.kafka_brokers >= 3 else "1"
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(node + 1),
        "controller.quorum.voters": voters,
        "listeners": f"{KAFKA_PROTOCOL}://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{cport}",
        "advertised.listeners": f"{KAFKA_PROTOCOL}://{LOOPBACK}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": KAFKA_PROTOCOL,
        "listener.security.protocol.map": (
            f"{KAFKA_PROTOCOL}:{KAFKA_PROTOCOL},CONTROLLER:SASL_PLAINTEXT"
        ),
        **kafka_security_properties(profile),
        "log.dirs": str(profile.kafka_node_dir(node) / "data"),
        "num.partitions": "1",
        "auto.create.topics.enable": "true",
        "default.replication.factor": replicas,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        # Fewer internal partitions: less memory and a faster first consumer group.
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.num.partitions": "5",
        "group.initial.rebalance.delay.ms": "0",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def kafka_security_properties(profile: Profile) -> dict[str, str]:
    """SCRAM over TLS for every client, the nodes among themselves as the super user, and
    ACLs (infra.acls) for everyone else. KRaft cannot check SCRAM on the controller
    listener (its credentials live in the metadata the controller serves), so that one, on
    loopback only, takes PLAIN with the super user's password."""
    passwords = profile.kafka_passwords()
    password = passwords.get(KAFKA_ADMIN, "")
    scram = f'username="{KAFKA_ADMIN}" password="{password}";'
    plain = f'username="{KAFKA_ADMIN}" password="{password}" user_{KAFKA_ADMIN}="{password}";'
    # PLAIN (over TLS) too, for librdkafka clients such as Debian's kcat, whose SCRAM this
    # broker refuses; the ACLs are the same whichever mechanism a principal logs in with.
    plain_users = " ".join(f'user_{name}="{secret}"' for name, secret in passwords.items())
    listener = KAFKA_PROTOCOL.lower()
    return {
        "sasl.enabled.mechanisms": f"{KAFKA_MECHANISM},PLAIN",
        f"listener.name.{listener}.plain.sasl.jaas.config": (
            f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};"
        ),
        "sasl.mechanism.inter.broker.protocol": KAFKA_MECHANISM,
        f"listener.name.{listener}.scram-sha-512.sasl.jaas.config": (
            f"org.apache.kafka.common.security.scram.ScramLoginModule required {scram}"
        ),
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": (
            f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain}"
        ),
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(profile.kafka_broker_pem),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(profile.kafka_ca_file),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{KAFKA_ADMIN}",
    }


def compose_kafka_files(passwords: Mapping[str, str]) -> dict[str, str]:
    """What docker-compose.yml reads from .run/compose: the broker's JAAS settings (the
    official image turns KAFKA_A_B__C into a.b_c), one env file per principal, and the
    super user's client properties for the broker's health check.

    The official image formats its storage itself, without SCRAM credentials, so compose's
    broker takes SASL PLAIN over TLS; the principals and ACLs are the same as locally."""
    admin = passwords[KAFKA_ADMIN]
    users = " ".join(f'user_{name}="{secret}"' for name, secret in passwords.items())
    jaas = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{KAFKA_ADMIN}" password="{admin}" {users};'
    )
    files = {
        "kafka.env": render_env_file(
            {
                f"KAFKA_LISTENER_NAME_{listener}_PLAIN_SASL_JAAS_CONFIG": jaas
                for listener in ("SASL__SSL", "HOST", "CONTROLLER")
            }
        ),
        "kafka-secrets/admin-client.properties": (
            "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n"
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule "
            f'required username="{KAFKA_ADMIN}" password="{admin}";\n'
            "ssl.truststore.type=PEM\nssl.truststore.location=/secrets/ca.pem\n"
        ),
    }
    for name, secret in passwords.items():
        files[f"{name}.env"] = render_env_file(
            {"KAFKA_SASL_USERNAME": name, "KAFKA_SASL_PASSWORD": secret}
        )
    return files


def postgres_settings(profile: Profile) -> dict[str, str]:
    """Server settings passed as `-c` options, so a changed profile applies at next start."""
    settings = {
        "port": str(profile.postgres_port),
        "listen_addresses": LOOPBACK,
        # TCP only: no socket file to place where the postgres user may not write.
        "unix_socket_directories": "",
        "shared_buffers": "32MB",
        "max_connections": "200",
    }
    if not profile.durable:
        settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
    if profile.counts_statements:
        settings["shared_preload_libraries"] = "pg_stat_statements"
    return settings


# Trust, but only for loopback TCP: the cluster listens nowhere else anyway.
PG_HBA = (
    "# Written by infra.local: passwordless access from this machine only.\n"
    f"host all all {LOOPBACK}/32 trust\n"
)


def jaeger_config(profile: Profile) -> str:
    """Jaeger v2 (an OpenTelemetry Collector) with OTLP/HTTP in, traces kept in memory, and
    its query API and UI; every port on loopback and distinct per profile. The Go module
    carries no UI assets, so Jaeger serves the repo's own trace UI (infra/jaeger/ui)."""
    ui_assets = profile.root / "infra" / "jaeger" / "ui"
    return f"""\
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn

extensions:
  jaeger_storage:
    backends:
      memory_store:
        memory:
          max_traces: 50000
  jaeger_query:
    storage:
      traces: memory_store
    ui:
      assets_path: "{ui_assets}"
    http:
      endpoint: {LOOPBACK}:{profile.traces_ui_port}
    grpc:
      endpoint: {LOOPBACK}:{profile.traces_grpc_port}

receivers:
  otlp:
    protocols:
      http:
        endpoint: {LOOPBACK}:{profile.otlp_port}

processors:
  batch:
    timeout: 200ms

exporters:
  jaeger_storage_exporter:
    trace_storage: memory_store
"""
