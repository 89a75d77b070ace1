"""Hostile values against real processes: the crafted inputs that once killed warden.

Each test sends what an attacker could send (to the sentinel port, or to the monitored
master's Pub/Sub channel, which needs no access to the sentinel at all) and checks that
the sentinel answers, stays up, and still fails over. Where redis-sentinel shares the
behaviour the test runs against it too; where redis-sentinel itself breaks (it adopts a
poisoned epoch and can then never fail over again), the test is Warden's only.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness import (
    HOST, WARDEN_BIN, Conn, Error, EventLog, Resources, Sentinel, Simple, Topology, is_reference,
    wait_until, warden_only,
)

REFERENCE = is_reference(WARDEN_BIN)
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000
UINT64_MAX = "18446744073709551615"
INT64_MAX = "9223372036854775807"


def fast_topology(resources: Resources) -> Topology:
    topo = resources.add(Topology(down_after_ms=DOWN_AFTER_MS, failover_timeout_ms=FAILOVER_TIMEOUT_MS))
    topo.start()
    topo.wait_discovered(timeout=15)
    return topo


def fails_over(topo: Topology, resources: Resources, timeout: float = 20.0) -> str:
    """kill -9 the master; wait until every sentinel names another one. Returns it."""
    old = f"{HOST}:{topo.master.port}"
    topo.master.kill9()
    def moved() -> bool:
        names = {":".join(s.cmd("SENTINEL", "get-master-addr-by-name", topo.name)) for s in topo.sentinels}
        return len(names) == 1 and old not in names
    wait_until(moved, timeout, message=lambda: "every sentinel to name a new master:\n" + topo.views())
    return ":".join(topo.sentinels[0].cmd("SENTINEL", "get-master-addr-by-name", topo.name))


@warden_only
def test_poisoned_hello_on_the_master_channel_then_a_failover(resources: Resources) -> None:
    """Anyone who can PUBLISH on the master can forge a hello. An epoch of 2^64-1 is
    ignored (redis-sentinel adopts it and wraps to 0 at its next failover, so it never
    fails over again); the group still fails over, in epoch 1."""
    topo = fast_topology(resources)
    forger = "f" * 40
    master = topo.master.client()
    for epoch, config_epoch in [(UINT64_MAX, UINT64_MAX), (UINT64_MAX, "0"), ("0", UINT64_MAX),
                                (str(2**62 + 10**6 + 1), "0"), (INT64_MAX, INT64_MAX)]:
        hello = f"{HOST},26999,{forger},{epoch},{topo.name},{HOST},{topo.master.port},{config_epoch}"
        assert master.publish("__sentinel__:hello", hello) >= 1
    # Every sentinel got them (each is subscribed) and kept its epoch.
    wait_until(lambda: all("Ignored" in s.log(400) and "epoch above" in s.log(400) for s in topo.sentinels),
               10, message="every sentinel to log the refused epochs")
    for s in topo.sentinels:
        assert s.alive()
        assert s.master()["config-epoch"] == "0"
        assert "current-epoch 0" in s.conf_text()
    new_master = fails_over(topo, resources)
    assert new_master != f"{HOST}:{topo.master.port}"
    for s in topo.sentinels:
        assert s.alive()
        assert s.master()["config-epoch"] == "1"


@warden_only
def test_vote_request_with_a_negative_epoch(resources: Resources) -> None:
    """redis-sentinel replies [0, abc, -1] and adopts epoch 2^64-1; Warden answers
    without a vote and keeps its epoch."""
    s = resources.add(Sentinel(conf_text=f"sentinel monitor mymaster {HOST} 1 2\n")).start()
    for epoch in ["-1", "-9223372036854775808", INT64_MAX]:
        assert s.cmd("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", HOST, "1", epoch, "abc") == [0, "*", 0]
    assert s.cmd("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", HOST, "1", "5", "abc") == [0, "abc", 5]
    assert s.alive()
    assert "current-epoch 5" in s.conf_text()


def test_huge_timing_values_then_a_failover(resources: Resources) -> None:
    """down-after 10^18 then SENTINEL FAILOVER, failover-timeout 2^63-1, every DEBUG
    timing at 2^63-1: the sentinel keeps answering (and Warden fails over)."""
    topo = fast_topology(resources)
    leader = topo.sentinels[0]
    assert leader.cmd("SENTINEL", "SET", topo.name, "down-after-milliseconds", "1000000000000000000") == Simple("OK")
    reply = leader.cmd("SENTINEL", "FAILOVER", topo.name)
    if REFERENCE:
        # redis-sentinel overflows 10 x down-after in its replica choice and finds none.
        assert reply == Error("NOGOODSLAVE No suitable replica to promote")
    else:
        assert reply == Simple("OK")
        wait_until(lambda: leader.cmd("SENTINEL", "get-master-addr-by-name", topo.name)[1] != str(topo.master.port),
                   20, message="the forced failover to switch the master")
    assert leader.cmd("SENTINEL", "SET", topo.name, "down-after-milliseconds", "1000") == Simple("OK")
    for s in topo.sentinels:
        assert s.cmd("SENTINEL", "SET", topo.name, "failover-timeout", INT64_MAX) == Simple("OK")
    if not REFERENCE:
        # redis-sentinel has only some of these names; Warden takes them all.
        args = ["SENTINEL", "DEBUG"]
        for name in ["publish-period", "info-period", "tilt-trigger", "slave-reconf-timeout",
                     "script-retry-delay", "script-max-runtime", "election-timeout"]:
            args += [name, INT64_MAX]
        assert topo.sentinels[2].cmd(*args) == Simple("OK")
    assert topo.sentinels[1].cmd("SENTINEL", "DEBUG", "publish-period", INT64_MAX) == Simple("OK")
    for s in topo.sentinels:
        assert s.cmd("PING") == Simple("PONG")
        assert s.alive()


def _conf_with_password(quoted: str) -> str:
    return f'requirepass "{quoted}"\nsentinel monitor mymaster {HOST} 1 2\n'


def _auth(port: int, *args: bytes) -> object:
    with Conn(port) as c:
        return c.call(*args)


def test_passwords_are_compared_as_bytes(resources: Resources) -> None:
    """"café" precomposed (c3 a9) is not "cafe" + U+0301 (cc 81), though Swift Strings
    call them equal; two invalid bytes are not two other invalid bytes (or U+FFFD)."""
    composed = resources.add(Sentinel(conf_text=_conf_with_password(r"caf\xc3\xa9"))).start()
    assert isinstance(_auth(composed.port, b"AUTH", "cafe\u0301".encode()), Error)
    assert isinstance(_auth(composed.port, b"AUTH", b"default", "cafe\u0301".encode()), Error)
    assert isinstance(_auth(composed.port, b"HELLO", b"3", b"AUTH", b"default", "cafe\u0301".encode()), Error)
    assert _auth(composed.port, b"AUTH", "caf\u00e9".encode()) == Simple("OK")
    assert not isinstance(_auth(composed.port, b"HELLO", b"3", b"AUTH", b"default", "caf\u00e9".encode()), Error)

    invalid = resources.add(Sentinel(conf_text=_conf_with_password(r"\xff\xfe"))).start()
    for wrong in [b"\xfe\xff", b"\xff\xff", "\ufffd\ufffd".encode(), b"\xff", b"\xff\xfe\x00"]:
        assert isinstance(_auth(invalid.port, b"AUTH", wrong), Error), wrong
    assert _auth(invalid.port, b"AUTH", b"\xff\xfe") == Simple("OK")
    with Conn(invalid.port) as c:
        assert c.call(b"SENTINEL", b"MASTERS") == Error("NOAUTH Authentication required.")


def test_flushconfig_recreates_a_deleted_file(resources: Resources) -> None:
    s = resources.add(Sentinel(conf_text=f"sentinel monitor mymaster {HOST} 1 2\n")).start()
    myid = s.myid()
    s.conf_path.unlink()
    assert s.cmd("SENTINEL", "FLUSHCONFIG") == Simple("OK")
    text = s.conf_text()
    assert f"sentinel myid {myid}" in text
    assert "sentinel monitor mymaster" in text
    # And once more with nothing changed: it writes again (the file was deleted again).
    s.conf_path.unlink()
    assert s.cmd("SENTINEL", "FLUSHCONFIG") == Simple("OK")
    assert s.conf_path.exists()


class UnprivilegedSentinel(Sentinel):
    """A sentinel run as `nobody`, so that a directory without write permission is
    unwritable for it (root ignores permissions)."""

    def argv(self) -> list[str]:
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *super().argv()]


def test_flushconfig_reports_an_unwritable_directory(resources: Resources) -> None:
    root = os.geteuid() == 0
    if root and subprocess.run(["setpriv", "--version"], capture_output=True).returncode != 0:
        pytest.skip("running as root without setpriv: a directory cannot be made unwritable")
    s = resources.add((UnprivilegedSentinel if root else Sentinel)(
        conf_text=f"sentinel monitor mymaster {HOST} 1 2\n"))
    s.prepare()
    if root:
        # nobody must reach its directory and own its config and log files.
        for d in [s.dir.parent, s.dir]:
            d.chmod(0o711)
        s.log_path().touch()
        for f in [s.conf_path, s.log_path()]:
            os.chown(f, 65534, 65534)
        s.dir.chmod(0o777)
    s.start()
    before = s.conf_text()
    s.dir.chmod(0o555)
    try:
        assert s.cmd("SENTINEL", "FLUSHCONFIG") == Error("ERR Failed to save config file. Check server logs.")
        # A change that must be saved fails the same way, and the old file is intact.
        reply = s.cmd("SENTINEL", "SET", "mymaster", "quorum", "1")
        assert reply == Error("ERR Failed to save config file. Check server logs.")
        assert s.conf_text() == before
        assert s.cmd("PING") == Simple("PONG")
    finally:
        s.dir.chmod(0o777)
    assert s.cmd("SENTINEL", "FLUSHCONFIG") == Simple("OK")
