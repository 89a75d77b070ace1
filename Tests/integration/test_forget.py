"""SENTINEL FORGET-SENTINEL / FORGET-REPLICA (Warden only): one command on one sentinel,
no SENTINEL RESET, and every sentinel of the group drops the dead peer or replica.

See docs/forgetting.md and docs/architecture.md ("Forgetting sentinels safely").
"""

from __future__ import annotations

import re
import time
from typing import Callable

import pytest

from harness import REFERENCE_BIN, Error, EventLog, Resources, Sentinel, Topology, wait_until, warden_only

DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000
OK_QUORUM = "OK {} usable Sentinels. Quorum and failover authorization can be reached"

pytestmark = warden_only


@pytest.fixture
def make_topology(resources: Resources) -> Callable[..., Topology]:
    def make(sentinels: int) -> Topology:
        topo = resources.add(Topology(sentinels=sentinels, quorum=2, down_after_ms=DOWN_AFTER_MS,
                                      failover_timeout_ms=FAILOVER_TIMEOUT_MS))
        topo.start()
        topo.wait_discovered(timeout=30)
        topo.wait_linked(timeout=15)
        return topo
    return make


def peer_ids(sentinel: Sentinel) -> set[str]:
    return {p["runid"] for p in sentinel.sentinels()}


def sees_down(sentinel: Sentinel, runid: str) -> bool:
    return any(p["runid"] == runid and "s_down" in p["flags"] for p in sentinel.sentinels())


def forget_sentinel(forgetter: Sentinel, runid: str) -> float:
    """Once `forgetter` sees `runid` down, forget it there; the time of the command."""
    wait_until(lambda: sees_down(forgetter, runid), 15,
               message=lambda: f"{forgetter.port} to see {runid} s_down: {forgetter.sentinels()}")
    started = time.monotonic()
    reply = forgetter.cmd("SENTINEL", "FORGET-SENTINEL", "mymaster", runid)
    assert reply == "OK", reply
    return started


def wait_members(survivors: list[Sentinel], gone: set[str], events: EventLog, confirmed: int,
                 started: float) -> tuple[float, float]:
    """Wait until every survivor lists only the others and has confirmed `confirmed` forgets;
    (seconds until every table shrank, seconds until every forget was confirmed)."""
    others = len(survivors) - 1

    def shrunk() -> bool:
        return all(not (peer_ids(s) & gone) and len(s.sentinels()) == others
                   and s.master()["num-other-sentinels"] == str(others) for s in survivors)

    wait_until(shrunk, 20, interval=0.02,
               message=lambda: "every table to shrink:\n" + "\n".join(s.view() for s in survivors))
    tables = time.monotonic() - started
    wait_until(lambda: all(len(events.events("+forget-confirmed", port=s.port)) == confirmed
                           for s in survivors), 20, interval=0.02,
               message=lambda: "every sentinel to confirm:\n" + events.describe(started))
    return tables, time.monotonic() - started


def switch_after_kill9(topo: Topology, survivors: list[Sentinel], events: EventLog) -> int:
    old = topo.master
    killed = time.monotonic()
    old.kill9()
    switches = [events.wait_for("+switch-master", 20, port=s.port, since=killed) for s in survivors]
    new_ports = {int(e.data.split()[-1]) for e in switches}
    assert len(new_ports) == 1, events.describe(killed)
    new_port = new_ports.pop()
    assert new_port in [r.port for r in topo.replicas]
    for s in survivors:
        assert s.cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster") == ["127.0.0.1", str(new_port)]
    assert len(events.events("+elected-leader", since=killed)) == 1, events.describe(killed)
    return new_port


@pytest.mark.timeout(120)
def test_one_forget_brings_every_sentinel_back_to_four(make_topology: Callable[..., Topology],
                                                      resources: Resources) -> None:
    topo = make_topology(5)
    victim, survivors = topo.sentinels[4], topo.sentinels[:4]
    events = resources.add(EventLog(survivors))
    gone = victim.myid()
    victim.kill9()

    started = forget_sentinel(survivors[0], gone)
    tables, confirmed = wait_members(survivors, {gone}, events, 1, started)
    print(f"FORGET-SENTINEL to 4 members on every sentinel: {tables:.3f} s; "
          f"confirmed (majority of four) on every sentinel: {confirmed:.3f} s")
    for s in survivors:
        assert len(events.events("+forget-sentinel", port=s.port)) == 1, events.describe(started)
        assert s.cmd("SENTINEL", "CKQUORUM", "mymaster") == OK_QUORUM.format(4)
        # The file: no known-sentinel line for it, a confirmed tombstone (an expiry, nobody awaited).
        wait_until(lambda: gone not in re.findall(r"^sentinel known-sentinel mymaster \S+ \d+ (\S+)$",
                                                  s.conf_text(), re.M)
                   and re.search(rf"^sentinel forgotten-sentinel mymaster {gone} 127\.0\.0\.1 {victim.port} "
                                 r"[1-9]\d* -$", s.conf_text(), re.M), 5, message=s.conf_text)
    # Forgetting again is a no-op; forgetting a sentinel that is up is refused.
    assert survivors[1].cmd("SENTINEL", "FORGET-SENTINEL", "mymaster", gone) == "OK"
    live = survivors[1].myid()
    refused = survivors[0].cmd("SENTINEL", "FORGET-SENTINEL", "mymaster", live)
    assert isinstance(refused, Error) and refused.startswith("BUSY"), refused

    switch_after_kill9(topo, survivors, events)
    # Still four after the failover (no stale hello brought the dead one back).
    for s in survivors:
        assert len(s.sentinels()) == 3 and gone not in peer_ids(s)


@pytest.mark.timeout(150)
def test_forgetting_one_at_a_time_lets_the_last_two_fail_over(make_topology: Callable[..., Topology],
                                                             resources: Resources) -> None:
    """Five sentinels lose two, each forgotten while the rest are up: three members,
    majority two. A third dies: CKQUORUM still says OK with 2 usable (with five known
    it would say NOQUORUM, majority three), and the last two fail over."""
    topo = make_topology(5)
    events = resources.add(EventLog(topo.sentinels[:3]))
    gone: set[str] = set()
    for k in (4, 3):
        victim = topo.sentinels[k]
        runid = victim.myid()
        gone.add(runid)
        victim.kill9()
        started = forget_sentinel(topo.sentinels[0], runid)
        wait_until(lambda: all(not (peer_ids(s) & gone) and len(s.sentinels()) == k - 1
                               for s in topo.sentinels[:k]), 20,
                   message=lambda: "\n".join(s.view() for s in topo.sentinels[:k]))
        wait_until(lambda: all(len(events.events("+forget-confirmed", port=s.port)) == 5 - k
                               for s in topo.sentinels[:3]), 20, message=lambda: events.describe(started))
    third = topo.sentinels[2]
    third_id = third.myid()
    third.kill9()
    last_two = topo.sentinels[:2]
    wait_until(lambda: all(sees_down(s, third_id) for s in last_two), 15,
               message=lambda: "\n".join(str(s.sentinels()) for s in last_two))
    for s in last_two:
        assert s.cmd("SENTINEL", "CKQUORUM", "mymaster") == OK_QUORUM.format(2)
        assert s.master()["num-other-sentinels"] == "2"
    switch_after_kill9(topo, last_two, events)


@pytest.mark.timeout(90)
def test_forget_replica_on_every_sentinel(make_topology: Callable[..., Topology],
                                          resources: Resources) -> None:
    topo = make_topology(3)
    events = resources.add(EventLog(topo.sentinels))
    dead, kept = topo.replicas[1], topo.replicas[0]
    # A replica that is up cannot be forgotten.
    refused = topo.sentinels[0].cmd("SENTINEL", "FORGET-REPLICA", "mymaster", "127.0.0.1", str(dead.port))
    assert isinstance(refused, Error) and refused.startswith("BUSY"), refused
    dead.kill9()
    wait_until(lambda: any(r["port"] == str(dead.port) and "s_down" in r["flags"]
                           for r in topo.sentinels[0].replicas()), 15,
               message=lambda: str(topo.sentinels[0].replicas()))
    started = time.monotonic()
    assert topo.sentinels[0].cmd("SENTINEL", "FORGET-REPLICA", "mymaster", "127.0.0.1", str(dead.port)) == "OK"
    wait_until(lambda: all([r["port"] for r in s.replicas()] == [str(kept.port)]
                           and s.master()["num-slaves"] == "1" for s in topo.sentinels), 20, interval=0.02,
               message=lambda: topo.views())
    print(f"FORGET-REPLICA to every sentinel: {time.monotonic() - started:.3f} s")
    for s in topo.sentinels:
        assert len(events.events("+forget-slave", port=s.port)) == 1, events.describe(started)
        wait_until(lambda: f"sentinel known-replica mymaster 127.0.0.1 {dead.port}" not in s.conf_text()
                   and f"sentinel forgotten-replica mymaster 127.0.0.1 {dead.port} " in s.conf_text(), 10,
                   message=s.conf_text)
    new_port = switch_after_kill9(topo, topo.sentinels, events)
    assert new_port == kept.port
    for s in topo.sentinels:
        assert str(dead.port) not in [r["port"] for r in s.replicas()]


@pytest.mark.timeout(120)
def test_redis_sentinel_peer_ignores_the_forget_and_keeps_the_majority(
        make_topology: Callable[..., Topology], resources: Resources) -> None:
    """Four wardens and one redis-sentinel. The wardens apply the forget; the
    redis-sentinel answers the peer-to-peer FORGET-SENTINEL with an error and keeps its
    table. Since it never confirms, no warden's forget is confirmed: their majority
    stays that of five (safe: the redis-sentinel still counts five). The group still
    fails over together."""
    topo = make_topology(4)
    reference = topo.add_sentinel(binary=REFERENCE_BIN)
    everyone = topo.sentinels + [reference]
    wait_until(lambda: all(int(s.master()["num-other-sentinels"]) == 4 for s in everyone), 30,
               message=lambda: "\n".join(s.view() for s in everyone))
    wardens = topo.sentinels[:3]
    events = resources.add(EventLog(wardens + [reference]))
    victim = topo.sentinels[3]
    gone = victim.myid()
    victim.kill9()
    started = forget_sentinel(wardens[0], gone)
    wait_until(lambda: all(gone not in peer_ids(s) and len(s.sentinels()) == 3 for s in wardens), 20,
               message=lambda: "\n".join(s.view() for s in wardens))
    print(f"FORGET-SENTINEL to every warden (with a redis-sentinel peer): {time.monotonic() - started:.3f} s")
    time.sleep(3)  # what must NOT happen: a confirmation, within a few push periods
    assert events.events("+forget-confirmed") == [], events.describe(started)
    assert gone in peer_ids(reference)
    for s in wardens:
        assert f"sentinel forgotten-sentinel mymaster {gone} " in s.conf_text()
        assert re.search(rf"^sentinel forgotten-sentinel mymaster {gone} \S+ \d+ 0 \S*{reference.myid()}",
                         s.conf_text(), re.M), s.conf_text()
    assert reference.alive()
    switch_after_kill9(topo, wardens + [reference], events)


@pytest.mark.timeout(90)
def test_auto_forget_after(resources: Resources) -> None:
    """`sentinel auto-forget-after mymaster 3000`: a sentinel killed for good is forgotten
    by every other one on its own, confirmed, and the group fails over."""
    topo = resources.add(Topology(sentinels=4, quorum=2, down_after_ms=DOWN_AFTER_MS,
                                  failover_timeout_ms=FAILOVER_TIMEOUT_MS,
                                  extra=["sentinel auto-forget-after mymaster 3000"]))
    topo.start()
    topo.wait_discovered(timeout=30)
    topo.wait_linked(timeout=15)
    victim, survivors = topo.sentinels[3], topo.sentinels[:3]
    assert "sentinel auto-forget-after mymaster 3000" in survivors[0].conf_text()
    events = resources.add(EventLog(survivors))
    gone = victim.myid()
    killed = time.monotonic()
    victim.kill9()
    wait_until(lambda: all(gone not in peer_ids(s) and len(s.sentinels()) == 2
                           and len(events.events("+forget-confirmed", port=s.port)) == 1 for s in survivors),
               30, interval=0.05, message=lambda: events.describe(killed))
    print(f"auto-forget (down-after 1 s, auto-forget-after 3 s): every sentinel at 3 members, confirmed, "
          f"{time.monotonic() - killed:.2f} s after kill -9")
    assert any(e.data.endswith(" auto") for e in events.events("+forget-sentinel")), events.describe(killed)
    switch_after_kill9(topo, survivors, events)
