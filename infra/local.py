"""Run the local infrastructure (Kafka, PostgreSQL, Jaeger) and the services, per profile.

    python -m infra.local start          [--profile run|test]
    python -m infra.local stop           [--profile run|test|all]
    python -m infra.local status         [--profile run|test|all]
    python -m infra.local reset          [--profile run|test|all]
    python -m infra.local services-start [--profile run|test] [NAME ...]
    python -m infra.local services-stop  [--profile run|test|all] [NAME ...]
    python -m infra.local urls           [--profile run|test]
    python -m infra.local compose-secrets                  (for docker-compose.yml)

KAFKA_BROKERS=3 in the environment starts (and addresses) a three-node KRaft cluster.

Progress goes to stderr; `start` prints only the environment (KEY=VALUE, passwords left
out) on stdout, and writes it whole to .run/<profile>/env. `status` exits 0 when Kafka and
PostgreSQL of every selected profile run, 3 otherwise. Stdlib only, so it runs before the
venv exists, except where the broker's first start reads the alliance registry for its
principals.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import fcntl
import functools
import glob
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from infra.processes import InfraError, KafkaLogin, Managed, http_ok, kafka_ready, port_open
from infra.profiles import (
    DATABASES,
    KAFKA_ADMIN,
    KAFKA_MECHANISM,
    MAX_KAFKA_BROKERS,
    PG_HBA,
    PROFILES,
    SERVICES,
    Profile,
    Service,
    compose_kafka_files,
    jaeger_config,
    kafka_properties,
    postgres_settings,
    render_env_file,
)

KAFKA_HEAP = "-Xmx512m"
READY_TIMEOUT = 60.0
SERVICE_READY_PATH = "/health/ready"
# `status` exits with this when Kafka or PostgreSQL is down (the LSB code for "not running").
STATUS_NOT_RUNNING = 3


def say(profile: Profile, message: str) -> None:
    print(f"[{profile.name}] {message}", file=sys.stderr, flush=True)


def failure(part: str, managed: Managed, why: str) -> InfraError:
    return InfraError(
        f"{part} {why}\n--- last lines of {managed.log_file} ---\n{managed.log_tail()}"
    )


def wait_until(
    ready: Callable[[], bool], managed: Managed, part: str, timeout: float = READY_TIMEOUT
) -> None:
    """Poll `ready`; fail early, with the log, if the process dies while we wait."""
    deadline = time.monotonic() + timeout
    while not ready():
        if managed.exited():
            raise failure(part, managed, "exited during start-up")
        if time.monotonic() > deadline:
            raise failure(part, managed, f"not ready after {timeout:.0f} s")
        time.sleep(0.2)


def require_free(profile: Profile, part: str, *ports: int) -> None:
    busy = [port for port in ports if port_open(port)]
    if busy:
        raise InfraError(
            f"{part}: port {', '.join(map(str, busy))} is taken by a process infra.local did "
            f"not start for profile {profile.name!r}; stop it or free the port"
        )


@contextlib.contextmanager
def profile_lock(profile: Profile) -> Iterator[None]:
    """Serialise start/stop of one profile (parallel test sessions may race to start it)."""
    profile.run_dir.mkdir(parents=True, exist_ok=True)
    with (profile.run_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# --- Kafka ------------------------------------------------------------------------------


def kafka_process(profile: Profile, node: int = 0) -> Managed:
    name = profile.kafka_node_dir(node).name
    return Managed(
        name=name,
        pid_file=profile.pids_dir / f"{name}.pid",
        log_file=profile.logs_dir / f"{name}.log",
        marker=str(profile.kafka_node_dir(node) / "server.properties"),
    )


def kafka_cluster_id() -> str:
    """A Kafka-style Uuid (URL-safe base64, no padding); a leading '-' confuses CLI parsers."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def java_command(profile: Profile, main: str, *args: str) -> list[str]:
    java = shutil.which("java")
    if java is None:
        raise InfraError("kafka: `java` not found; run `make setup`")
    if not any(profile.kafka_lib.glob("kafka_*.jar")):
        raise InfraError(f"kafka: no broker classpath in {profile.kafka_lib}; run `make setup`")
    return [
        java,
        KAFKA_HEAP,
        "-XX:+UseSerialGC",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        "-Dorg.slf4j.simpleLogger.showDateTime=true",
        "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd HH:mm:ss,SSS",
        "-cp",
        f"{profile.kafka_lib}/*",
        main,
        *args,
    ]


def make_kafka_secrets(profile: Profile) -> None:
    """Every principal's password, a CA and the broker's certificate, made once per profile
    (in .run/, never committed). A broker formatted before it had principals knows none of
    them, so its storage is formatted again."""
    if profile.kafka_credentials_file.exists():
        return
    from infra.acls import principals  # the registry needs the venv; only this step does
    from shared.registry import AllianceRegistry

    stop_kafka(profile)
    for node in range(MAX_KAFKA_BROKERS):
        shutil.rmtree(profile.kafka_node_dir(node) / "data", ignore_errors=True)
    secrets_dir = profile.kafka_secrets_dir
    secrets_dir.mkdir(parents=True, exist_ok=True)
    secrets_dir.chmod(0o700)
    say(profile, f"kafka: making credentials and a local CA in {secrets_dir}")
    make_certificates(secrets_dir, profile)
    passwords = {name: secrets.token_hex(24) for name in principals(AllianceRegistry.load())}
    written = secrets_dir / "credentials.json.tmp"
    written.write_text(json.dumps(passwords, indent=2))
    written.chmod(0o600)
    written.replace(profile.kafka_credentials_file)


def make_certificates(folder: Path, profile: Profile) -> None:
    """A CA and a broker certificate for loopback (and `kafka`, compose's host name)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise InfraError("kafka: `openssl` not found; run `make setup`")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    steps = [
        [openssl, "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
         "-subj", "/CN=Alliance local Kafka CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        [openssl, "req", *ec, "-keyout", "broker.key", "-out", "broker.csr",
         "-subj", "/CN=kafka"],
        [openssl, "x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "broker.crt", "-days", "825", "-extfile", "broker.ext"],
    ]  # fmt: skip
    (folder / "broker.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kafka\nextendedKeyUsage=serverAuth\n"
    )
    for argv in steps:
        run_logged(argv, kafka_process(profile), "kafka: making certificates", cwd=folder)
    # Kafka's PEM key store: the private key (PKCS#8) and then its certificate chain.
    broker = (folder / "broker.key").read_text() + (folder / "broker.crt").read_text()
    profile.kafka_broker_pem.write_text(broker)
    for leftover in ("broker.key", "broker.crt", "broker.csr", "broker.ext", "ca.srl"):
        (folder / leftover).unlink(missing_ok=True)


def kafka_login(profile: Profile) -> KafkaLogin:
    password = profile.kafka_passwords().get(KAFKA_ADMIN, "")
    return KafkaLogin(KAFKA_ADMIN, password, profile.kafka_ca_file)


def make_compose_secrets() -> Path:
    """The credentials and certificates docker-compose.yml mounts, made on this machine
    into .run/compose (once; never committed); returns the folder."""
    profile = dataclasses.replace(PROFILES["run"], name="compose")
    make_kafka_secrets(profile)
    for name, text in compose_kafka_files(profile.kafka_passwords()).items():
        (profile.run_dir / name).write_text(text)
    # The containers run as their images' own users, not as this one.
    for path in (profile.kafka_secrets_dir, *profile.run_dir.glob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    for path in profile.kafka_secrets_dir.glob("*"):
        path.chmod(0o644)
    (profile.kafka_secrets_dir / "ca.key").chmod(0o600)  # no container needs it
    return profile.run_dir


def start_kafka(profile: Profile) -> None:
    """Start (or reuse) every KRaft node of the profile, then wait until each serves."""
    make_kafka_secrets(profile)
    cluster_id = existing_cluster_id(profile) or kafka_cluster_id()
    for node in profile.kafka_nodes:
        start_kafka_node(profile, node, cluster_id)
    for node in profile.kafka_nodes:
        port = profile.kafka_node_ports(node)[0]
        # A node of a three-voter quorum serves only once a majority has started.
        wait_until(
            functools.partial(kafka_ready, port, kafka_login(profile)),
            kafka_process(profile, node),
            "kafka",
        )
    say(profile, f"kafka: ready on {profile.bootstrap_servers}")


def existing_cluster_id(profile: Profile) -> str | None:
    """The cluster id a formatted node already has: every node must carry the same."""
    for node in profile.kafka_nodes:
        meta = profile.kafka_node_dir(node) / "data" / "meta.properties"
        if meta.exists():
            for line in meta.read_text().splitlines():
                if line.startswith("cluster.id="):
                    return line.split("=", 1)[1].strip()
    return None


def start_kafka_node(profile: Profile, node: int, cluster_id: str) -> None:
    managed = kafka_process(profile, node)
    properties = profile.kafka_node_dir(node) / "server.properties"
    wanted = kafka_properties(profile, node)
    if (pid := managed.pid()) is not None:
        if properties.exists() and properties.read_text() == wanted:
            say(profile, f"{managed.name}: already running (pid {pid}), reusing it")
            return
        # Started by an older version of this file: its listeners would not be the ones
        # the environment hands out.
        say(profile, f"{managed.name}: configuration changed, restarting")
        managed.stop(signal.SIGTERM)
    require_free(profile, managed.name, *profile.kafka_node_ports(node))
    properties.parent.mkdir(parents=True, exist_ok=True)
    properties.write_text(wanted)
    properties.chmod(0o600)  # it holds the super user's password
    if not (profile.kafka_node_dir(node) / "data" / "meta.properties").exists():
        say(profile, f"{managed.name}: formatting storage (first start)")
        scram = [
            arg
            for name, password in profile.kafka_passwords().items()
            for arg in ("--add-scram", f"{KAFKA_MECHANISM}=[name={name},password={password}]")
        ]
        format_cmd = java_command(
            profile,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(properties),
            *scram,
        )
        run_logged(format_cmd, managed, f"{managed.name}: formatting storage")
    say(profile, f"{managed.name}: starting on 127.0.0.1:{profile.kafka_node_ports(node)[0]}")
    managed.spawn(java_command(profile, "kafka.Kafka", str(properties)))


def stop_kafka(profile: Profile) -> None:
    """Stops every node that runs, however many the profile is set to now."""
    for node in range(MAX_KAFKA_BROKERS):
        managed = kafka_process(profile, node)
        if managed.stop(signal.SIGTERM):
            say(profile, f"{managed.name}: stopped")
        elif node == 0:
            say(profile, f"{managed.name}: not running")


def run_logged(
    argv: Sequence[str],
    managed: Managed,
    what: str,
    user: str | None = None,
    cwd: Path | None = None,
) -> None:
    """Run a one-off command, its output appended to the part's log; fail with the tail."""
    managed.log_file.parent.mkdir(parents=True, exist_ok=True)
    with managed.log_file.open("ab") as log:
        result = subprocess.run(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            user=user,
            group=user,
            extra_groups=[] if user is not None else None,
            check=False,
        )
    if result.returncode != 0:
        raise failure(what, managed, f"failed (exit {result.returncode})")


# --- PostgreSQL -------------------------------------------------------------------------


def postgres_user() -> str | None:
    """PostgreSQL refuses to run as root: then it runs as the `postgres` system user."""
    return "postgres" if os.geteuid() == 0 else None


def postgres_process(profile: Profile, home: Path) -> Managed:
    return Managed(
        name="postgres",
        pid_file=profile.pids_dir / "postgres.pid",
        log_file=profile.logs_dir / "postgres.log",
        marker=str(home / "data"),
    )


def postgres_bin(data: Path) -> Path:
    """The server binaries, matching the cluster's version when one exists."""
    candidates = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/postgres")),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if not candidates and (on_path := shutil.which("postgres")):
        # Resolved: a symlink on PATH may point into a folder that has the other tools.
        candidates.append(Path(on_path).resolve().parent)
    version_file = data / "PG_VERSION"
    if version_file.exists():
        version = version_file.read_text().strip()
        matching = [c for c in candidates if c.parent.name == version]
        if matching:
            return matching[-1]
    for candidate in reversed(candidates):
        if all((candidate / tool).exists() for tool in ("initdb", "pg_isready", "psql")):
            return candidate
    raise InfraError(
        "postgres: server binaries (initdb, postgres, pg_isready, psql) not found; run `make setup`"
    )


def postgres_home(profile: Profile, user: str | None) -> Path:
    """Where the cluster lives: .run/<profile>/postgres, unless the postgres user cannot
    reach into the repo (a clone under /root, say); then a folder under /var/tmp, linked."""
    link = profile.postgres_link
    if link.is_symlink():
        home = link.resolve()
    elif link.is_dir() or user is None or reachable_by(user, profile.run_dir):
        home = link
    else:
        digest = hashlib.sha256(str(profile.root).encode()).hexdigest()[:12]
        home = Path("/var/tmp") / f"alliance-postgres-{digest}" / profile.name  # noqa: S108
        home.parent.mkdir(parents=True, exist_ok=True)
        home.parent.chmod(0o755)  # a strict umask must not lock the postgres user out
        link.symlink_to(home)
    home.mkdir(parents=True, exist_ok=True)
    if user is not None:
        shutil.chown(home, user, user)
    return home


def reachable_by(user: str, path: Path) -> bool:
    probe = subprocess.run(
        ["test", "-x", str(path)], user=user, group=user, extra_groups=[], check=False
    )
    return probe.returncode == 0


def start_postgres(profile: Profile) -> None:
    user = postgres_user()
    profile.run_dir.mkdir(parents=True, exist_ok=True)
    home = postgres_home(profile, user)
    data = home / "data"
    managed = postgres_process(profile, home)
    bin_dir = postgres_bin(data)
    if (pid := managed.pid()) is not None:
        say(profile, f"postgres: already running (pid {pid}), reusing it")
    else:
        require_free(profile, "postgres", profile.postgres_port)
        if not (data / "PG_VERSION").exists():
            say(profile, "postgres: creating the cluster (first start)")
            # A half-made cluster from an interrupted initdb would make initdb refuse.
            shutil.rmtree(data, ignore_errors=True)
            initdb = [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ]
            run_logged(initdb, managed, "postgres: initdb", user=user)
            (data / "pg_hba.conf").write_text(PG_HBA)
        settings = postgres_settings(profile)
        argv = [str(bin_dir / "postgres"), "-D", str(data)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        say(profile, f"postgres: starting on 127.0.0.1:{profile.postgres_port}")
        managed.spawn(argv, user=user)

    def ready() -> bool:
        probe = subprocess.run(
            [
                str(bin_dir / "pg_isready"),
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                str(profile.postgres_port),
                # Without a user it tries the caller's login, which the server logs as FATAL.
                "-U",
                "postgres",
                "-d",
                "postgres",
            ],
            check=False,
        )
        return probe.returncode == 0

    wait_until(ready, managed, "postgres")
    create_databases(profile, bin_dir, managed)
    say(profile, f"postgres: ready on 127.0.0.1:{profile.postgres_port}")


def create_databases(profile: Profile, bin_dir: Path, managed: Managed) -> None:
    psql = [
        str(bin_dir / "psql"),
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        "127.0.0.1",
        "-p",
        str(profile.postgres_port),
        "-U",
        "postgres",
        "-d",
        "postgres",
    ]
    listing = subprocess.run(
        [*psql, "-Atc", "SELECT datname FROM pg_database"],
        capture_output=True,
        text=True,
        check=False,
    )
    if listing.returncode != 0:
        raise failure("postgres", managed, f"cannot list databases: {listing.stderr.strip()}")
    existing = set(listing.stdout.split())
    for database in DATABASES:
        if database in existing:
            continue
        created = subprocess.run(
            [*psql, "-c", f'CREATE DATABASE "{database}"'],
            capture_output=True,
            text=True,
            check=False,
        )
        if created.returncode != 0:
            raise failure("postgres", managed, f"cannot create {database}: {created.stderr}")
        say(profile, f"postgres: created database {database}")


def find_postgres(profile: Profile) -> Managed:
    """The postgres process record, without creating anything on disk."""
    link = profile.postgres_link
    return postgres_process(profile, link.resolve() if link.is_symlink() else link)


# --- Jaeger (the trace backend) ---------------------------------------------------------


def jaeger_process(profile: Profile) -> Managed:
    return Managed(
        name="jaeger",
        pid_file=profile.pids_dir / "jaeger.pid",
        log_file=profile.logs_dir / "jaeger.log",
        marker=str(profile.jaeger_dir / "config.yaml"),
    )


def start_jaeger(profile: Profile) -> None:
    managed = jaeger_process(profile)
    if (pid := managed.pid()) is not None:
        say(profile, f"jaeger: already running (pid {pid}), reusing it")
    else:
        if not profile.jaeger_binary.exists():
            raise InfraError(f"jaeger: no binary at {profile.jaeger_binary}; run `make setup`")
        require_free(
            profile, "jaeger", profile.otlp_port, profile.traces_ui_port, profile.traces_grpc_port
        )
        config = profile.jaeger_dir / "config.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(jaeger_config(profile))
        say(profile, f"jaeger: starting (OTLP {profile.otlp_endpoint}, UI {profile.traces_url})")
        # Jaeger would trace itself to an OTLP endpoint on the default port: not here.
        quiet = {**os.environ, "OTEL_TRACES_EXPORTER": "none", "OTEL_SDK_DISABLED": "true"}
        managed.spawn([str(profile.jaeger_binary), "--config", str(config)], env=quiet)
    wait_until(lambda: http_ok(profile.traces_url + "/api/services"), managed, "jaeger")
    say(profile, f"jaeger: ready at {profile.traces_url}")


# --- Infrastructure as a whole ----------------------------------------------------------


def start_infra(profile: Profile) -> dict[str, str]:
    """Start (or reuse) Kafka, PostgreSQL and Jaeger; return and write the profile's
    environment."""
    with profile_lock(profile):
        # All start in parallel: each spends most of its time waiting on its own process.
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {
                "kafka": pool.submit(start_kafka, profile),
                "postgres": pool.submit(start_postgres, profile),
            }
            # Traces are an aid, not a dependency: without a built Jaeger the rest still runs.
            if profile.jaeger_binary.exists():
                futures["jaeger"] = pool.submit(start_jaeger, profile)
            else:
                say(profile, f"jaeger: not built ({profile.jaeger_binary}); run `make setup`")
        errors = [
            str(error) if isinstance(error, InfraError) else f"{part}: {error!r}"
            for part, future in futures.items()
            if (error := future.exception()) is not None
        ]
        if errors:
            raise InfraError("\n\n".join(errors))
        env = profile.infra_env()
        profile.env_file.write_text(render_env_file(env))
        profile.env_file.chmod(0o600)  # it holds the super user's password
        return env


def stop_infra(profile: Profile) -> None:
    """Stop the services, then Kafka, PostgreSQL and Jaeger: nothing of the profile keeps
    running."""
    with profile_lock(profile):
        stop_services(profile, SERVICES)
        stop_kafka(profile)
        for managed, graceful in (
            (jaeger_process(profile), signal.SIGTERM),
            # SIGTERM would wait for every client to leave; SIGINT is the fast shutdown.
            (find_postgres(profile), signal.SIGINT),
        ):
            if managed.stop(graceful):
                say(profile, f"{managed.name}: stopped")
            else:
                say(profile, f"{managed.name}: not running")


def reset(profile: Profile) -> None:
    stop_infra(profile)
    link = profile.postgres_link
    if link.is_symlink():
        outside = link.resolve()
        shutil.rmtree(outside, ignore_errors=True)
        with contextlib.suppress(OSError):  # shared by the profiles: only when empty
            outside.parent.rmdir()
    shutil.rmtree(profile.run_dir, ignore_errors=True)
    say(profile, f"reset: removed {profile.run_dir}")


def infra_running(profile: Profile) -> bool:
    return kafka_process(profile).pid() is not None and find_postgres(profile).pid() is not None


# --- Services ---------------------------------------------------------------------------


def service_process(profile: Profile, service: Service) -> Managed:
    return Managed(
        name=service.name,
        pid_file=profile.pids_dir / f"{service.name}.pid",
        log_file=profile.logs_dir / f"{service.name}.log",
        marker=f"-m {service.module}",
    )


def service_python(profile: Profile) -> str:
    """The project's venv interpreter: this CLI is stdlib-only and may run under another."""
    venv_python = profile.root / ".venv" / "bin" / "python"
    return str(venv_python) if venv_python.exists() else sys.executable


def start_services(
    profile: Profile,
    services: Sequence[Service],
    base_env: Mapping[str, str],
    timeout: float = READY_TIMEOUT,
) -> None:
    """Start (or reuse) each service, then wait for all of them to answer /health/ready.

    On failure the services started by this call are stopped again, so a failed start
    leaves nothing half-running; the error names the service and shows its log.
    """
    started: list[Service] = []
    try:
        for service in services:
            managed = service_process(profile, service)
            port = profile.service_port(service)
            if (pid := managed.pid()) is not None:
                say(profile, f"{service.name}: already running (pid {pid}), reusing it")
                continue
            require_free(profile, service.name, port)
            say(profile, f"{service.name}: starting `python -m {service.module}` on port {port}")
            managed.spawn(
                [service_python(profile), "-m", service.module],
                env=profile.service_env(service, base_env),
                cwd=profile.root,
            )
            started.append(service)
        wait_for_services(profile, services, timeout)
    except BaseException:
        stop_services(profile, started)
        raise


def wait_for_services(profile: Profile, services: Sequence[Service], timeout: float) -> None:
    pending = list(services)
    deadline = time.monotonic() + timeout
    while pending:
        for service in list(pending):
            managed = service_process(profile, service)
            if http_ok(profile.service_url(service) + SERVICE_READY_PATH):
                say(profile, f"{service.name}: ready at {profile.service_url(service)}")
                pending.remove(service)
            elif managed.exited():
                raise failure(service.name, managed, "exited during start-up")
        if pending and time.monotonic() > deadline:
            raise InfraError(
                "\n\n".join(
                    str(
                        failure(
                            s.name,
                            service_process(profile, s),
                            f"did not answer {SERVICE_READY_PATH} with 200 within {timeout:.0f} s",
                        )
                    )
                    for s in pending
                )
            )
        if pending:
            time.sleep(0.3)


def stop_services(profile: Profile, services: Sequence[Service]) -> None:
    for service in reversed(services):
        if service_process(profile, service).stop(signal.SIGTERM, timeout=15):
            say(profile, f"{service.name}: stopped")


# --- Reporting --------------------------------------------------------------------------


def status_lines(profile: Profile) -> list[str]:
    def line(name: str, managed: Managed, where: str, up: Callable[[], bool]) -> str:
        pid = managed.pid()
        if pid is None:
            return f"  {name:<12} stopped"
        return f"  {name:<12} pid {pid:<8} {where:<24} {'ready' if up() else 'NOT READY'}"

    lines = [
        f"profile {profile.name} ({profile.run_dir})",
        *(
            line(
                kafka_process(profile, node).name,
                kafka_process(profile, node),
                f"127.0.0.1:{profile.kafka_node_ports(node)[0]}",
                functools.partial(
                    kafka_ready, profile.kafka_node_ports(node)[0], kafka_login(profile)
                ),
            )
            for node in profile.kafka_nodes
        ),
        line(
            "postgres",
            find_postgres(profile),
            f"127.0.0.1:{profile.postgres_port}",
            lambda: port_open(profile.postgres_port),
        ),
        line(
            "jaeger",
            jaeger_process(profile),
            profile.traces_url,
            functools.partial(http_ok, profile.traces_url + "/api/services"),
        ),
    ]
    for service in SERVICES:
        url = profile.service_url(service)
        lines.append(
            line(
                service.name,
                service_process(profile, service),
                url,
                functools.partial(http_ok, url + SERVICE_READY_PATH),
            )
        )
    return lines


def url_lines(profile: Profile) -> list[str]:
    gateway = next(s for s in SERVICES if s.name == "gateway")
    base = profile.service_url(gateway)
    lines = [f"Gateway:        {base}", f"Gateway docs:   {base}/docs"]
    for service in SERVICES:
        if service is gateway:
            continue
        url = profile.service_url(service)
        lines.append(f"{service.name + ':':<15} {url}/docs   {url}/asyncapi")
    traces = profile.traces_url
    lines.append(f"Traces:         {traces}   (Jaeger; query API {traces}/api/traces)")
    lines.append(f"Logs:           {profile.logs_dir}")
    return lines


# --- Command line -----------------------------------------------------------------------


def select_services(names: Sequence[str]) -> list[Service]:
    if not names:
        return list(SERVICES)
    known = {s.name: s for s in SERVICES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InfraError(f"unknown service {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]


def profiles_named(name: str) -> list[Profile]:
    """The profiles, with KAFKA_BROKERS (1 or 3, `make run KAFKA_BROKERS=3`) applied."""
    brokers = int(os.environ.get("KAFKA_BROKERS") or 1)
    if brokers not in (1, MAX_KAFKA_BROKERS):
        raise InfraError(f"KAFKA_BROKERS must be 1 or {MAX_KAFKA_BROKERS}, not {brokers}")
    chosen = list(PROFILES.values()) if name == "all" else [PROFILES[name]]
    return [dataclasses.replace(profile, kafka_brokers=brokers) for profile in chosen]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    commands = parser.add_subparsers(dest="command", required=True)
    one = list(PROFILES)
    many = [*PROFILES, "all"]

    def command(
        name: str, help_text: str, choices: list[str], default: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--profile", choices=choices, default=default)
        return sub

    command(
        "start", "start Kafka and PostgreSQL, create the databases, write the env file", one, "run"
    )
    command("stop", "stop the services, Kafka and PostgreSQL", many, "run")
    command("status", "show what runs", many, "all")
    command("reset", "stop everything and delete the profile's data", many, "run")
    command("urls", "print the service URLs", one, "run")
    commands.add_parser("compose-secrets", help="make docker-compose.yml's Kafka credentials")
    for name, help_text, choices in (
        ("services-start", "start the services and wait until ready", one),
        ("services-stop", "stop the services", many),
    ):
        sub = command(name, help_text, choices, "run")
        sub.add_argument("names", nargs="*", metavar="NAME", help="services (default: all)")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    """Carry out one command; its exit status."""
    if args.command == "compose-secrets":
        print(make_compose_secrets())
        return 0
    profiles = profiles_named(args.profile)
    if args.command == "start":
        env = start_infra(profiles[0])
        say(profiles[0], f"environment written to {profiles[0].env_file}")
        # Passwords stay in the env file (owner-only), out of terminals and CI logs.
        shown = {k: "<in the env file>" if "PASSWORD" in k else v for k, v in env.items()}
        print(render_env_file(shown), end="")
    elif args.command == "stop":
        for profile in profiles:
            stop_infra(profile)
    elif args.command == "reset":
        for profile in profiles:
            reset(profile)
    elif args.command == "status":
        for profile in profiles:
            print("\n".join(status_lines(profile)))
        if not all(infra_running(profile) for profile in profiles):
            return STATUS_NOT_RUNNING
    elif args.command == "urls":
        print("\n".join(url_lines(profiles[0])))
    elif args.command == "services-start":
        profile = profiles[0]
        if not infra_running(profile):
            raise InfraError(
                f"Kafka and PostgreSQL of profile {profile.name!r} are not running; "
                f"run `python -m infra.local start --profile {profile.name}` first"
            )
        start_services(profile, select_services(args.names), os.environ)
    elif args.command == "services-stop":
        for profile in profiles:
            stop_services(profile, select_services(args.names))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except InfraError as error:
        print(f"infra.local: ERROR: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
