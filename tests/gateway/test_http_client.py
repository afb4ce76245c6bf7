"""The pool the gateway calls the services through tells a service that is down from one
that is slow, as the gateway's 503 and 504 need, on real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from shared.http_client import pooled_transport
from tests.support.services import free_port


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and reads requests, and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_a_refused_connection_is_a_connect_error_not_a_timeout() -> None:
    async with httpx.AsyncClient(transport=pooled_transport(), timeout=5) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{free_port()}/health")


async def test_a_server_that_does_not_answer_is_a_timeout(silent_server: str) -> None:
    async with httpx.AsyncClient(transport=pooled_transport(), timeout=0.3) as client:
        with pytest.raises(httpx.TimeoutException):
            await client.get(f"{silent_server}/health")


async def test_answers_come_back_whole_over_reused_connections() -> None:
    body = b"x" * 100_000  # more than one of the transport's chunks

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with httpx.AsyncClient(transport=pooled_transport(), timeout=5) as client:
            for _ in range(3):
                response = await client.get(url)
                assert response.status_code == 200
                assert response.content == body
    finally:
        server.close()
