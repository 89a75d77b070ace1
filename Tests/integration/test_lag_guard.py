"""The promotion lag guard (`sentinel max-promotion-lag`) with real processes.

A redis-server master, two replicas and three wardens with max-promotion-lag 1 MiB. A
replica is made to lag by stopping it (SIGSTOP) while 32 MB are written to the master,
which is then killed (kill -9) before the replica can catch up; the replica is resumed
and answers INFO with its old offset.

- The lagging replica has the better priority (10 against 100), so without the guard it
  would be promoted; with it the caught-up one is, on every sentinel.
- With both replicas lagging the failover waits (+failover-wait-lagging-slaves) and, at
  failover-timeout, gives up (-failover-abort-lagging-slaves): nobody is promoted.

Warden only: redis-sentinel has no lag guard.
"""

from __future__ import annotations

import time

import pytest

from harness import EventLog, RedisServer, Resources, Topology, wait_until, warden_only
from test_failover import role, wait_switched

pytestmark = warden_only

DOWN_AFTER_MS = 2000
FAILOVER_TIMEOUT_MS = 4000
LIMIT_BYTES = 1 << 20
WRITE_BYTES = 32 << 20


def lag_topology(resources: Resources) -> Topology:
    topo = resources.add(Topology(down_after_ms=DOWN_AFTER_MS, failover_timeout_ms=FAILOVER_TIMEOUT_MS))
    topo.start()
    topo.wait_discovered(timeout=15)
    topo.wait_linked(timeout=10)
    for s in topo.sentinels:
        assert s.cmd("SENTINEL", "SET", "mymaster", "max-promotion-lag", str(LIMIT_BYTES)) == "OK"
        assert s.master()["max-promotion-lag"] == str(LIMIT_BYTES)
        # The master's offset is read from its INFO: keep it fresh.
        assert s.cmd("SENTINEL", "DEBUG", "info-period", "500") == "OK"
    return topo


def master_offset(server: RedisServer) -> int:
    return int(server.info("replication")["master_repl_offset"])


def cached_master_offset(sentinel) -> int:  # type: ignore[no-untyped-def]
    """master_repl_offset in the master's INFO as this sentinel last received it."""
    reply = sentinel.cmd("SENTINEL", "INFO-CACHE", "mymaster")
    text = reply[1][0][1] or ""
    for line in text.splitlines():
        if line.startswith("master_repl_offset:"):
            return int(line.split(":", 1)[1])
    return -1


def make_lag(topo: Topology, stopped: list[RedisServer]) -> int:
    """Stop `stopped`, write WRITE_BYTES, wait until every sentinel has the master's INFO
    with the new offset, kill the master, resume `stopped`. The master's last offset."""
    master = topo.master
    assert master is not None
    for r in stopped:
        r.pause()
    try:
        value = "x" * (100 << 10)
        with master.client() as client:
            pipe = client.pipeline(transaction=False)
            for n in range(WRITE_BYTES // len(value)):
                pipe.set(f"k{n}", value)
            pipe.execute()
        offset = master_offset(master)
        wait_until(lambda: all(cached_master_offset(s) >= offset for s in topo.sentinels), 5,
                   message="every sentinel to have the master's INFO after the writes")
        master.kill9()
    finally:
        for r in stopped:
            r.resume()
    return offset


def replica_offset(server: RedisServer) -> int:
    return int(server.info("replication")["slave_repl_offset"])


@pytest.mark.timeout(90)
def test_a_lagging_replica_is_not_promoted_while_a_caught_up_one_exists(resources: Resources) -> None:
    topo = lag_topology(resources)
    lagging, caught_up = topo.replicas
    with lagging.client() as client:
        client.config_set("replica-priority", 10)
    for s in topo.sentinels:
        wait_until(lambda: any(r["port"] == str(lagging.port) and r["slave-priority"] == "10" for r in s.replicas()),
                   5, message="the sentinels see the lagging replica's priority 10")
    events = resources.add(EventLog(topo.sentinels))
    old_port = topo.master.port  # type: ignore[union-attr]
    started = time.monotonic()
    offset = make_lag(topo, [lagging])
    behind = offset - replica_offset(lagging)
    print(f"master offset {offset}; the stopped replica is {behind} bytes behind after SIGCONT")
    assert behind > LIMIT_BYTES, "the stopped replica did not lag: the test would prove nothing"
    new_port = wait_switched(events, topo.sentinels, old_port, since=started, timeout=30)
    assert new_port == caught_up.port, events.describe(started)
    selected = events.events("+selected-slave")
    assert len(selected) == 1 and f":{caught_up.port} " in selected[0].data, events.describe(started)
    assert not events.events("+failover-wait-lagging-slaves") and not events.events("+selected-lagging-slave")
    assert role(lagging) == "slave"


@pytest.mark.timeout(90)
def test_the_failover_waits_when_no_replica_is_within_the_guard(resources: Resources) -> None:
    topo = lag_topology(resources)
    events = resources.add(EventLog(topo.sentinels))
    started = time.monotonic()
    offset = make_lag(topo, list(topo.replicas))
    for r in topo.replicas:
        assert offset - replica_offset(r) > LIMIT_BYTES, "a stopped replica did not lag"
    wait = events.wait_for("+failover-wait-lagging-slaves", 20, since=started)
    leader = wait.port
    elected = [e for e in events.events("+elected-leader") if e.port == leader and e.at <= wait.at]
    assert elected, events.describe(started)
    abort = events.wait_for("-failover-abort-lagging-slaves", FAILOVER_TIMEOUT_MS / 1000 + 5, port=leader,
                            since=wait.at)
    # It waited about failover-timeout after the election, and said so once.
    assert abort.at - elected[-1].at >= FAILOVER_TIMEOUT_MS / 1000 - 0.5, events.describe(started)
    assert len([e for e in events.events("+failover-wait-lagging-slaves", port=leader) if e.at <= abort.at]) == 1
    assert not events.events("+selected-slave") and not events.events("+switch-master"), events.describe(started)
    for r in topo.replicas:
        assert role(r) == "slave"
