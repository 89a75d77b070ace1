"""Output buffer limits cost Warden no more memory than the limit itself.

A client that pipelines commands and never reads a reply, and a Pub/Sub subscriber that
stops reading while events pour in, are cut off at their output limits (64 MiB for normal
clients, 32 MiB for Pub/Sub: `ClientServer.normalOutputLimit` / `pubsubOutputLimit`), the
sentinel keeps answering, and its resident memory (VmRSS in /proc/<pid>/status) grows by at
most the limit plus a small constant while the client fills it, and falls back once the
client is gone. Warden-only: redis-sentinel's limits and memory use are its own.

`WARDEN_RSS_REPORT=1` prints the figures (docs/benchmarks.md quotes them);
`WARDEN_RSS_EVENT_BYTES=N` sets the size of the value each Pub/Sub event carries (default
100: small events, ~200 bytes each, are what a subscriber really gets, and a buffer that
grows by doubling showed its cost with them; 4000 fills the limit ten times faster).
"""

from __future__ import annotations

import os
import select
import socket
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from harness import (
    Conn, Monitor, Resources, Sentinel, WaitTimeout, encode_command, free_port, wait_until, warden_only,
)

MIB = 1024 * 1024
NORMAL_LIMIT = 64 * MIB
PUBSUB_LIMIT = 32 * MIB
#: What a cut-off client may cost beyond its limit: chunk slack, the reply batch, the
#: request being parsed, and the allocator's own rounding.
SLACK = 8 * MIB

pytestmark = warden_only


class Memory:
    """VmRSS of one process, and its peak since `start()` (VmHWM after resetting it, and
    the largest VmRSS sampled, for kernels that do not allow the reset)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = 0
        self.sampled = 0
        self.hwm_reset = False

    def field(self, name: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"no {name} in /proc/{self.pid}/status")

    def start(self) -> None:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        self.before = self.field("VmRSS")
        self.sampled = self.before

    def sample(self) -> None:
        self.sampled = max(self.sampled, self.field("VmRSS"))

    def peak(self) -> int:
        return max(self.sampled, self.field("VmHWM")) if self.hwm_reset else self.sampled


@pytest.fixture(scope="module")
def sentinel(module_resources: Resources) -> Sentinel:
    # Nothing listens at the master's address: the events here come from SENTINEL SET.
    s = module_resources.add(Sentinel(masters=[Monitor(port=free_port(), quorum=1)]))
    s.start()
    return s


def client_ids(control: Conn) -> set[int]:
    listing = control.call("CLIENT", "LIST")
    return {int(field[3:]) for line in listing.splitlines() for field in line.split() if field.startswith("id=")}


def fill_until_cut_off(sentinel: Sentinel, victim_id: int, pump: Callable[[], None],
                       limit: int, timeout: float = 25.0) -> None:
    """Calls `pump` (which must not block) until the victim is gone from CLIENT LIST,
    sampling the sentinel's memory, then checks what the victim cost."""
    memory = Memory(sentinel.pid)
    with sentinel.conn() as control:
        memory.start()
        started = time.monotonic()
        deadline = started + timeout
        next_check = started
        while True:
            now = time.monotonic()
            assert now < deadline, f"client {victim_id} still connected after {timeout:g} s"
            pump()
            memory.sample()
            if now >= next_check:
                next_check = now + 0.05
                if victim_id not in client_ids(control):
                    break
        elapsed = time.monotonic() - started
        memory.sample()
        peak = memory.peak()
        # The sentinel survived and still answers.
        assert sentinel.alive()
        assert control.call("PING") == "PONG"
        # Once the client is gone its memory goes back to the kernel (allow some slack).
        fell_back = wait_until_or_false(lambda: memory.field("VmRSS") <= memory.before + SLACK, 5)
        after = memory.field("VmRSS")
    growth = peak - memory.before
    if os.environ.get("WARDEN_RSS_REPORT"):
        print(f"\nlimit {limit // MIB} MiB: RSS before {memory.before / MIB:.1f} MiB, "
              f"peak {peak / MIB:.1f} MiB (+{growth / MIB:.1f} MiB), "
              f"after {after / MIB:.1f} MiB, {elapsed:.2f} s")
    assert limit / 2 <= growth <= limit + SLACK, (
        f"RSS grew by {growth / MIB:.1f} MiB for a {limit // MIB} MiB limit "
        f"(from {memory.before / MIB:.1f} MiB)")
    assert fell_back, f"RSS still {after / MIB:.1f} MiB 5 s after the cut-off (from {memory.before / MIB:.1f} MiB)"


def wait_until_or_false(predicate: Callable[[], bool], timeout: float) -> bool:
    try:
        return bool(wait_until(predicate, timeout))
    except WaitTimeout:
        return False


def cut_off_logged(sentinel: Sentinel, client_id: int) -> bool:
    text = sentinel.log_path().read_text(errors="replace")
    return f"Client id={client_id} " in text and "closed for overcoming of output buffer limits." in text


def sender(sock: socket.socket, payload: bytes) -> Callable[[], None]:
    """A pump that sends `payload` again and again without blocking, and stops sending
    once the peer is gone."""
    sock.setblocking(False)
    state = {"pending": b"", "open": True}

    def pump() -> None:
        if not state["open"]:
            time.sleep(0.01)
            return
        _, writable, _ = select.select([], [sock], [], 0.01)
        if not writable:
            return
        if not state["pending"]:
            state["pending"] = payload
        try:
            sent = sock.send(state["pending"])
            state["pending"] = state["pending"][sent:]
        except BlockingIOError:
            pass
        except OSError:
            state["open"] = False

    return pump


@pytest.mark.timeout(45)
def test_client_that_never_reads_is_cut_off_at_the_normal_limit(sentinel: Sentinel) -> None:
    # INFO: a 6-byte inline request for a ~1 KB reply, so the limit fills fast.
    with Conn(sentinel.port) as victim:
        victim_id = victim.call("CLIENT", "ID")
        fill_until_cut_off(sentinel, victim_id, sender(victim.sock, b"INFO\r\n" * 10000), NORMAL_LIMIT)
    assert cut_off_logged(sentinel, victim_id)


@pytest.fixture
def generator(sentinel: Sentinel) -> Iterator[tuple[Conn, int]]:
    conn = Conn(sentinel.port)
    yield conn, conn.call("CLIENT", "ID")
    conn.close()
    # What the generator set is not left behind.
    assert sentinel.cmd("SENTINEL", "SET", "mymaster", "auth-user", "") == "OK"


@pytest.mark.timeout(45)
def test_subscriber_that_stops_reading_is_cut_off_at_the_pubsub_limit(
    sentinel: Sentinel, generator: tuple[Conn, int],
) -> None:
    # Each SENTINEL SET option is a +set event carrying its value (auth-user values are
    # shown in full): with 1000 options of 100 bytes a command makes ~200 KB of events.
    conn, generator_id = generator
    value_size = max(1, int(os.environ.get("WARDEN_RSS_EVENT_BYTES", "100")))
    options = max(1, min(1000, 256_000 // value_size))
    command = encode_command("SENTINEL", "SET", "mymaster", *(["auth-user", "u" * value_size] * options))
    generate = sender(conn.sock, command)

    def pump() -> None:
        generate()
        try:
            conn.sock.recv(1 << 20)  # the generator reads its +OKs, so it is never cut off
        except (BlockingIOError, ConnectionError):
            pass

    with Conn(sentinel.port) as subscriber:
        subscriber_id = subscriber.call("CLIENT", "ID")
        subscriber.send("PSUBSCRIBE", "*")
        assert subscriber.read() == ["psubscribe", "*", 1]
        fill_until_cut_off(sentinel, subscriber_id, pump, PUBSUB_LIMIT)
    assert cut_off_logged(sentinel, subscriber_id)
    with sentinel.conn() as control:
        assert generator_id in client_ids(control), "the generator was cut off too"
