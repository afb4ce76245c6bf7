"""Detached processes tracked by pid files, and the probes that tell when they are ready."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import signal
import socket
import ssl
import struct
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class InfraError(Exception):
    """A part of the infrastructure failed; the message says which and why."""


@dataclass(frozen=True)
class Managed:
    """A process we start detached and find again through its pid file.

    `marker` must appear in the process's command line: it guards against signalling an
    unrelated process that reused a stale pid (after a reboot, say).
    """

    name: str
    pid_file: Path
    log_file: Path
    marker: str

    def pid(self) -> int | None:
        """The pid if the process is running, else None (and a stale pid file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        cmdline = _cmdline(pid)
        if _alive(pid) and (cmdline is None or self.marker in cmdline):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def spawn(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
    ) -> int:
        """Start `argv` in its own session (it outlives us, and a signal reaches its group)."""
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.name}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=None if env is None else dict(env),
                cwd=cwd,
                user=user,
                group=user,
                extra_groups=[] if user is not None else None,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        return proc.pid

    def exited(self) -> bool:
        """Whether the process has died (reaping it first if it is our child)."""
        try:
            _reap(int(self.pid_file.read_text().strip()))
        except (FileNotFoundError, ValueError):
            return True
        return self.pid() is None

    def stop(self, graceful: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> bool:
        """Signal, wait up to `timeout`, then kill the whole group. False if nothing ran."""
        pid = self.pid()
        if pid is None:
            return False
        _signal(pid, graceful)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and group_alive(pid):
            _reap(pid)
            time.sleep(0.1)
        if group_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while group_alive(pid):
                _reap(pid)
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 30) -> str:
        return tail(self.log_file, lines)


def tail(path: Path, lines: int = 30) -> str:
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    # One JSON log line can hold a whole traceback; its end says most, so keep the end.
    width = 1000
    return "\n".join(
        line if len(line) <= width else "..." + line[-width:] for line in text.splitlines()[-lines:]
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); it is not running.
    return _proc_state(pid) != "Z"


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies awaiting a reaper do not)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _alive(pgid) or _group_has_live_members(pgid)


def _group_has_live_members(pgid: int) -> bool:
    if not Path("/proc").is_dir():
        return True
    return any(int(fields[2]) == pgid and fields[0] != "Z" for _, fields in process_stats())


def process_stats() -> Iterator[tuple[int, list[str]]]:
    """Each process's pid and the fields of its /proc/<pid>/stat after the command name
    (state, ppid, pgrp, ...); one that ends while being read is passed over."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        yield int(entry.name), fields


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return "?"


def _cmdline(pid: int) -> str | None:
    """The command line, "" if the process is gone, None if unknowable (no /proc)."""
    if not Path("/proc").is_dir():
        return None
    # It reads empty for a moment while the process execs (a fresh start, or a launcher
    # that re-execs itself); only a steady empty answer means it is not ours.
    for _ in range(10):
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            return ""
        if raw:
            return raw.replace(b"\0", b" ").decode(errors="replace")
        time.sleep(0.05)
    return ""


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own http URL)
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


# --- Kafka readiness without a client library -------------------------------------------
# Two requests of the Kafka wire protocol: ApiVersions v0 (every broker answers it) to learn
# which Metadata versions are on offer, then Metadata, which lists brokers only once the
# node has joined its own cluster, i.e. when it can really serve clients.

_API_METADATA = 3
_API_VERSIONS = 18
# Metadata v4..v8 share the non-flexible layout encoded below.
_METADATA_VERSIONS = range(4, 9)


def _kafka_request(sock: socket.socket, api_key: int, version: int, body: bytes) -> bytes:
    client_id = b"infra.local"
    header = struct.pack(">hhih", api_key, version, 1, len(client_id)) + client_id
    message = header + body
    sock.sendall(struct.pack(">i", len(message)) + message)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    response = _recv_exact(sock, size)
    return response[4:]  # after the correlation id


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        chunks.extend(chunk)
    return bytes(chunks)


def metadata_version(api_versions_body: bytes) -> int:
    """Pick a Metadata request version we can encode from an ApiVersions v0 response body."""
    error, count = struct.unpack_from(">hi", api_versions_body, 0)
    if error != 0:
        raise ConnectionError(f"ApiVersions error {error}")
    for i in range(count):
        key, low, high = struct.unpack_from(">hhh", api_versions_body, 6 + 6 * i)
        if key == _API_METADATA:
            usable = [v for v in _METADATA_VERSIONS if low <= v <= high]
            if usable:
                return max(usable)
            raise ConnectionError(f"broker offers Metadata v{low}..v{high} only")
    raise ConnectionError("broker does not offer Metadata")


def metadata_request_body(version: int) -> bytes:
    # Empty topic list: only brokers and cluster information come back.
    body = struct.pack(">i?", 0, False)
    if version >= 8:
        body += struct.pack(">??", False, False)
    return body


@dataclass(frozen=True)
class KafkaLogin:
    """How the readiness probe logs in: SCRAM-SHA-512 over TLS, as every client does."""

    username: str
    password: str
    cafile: Path


_API_SASL_HANDSHAKE = 17
_API_SASL_AUTHENTICATE = 36


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">h", len(data)) + data


def _scram_sha512(sock: socket.socket, login: KafkaLogin) -> None:
    """SASL SCRAM-SHA-512 (RFC 5802) over the Kafka protocol's SaslHandshake and
    SaslAuthenticate v0; raises ConnectionError when the broker refuses."""
    (error,) = struct.unpack_from(
        ">h", _kafka_request(sock, _API_SASL_HANDSHAKE, 1, _string("SCRAM-SHA-512"))
    )
    if error != 0:
        raise ConnectionError(f"SaslHandshake error {error}")

    def authenticate(message: str) -> str:
        data = message.encode()
        body = _kafka_request(sock, _API_SASL_AUTHENTICATE, 0, struct.pack(">i", len(data)) + data)
        (code, text_len) = struct.unpack_from(">hh", body)
        offset = 4 + max(text_len, 0)
        if code != 0:
            raise ConnectionError(f"SaslAuthenticate error {code}")
        (size,) = struct.unpack_from(">i", body, offset)
        return body[offset + 4 : offset + 4 + size].decode()

    client_bare = f"n={login.username},r={secrets.token_urlsafe(18)}"
    server_first = authenticate("n,," + client_bare)
    fields = dict(item.split("=", 1) for item in server_first.split(","))
    salted = hashlib.pbkdf2_hmac(
        "sha512", login.password.encode(), base64.b64decode(fields["s"]), int(fields["i"])
    )
    client_key = hmac.digest(salted, b"Client Key", "sha512")
    without_proof = f"c=biws,r={fields['r']}"
    auth_message = f"{client_bare},{server_first},{without_proof}".encode()
    signature = hmac.digest(hashlib.sha512(client_key).digest(), auth_message, "sha512")
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    authenticate(f"{without_proof},p={base64.b64encode(proof).decode()}")


def kafka_broker_count(port: int, login: KafkaLogin | None, host: str = "127.0.0.1") -> int:
    """Brokers a Metadata request lists; raises OSError/ConnectionError when not serving."""
    with socket.create_connection((host, port), timeout=2) as raw:
        raw.settimeout(2)
        sock = raw
        if login is not None:
            context = ssl.create_default_context(cafile=str(login.cafile))
            sock = context.wrap_socket(raw, server_hostname=host)
            _scram_sha512(sock, login)
        version = metadata_version(_kafka_request(sock, _API_VERSIONS, 0, b""))
        body = _kafka_request(sock, _API_METADATA, version, metadata_request_body(version))
    (count,) = struct.unpack_from(">i", body, 4)  # after throttle_time_ms
    return int(count)


def kafka_ready(port: int, login: KafkaLogin | None = None) -> bool:
    try:
        return kafka_broker_count(port, login) > 0
    except (OSError, ConnectionError, struct.error, ssl.SSLError):
        return False
