"""Bad configuration files and protocol abuse: refuse cleanly, keep serving everyone else."""

from __future__ import annotations

import os
import select
import socket
import threading
from pathlib import Path
from typing import Iterator

import pytest

from harness import (
    REFERENCE_BIN, WARDEN_BIN, Conn, ConnectionClosed, Monitor, RedisServer, Resources, Sentinel,
    base_dir, free_port, read_until_closed, run_to_exit, wait_until, warden_only,
)

# ---------------------------------------------------------------------------------------
# Configuration errors

CONFIG_ERRORS = [
    ("unknown-directive", "foobar 1", "Bad directive or wrong number of arguments"),
    ("quorum-zero", "sentinel monitor m 127.0.0.1 6379 0", "Quorum must be 1 or greater."),
    ("unknown-sentinel-statement", "sentinel foo", "Unrecognized sentinel configuration statement."),
]


def _write_conf(name: str, bad_line: str) -> Path:
    directory = base_dir() / f"badconf-{name}"
    directory.mkdir(exist_ok=True)
    path = directory / "sentinel.conf"
    path.write_text(f"port {free_port()}\n{bad_line}\n")
    return path


@pytest.mark.parametrize("name,line,reason", CONFIG_ERRORS, ids=[c[0] for c in CONFIG_ERRORS])
def test_config_error_exits_non_zero(name: str, line: str, reason: str) -> None:
    path = _write_conf(name, line)
    result = run_to_exit([WARDEN_BIN, str(path)], timeout=10, cwd=path.parent)
    assert result.returncode != 0, f"exit 0 for a bad line\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert reason in result.stderr, result.stderr


@warden_only
@pytest.mark.parametrize("name,line,reason", CONFIG_ERRORS, ids=[c[0] for c in CONFIG_ERRORS])
def test_config_error_names_file_and_line(name: str, line: str, reason: str) -> None:
    path = _write_conf(name, line)
    result = run_to_exit([WARDEN_BIN, str(path)], timeout=10, cwd=path.parent)
    assert f"{path}:2: {reason}" in result.stderr.splitlines(), result.stderr


def test_missing_config_file_exits_non_zero() -> None:
    path = base_dir() / "no-such-dir" / "sentinel.conf"
    result = run_to_exit([WARDEN_BIN, str(path)], timeout=10)
    assert result.returncode != 0
    assert not path.exists()


@warden_only
def test_missing_config_file_is_named() -> None:
    path = base_dir() / "no-such-dir" / "sentinel.conf"
    result = run_to_exit([WARDEN_BIN, str(path)], timeout=10)
    assert str(path) in result.stderr, result.stderr


def test_no_config_file_argument_exits_non_zero() -> None:
    result = run_to_exit([WARDEN_BIN], timeout=10)
    assert result.returncode != 0


# ---------------------------------------------------------------------------------------
# Protocol abuse on the client port


@pytest.fixture(scope="module")
def sentinels(module_resources: Resources) -> dict[str, Sentinel]:
    """The sentinel under test and a reference redis-sentinel, watching one master."""
    master = module_resources.add(RedisServer())
    master.start()
    found = {}
    for role, binary in (("under test", WARDEN_BIN), ("reference", REFERENCE_BIN)):
        sentinel = module_resources.add(Sentinel(masters=[Monitor(port=master.port, quorum=2)], binary=binary))
        sentinel.start()
        found[role] = sentinel
    return found


class Bystander:
    """Another client that keeps sending PING while the abuse goes on."""

    def __init__(self, port: int) -> None:
        self.conn = Conn(port)
        self.pongs = 0
        self.failure: str | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while True:
                reply = self.conn.call("PING")
                if reply != "PONG":
                    self.failure = f"PING answered {reply!r}"
                    return
                self.pongs += 1
                if self.done.wait(0.02):
                    return
        except (OSError, ConnectionClosed) as error:
            self.failure = f"bystander connection failed: {error!r}"

    def finish(self) -> None:
        self.done.set()
        self.thread.join(timeout=10)
        self.conn.close()
        assert self.failure is None, self.failure
        assert self.pongs > 0


@pytest.fixture
def bystander(sentinels: dict[str, Sentinel]) -> Iterator[dict[str, Bystander]]:
    watchers = {role: Bystander(s.port) for role, s in sentinels.items()}
    yield watchers
    for watcher in watchers.values():
        watcher.finish()
    for sentinel in sentinels.values():
        assert sentinel.alive(), sentinel.diagnostics()
        reply = sentinel.cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
        assert isinstance(reply, list) and len(reply) == 2, reply


PROTOCOL_ERRORS = [
    ("garbage-multibulk", b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    ("huge-multibulk", b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    ("huge-bulk", b"*1\r\n$2147483648\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    ("negative-bulk", b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    ("garbage-bulk", b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    ("no-dollar", b"*1\r\nx\r\n", b"-ERR Protocol error: expected '$', got 'x'\r\n"),
    ("unbalanced-quotes", b'"foo\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
]


@pytest.mark.parametrize("role", ["under test", "reference"])
@pytest.mark.parametrize("name,payload,expected", PROTOCOL_ERRORS, ids=[p[0] for p in PROTOCOL_ERRORS])
def test_protocol_error_closes_connection(
    sentinels: dict[str, Sentinel], bystander: dict[str, Bystander],
    role: str, name: str, payload: bytes, expected: bytes,
) -> None:
    with Conn(sentinels[role].port) as conn:
        conn.send_raw(payload)
        assert conn.read_until_closed(timeout=5) == expected


@pytest.mark.parametrize("role", ["under test", "reference"])
@pytest.mark.parametrize("payload", [b"PING\r\n", b"\r\n\r\nPING\r\n", b"*0\r\nPING\r\n", b"ping\n"],
                         ids=["inline", "empty-lines", "empty-multibulk", "inline-lf"])
def test_lenient_inputs_keep_connection(
    sentinels: dict[str, Sentinel], bystander: dict[str, Bystander], role: str, payload: bytes,
) -> None:
    with Conn(sentinels[role].port) as conn:
        conn.send_raw(payload)
        assert conn.read() == "PONG"
        assert conn.call("PING") == "PONG"


@pytest.mark.parametrize("role", ["under test", "reference"])
def test_too_big_inline_request(sentinels: dict[str, Sentinel], bystander: dict[str, Bystander], role: str) -> None:
    """10 MB without a newline: the server answers with an error and closes, maybe mid-send."""
    expected = b"-ERR Protocol error: too big inline request\r\n"
    chunk = b"a" * 65536
    with socket.create_connection(("127.0.0.1", sentinels[role].port), timeout=5) as sock:
        for _ in range(10 * 1024 * 1024 // len(chunk)):
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        received = read_until_closed(sock, timeout=5)
    assert received == expected, f"received {received[:200]!r}"


def test_sentinel_alive_after_abuse(sentinels: dict[str, Sentinel]) -> None:
    for sentinel in sentinels.values():
        assert sentinel.alive()
        wait_until(lambda: sentinel.cmd("PING") == "PONG", 5, message="PONG after the abuse")
        assert os.path.exists(sentinel.conf_path)
