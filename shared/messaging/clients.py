"""How every Kafka client of the project connects, and the clients it builds outside FastStream.

The connection settings come from the environment, read here and nowhere else:

    KAFKA_SECURITY_PROTOCOL   PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL
    KAFKA_SASL_MECHANISM      SCRAM-SHA-512 (default)
    KAFKA_SASL_USERNAME       the principal this process connects as
    KAFKA_SASL_PASSWORD
    KAFKA_SSL_CAFILE          the CA that signed the broker's certificate (PEM)
    KAFKA_SSL_CERTFILE        a client certificate and key for mutual TLS (PEM, optional)
    KAFKA_SSL_KEYFILE
    KAFKA_CREDENTIALS_FILE    a local alliance's JSON {principal: password}: only tools that
                              act for several partners (demo loader, tests, benchmark) get it
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

DEFAULT_MECHANISM = "SCRAM-SHA-512"


class KafkaCredentialsMissing(RuntimeError):
    """A client was asked to connect as a principal whose password it was not given."""


def _credentials(principal: str | None, environ: Mapping[str, str]) -> tuple[str, str]:
    username = environ.get("KAFKA_SASL_USERNAME", "")
    if principal is None or principal == username:
        if not username:
            raise KafkaCredentialsMissing(
                "KAFKA_SECURITY_PROTOCOL asks for SASL but KAFKA_SASL_USERNAME is not set"
            )
        return username, environ.get("KAFKA_SASL_PASSWORD", "")
    known_file = environ.get("KAFKA_CREDENTIALS_FILE")
    known: dict[str, str] = json.loads(Path(known_file).read_text()) if known_file else {}
    if principal not in known:
        raise KafkaCredentialsMissing(
            f"no Kafka credentials for principal {principal!r}: set KAFKA_SASL_USERNAME and "
            "KAFKA_SASL_PASSWORD to that principal's"
        )
    return principal, known[principal]


def _ssl_context(environ: Mapping[str, str]) -> ssl.SSLContext:
    context: ssl.SSLContext = create_ssl_context(
        cafile=environ.get("KAFKA_SSL_CAFILE") or None,
        certfile=environ.get("KAFKA_SSL_CERTFILE") or None,
        keyfile=environ.get("KAFKA_SSL_KEYFILE") or None,
    )
    return context


def kafka_connection(
    principal: str | None = None, environ: Mapping[str, str] = os.environ
) -> dict[str, Any]:
    """aiokafka keyword arguments (security protocol, SASL, TLS) for a client of this process,
    connecting as `principal` (default: KAFKA_SASL_USERNAME)."""
    protocol = environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
    kwargs: dict[str, Any] = {"security_protocol": protocol}
    if protocol.startswith("SASL_"):
        username, password = _credentials(principal, environ)
        kwargs.update(
            sasl_mechanism=environ.get("KAFKA_SASL_MECHANISM", DEFAULT_MECHANISM),
            sasl_plain_username=username,
            sasl_plain_password=password,
        )
    if protocol in ("SSL", "SASL_SSL"):
        kwargs["ssl_context"] = _ssl_context(environ)
    return kwargs


def librdkafka_options(
    principal: str | None = None, environ: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """The same settings as librdkafka properties (kcat's `-X key=value`), for partners and
    tests that use a client outside Python. SASL is PLAIN, over TLS only: Debian's kcat
    (librdkafka 2.0.2) fails SCRAM against Kafka 4.1."""
    settings = kafka_connection(principal, environ)
    options = {"security.protocol": settings["security_protocol"].lower()}
    if "sasl_plain_username" in settings:
        if "ssl_context" not in settings:
            raise KafkaCredentialsMissing("a password is sent with SASL PLAIN over TLS only")
        options.update(
            {
                "sasl.mechanisms": "PLAIN",
                "sasl.username": settings["sasl_plain_username"],
                "sasl.password": settings["sasl_plain_password"],
            }
        )
    if environ.get("KAFKA_SSL_CAFILE"):
        options["ssl.ca.location"] = environ["KAFKA_SSL_CAFILE"]
    return options


def faststream_security(environ: Mapping[str, str] = os.environ) -> BaseSecurity | None:
    """The same settings as FastStream's KafkaRouter/KafkaBroker `security` object."""
    settings = kafka_connection(environ=environ)
    context = settings.get("ssl_context")
    use_ssl = context is not None
    if "sasl_plain_username" not in settings:
        return BaseSecurity(context, use_ssl=True) if use_ssl else None
    mechanisms: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
        "PLAIN": SASLPlaintext,  # docker-compose.yml's broker; over TLS only
        "SCRAM-SHA-256": SASLScram256,
        "SCRAM-SHA-512": SASLScram512,
    }
    return mechanisms[settings["sasl_mechanism"]](
        settings["sasl_plain_username"],
        settings["sasl_plain_password"],
        ssl_context=context,
        use_ssl=use_ssl,
    )


def producer(
    bootstrap: str, client_id: str | None = None, principal: str | None = None
) -> AIOKafkaProducer:
    kwargs = {"client_id": client_id} if client_id else {}
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        **kafka_connection(principal),
        **kwargs,
    )


class RawPublisher:
    """Publishes records byte for byte. FastStream's publish takes header values as text; a
    dead letter must keep the headers it arrived with, whatever their bytes or repeats."""

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def __call__(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        client = await self._client()
        await client.send_and_wait(topic, value, key=key, headers=headers)

    async def _client(self) -> AIOKafkaProducer:
        # Started on first use: most services never dead-letter anything.
        async with self._lock:
            if self._producer is None:
                client = producer(self._bootstrap, self._client_id)
                await client.start()  # a failed start leaves nothing behind to reuse
                self._producer = client
            return self._producer

    async def stop(self) -> None:
        async with self._lock:
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None
