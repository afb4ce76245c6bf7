"""Settings every service shares, read from the environment (12-factor)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.registry import DEFAULT_REGISTRY, REPO_ROOT, SERVICE_URN

# Keys committed to the repository for the local alliance: anyone can read them.
DEVELOPMENT_SECRETS = REPO_ROOT / "alliance" / "demo-secrets"
DEVELOPMENT_JWKS = REPO_ROOT / "alliance" / "dev-idp" / "jwks.json"


class DevelopmentKeysRefused(RuntimeError):
    """A service was configured with committed keys outside a local alliance."""


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    service_name: str
    # The consumer group, inbox owner and dead-letter topic prefix; the service name unless
    # several independent copies share one broker (as the tests do).
    consumer_name: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # SQLite is the zero-setup fallback; `make run`, the tests and compose use PostgreSQL.
    database_url: str = ""
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    alliance_registry: Path = DEFAULT_REGISTRY
    signing_key_file: Path | None = None
    signing_key_id: str | None = None
    # Public base URL of this service, for links in API answers.
    public_base_url: str = ""
    # The identity provider whose tokens the API accepts; by default the development one,
    # whose public keys are committed (alliance/dev-idp/jwks.json).
    oidc_issuer: str = "http://127.0.0.1:8000/dev-idp"
    oidc_audience: str = "alliance"
    oidc_jwks_url: str = DEVELOPMENT_JWKS.as_uri()
    dev_idp_enabled: bool = False
    # Only a local alliance (make run, the tests, the benchmark) may trust tokens or sign
    # events and credentials with the committed development keys; anything else refuses to
    # start until it is given its own.
    allow_development_keys: bool = False
    otel_exporter_otlp_endpoint: str | None = None
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|text)$")

    # A commit in this process wakes the relay at once; the poll only finds rows written by
    # another process on the same database.
    outbox_poll_interval_s: float = 1.0
    outbox_batch_size: int = 200
    # On a busy stream (events committed while the last batch went out, records come while
    # the last poll was applied) the relay waits this long after a wake for the commits close
    # behind, and a consumer takes what comes meanwhile into its poll: fewer, larger claims,
    # transactions and offset commits (`make bench`, see the README's sixteenth round). A
    # quiet stream's event goes on at once. 0 turns either off.
    outbox_linger_s: float = Field(default=0.01, ge=0)
    consumer_linger_s: float = Field(default=0.01, ge=0)
    # What one fetch brings of each partition (about 120 events of 1 KiB); a poll takes all
    # that the consumer holds and applies it in time order, in one transaction.
    consumer_partition_fetch_bytes: int = 128 * 1024
    consumer_max_attempts: int = 5
    consumer_backoff_initial_s: float = 0.2
    consumer_backoff_max_s: float = 5.0
    # How long an event may wait for a fact it depends on (an enrolment for a result, ...)
    # before it is dead-lettered; a replaying service catches up well within it.
    deferral_max_wait_s: float = Field(default=3600.0, gt=0)

    def development_keys_in_use(self) -> list[str]:
        """The settings that make this service trust or use a committed key."""
        found = []
        if self.oidc_jwks_url == DEVELOPMENT_JWKS.as_uri():
            found.append("OIDC_JWKS_URL")
        if self.dev_idp_enabled:
            found.append("DEV_IDP_ENABLED")
        if self.resolved_signing_key_file.resolve().is_relative_to(DEVELOPMENT_SECRETS):
            found.append("SIGNING_KEY_FILE")
        return found

    def refuse_development_keys(self) -> None:
        in_use = self.development_keys_in_use()
        if in_use and not self.allow_development_keys:
            raise DevelopmentKeysRefused(
                f"{self.service_name}: {', '.join(in_use)} left at the development keys "
                "committed to the repository, which anyone can read: configure this "
                "deployment's own, or set ALLOW_DEVELOPMENT_KEYS=true for a local alliance"
            )

    @property
    def resolved_consumer_name(self) -> str:
        return self.consumer_name or self.service_name

    @property
    def source(self) -> str:
        return SERVICE_URN + self.service_name

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        db_file = REPO_ROOT / ".run" / "sqlite" / f"{self.service_name}.db"
        db_file.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{db_file}"

    @property
    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or DEVELOPMENT_SECRETS / f"{self.service_name}.pem"

    @property
    def resolved_signing_key_id(self) -> str:
        return self.signing_key_id or f"{self.service_name}-2026-1"

    @property
    def resolved_public_base_url(self) -> str:
        return self.public_base_url or f"http://{self.http_host}:{self.http_port}"


# The moments at which the fault suite makes the outbox relay kill its own process.
FaultMoment = Literal["after-commit-before-publish", "after-ack-before-mark"]


class FaultSettings(BaseSettings):
    """Fault injection that only the fault suite (`make faults`) enables: the outbox relay
    kills its process with SIGKILL at `fault_injection` once it has published
    `fault_after_published` rows. Unset, as everywhere else, it does nothing."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    fault_injection: FaultMoment | None = None
    fault_after_published: int = 0
