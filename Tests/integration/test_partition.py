"""Real network partitions between real processes, in network namespaces.

Three host namespaces (see netns.py), each with one redis-server and one sentinel;
the master starts on host 1. A cut is a drop rule in the router namespace, so the test
keeps watching both sides while they cannot see each other. Checked for every cut:
- the minority side never promotes (no sentinel there is elected, no replica there
  becomes master);
- the majority side fails over when the master is on the minority side;
- after healing, exactly one Redis is master, every sentinel names it, the other two
  replicate from it (the old master included), and every sentinel has the same config
  epoch.
Runs against redis-sentinel too (WARDEN_BIN=$(command -v redis-sentinel)).
"""

from __future__ import annotations

import time
from typing import Optional

import pytest

import netns
from harness import EventLog, Monitor, Resources, WARDEN_BIN, wait_until
from netns import NetLab, NsRedis, NsSentinel

pytestmark = netns.requires_netns("real-partition tests")

DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000
HOSTS = (1, 2, 3)
#: Events that only a sentinel running a failover (or about to) publishes.
LEADER_EVENTS = ("+elected-leader", "+failover-state-select-slave", "+selected-slave",
                 "+failover-state-send-slaveof-noone", "+promoted-slave")

Address = tuple[str, int]


lab = netns.lab_fixture(hosts=len(HOSTS))


class Spread:
    """Redis and a sentinel on each host; the master on host 1, its replicas on 2 and 3."""

    def __init__(self, lab: NetLab, quorum: int, binary: Optional[str] = None) -> None:
        self.lab = lab
        self.quorum = quorum
        self.binary = binary or WARDEN_BIN
        self.redis: dict[int, NsRedis] = {}
        self.sentinels: dict[int, NsSentinel] = {}
        self.events: Optional[EventLog] = None

    def start(self) -> "Spread":
        master = NsRedis(self.lab, 1, 6381)
        self.redis[1] = master
        master.start()
        for host in HOSTS[1:]:
            self.redis[host] = NsRedis(self.lab, host, 6380 + host, replicaof=master.address)
            self.redis[host].start()
        wait_until(lambda: all(self.redis[h].info()["master_link_status"] == "up" for h in HOSTS[1:]),
                   15, message="replicas on hosts 2 and 3 in sync with the master on host 1")
        monitor = Monitor(port=master.port, host=master.ip, quorum=self.quorum,
                          down_after_ms=DOWN_AFTER_MS, failover_timeout_ms=FAILOVER_TIMEOUT_MS)
        for host in HOSTS:
            self.sentinels[host] = NsSentinel(self.lab, host, 26380 + host, [monitor], binary=self.binary)
            self.sentinels[host].start()
        wait_until(lambda: all(int(s.master()["num-slaves"]) == 2 and int(s.master()["num-other-sentinels"]) == 2
                               for s in self.sentinels.values()),
                   20, message=lambda: "every sentinel to see 2 replicas and 2 sentinels:\n" + self.views())
        self.events = EventLog(self.sentinels.values())
        return self

    def stop(self) -> None:
        if self.events is not None:
            self.events.stop()
        for process in [*self.sentinels.values(), *self.redis.values()]:
            try:
                process.stop(timeout=5)
            except Exception:  # noqa: BLE001 - keep stopping the rest
                process.kill9()
        self.lab.kill_processes()

    def views(self) -> str:
        return "\n".join("  " + s.view() for s in self.sentinels.values())

    def redis_at(self, address: Address) -> NsRedis:
        return next(r for r in self.redis.values() if r.address == address)

    def roles(self) -> dict[Address, str]:
        """What each Redis says it is: 'master', or 'slave of ip:port'."""
        result = {}
        for r in self.redis.values():
            info = r.info()
            result[r.address] = ("master" if info["role"] == "master"
                                 else f"slave of {info['master_host']}:{info['master_port']} "
                                      f"link {info['master_link_status']}")
        return result

    def describe(self, since: float) -> str:
        try:
            roles = "\n".join(f"  {ip}:{port} {role}" for (ip, port), role in self.roles().items())
        except Exception as error:  # noqa: BLE001 - diagnostics must not raise
            roles = f"  {error!r}"
        return (f"roles:\n{roles}\nsentinels:\n{self.views()}\nevents since the cut:\n"
                + (self.events.describe(since) if self.events else ""))

    def sentinel_events(self, host: int, since: float, channels: tuple[str, ...]) -> list:
        return [e for e in self.events.events(since=since)
                if e.port == self.sentinels[host].port and e.channel in channels]


@pytest.fixture
def make_spread(lab: NetLab, resources: Resources):
    def make(quorum: int) -> Spread:
        spread = resources.add(Spread(lab, quorum))
        return spread.start()
    yield make
    lab.heal()


def switched_to(event_data: str) -> Address:
    """The new address of a +switch-master event ('name old-ip old-port new-ip new-port')."""
    parts = event_data.split()
    return (parts[3], int(parts[4]))


def assert_quiet(spread: Spread, minority: int, since: float, allowed_masters: set[Address]) -> None:
    """The minority host's sentinel ran no failover, and nothing there was promoted."""
    led = spread.sentinel_events(minority, since, LEADER_EVENTS)
    assert not led, f"the sentinel on the cut-off host {minority} acted as leader:\n{spread.describe(since)}"
    named = spread.sentinels[minority].master_address()
    assert named in allowed_masters, f"the cut-off sentinel names {named}:\n{spread.describe(since)}"
    for r in spread.redis.values():
        if r.host == minority and r.address not in allowed_masters:
            assert r.info()["role"] != "master", f"{r.describe()} was promoted on the minority side"


def wait_converged(spread: Spread, since: float, timeout: float = 45) -> Address:
    """After healing: one master, every sentinel names it, the others replicate from it."""
    def converged() -> Optional[Address]:
        roles = spread.roles()
        masters = [a for a, role in roles.items() if role == "master"]
        if len(masters) != 1:
            return None
        master = masters[0]
        if any(role != f"slave of {master[0]}:{master[1]} link up" for a, role in roles.items() if a != master):
            return None
        if any(s.master_address() != master for s in spread.sentinels.values()):
            return None
        epochs = {s.master()["config-epoch"] for s in spread.sentinels.values()}
        return master if len(epochs) == 1 else None
    return wait_until(converged, timeout, interval=0.2,
                      message=lambda: "one master named by every sentinel after healing\n" + spread.describe(since))


def hold_cut(spread: Spread, minority: int, since: float, allowed: set[Address], seconds: float) -> None:
    """Keep the cut for `seconds` more, checking all along that the minority stays quiet."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert_quiet(spread, minority, since, allowed)
        time.sleep(0.1)


def run_master_side_cut(spread: Spread, lab: NetLab, outgoing: bool, incoming: bool) -> None:
    old = spread.redis[1].address
    replicas = {spread.redis[2].address, spread.redis[3].address}
    since = time.monotonic()
    lab.cut(1, outgoing=outgoing, incoming=incoming)

    # The majority (hosts 2 and 3) agree the master is down and promote one of theirs.
    switches = [spread.events.wait_for("+switch-master", 20 + FAILOVER_TIMEOUT_MS / 1000 * 2,
                                       port=spread.sentinels[h].port, since=since) for h in (2, 3)]
    new = switched_to(switches[0].data)
    assert new in replicas, spread.describe(since)
    assert all(switched_to(e.data) == new for e in spread.events.events("+switch-master", since=since)), \
        "two different masters were announced:\n" + spread.describe(since)
    wait_until(lambda: spread.redis_at(new).info()["role"] == "master", 10,
               message=lambda: f"{new} to be master\n" + spread.describe(since))
    failed_over_after = switches[-1].at - since

    # The minority (host 1: the old master and one sentinel) never elects or promotes;
    # its sentinel may learn of the new master only where a one-way cut lets hellos in.
    hold_cut(spread, 1, since, {old, new}, seconds=2 * DOWN_AFTER_MS / 1000)

    healed = time.monotonic()
    lab.heal()
    master = wait_converged(spread, since)
    assert master == new, spread.describe(since)
    assert all(switched_to(e.data) == new for e in spread.events.events("+switch-master", since=since)), \
        "two different masters were announced:\n" + spread.describe(since)
    print(f"\nfailover by the majority {failed_over_after:.2f} s after the cut; "
          f"converged {time.monotonic() - healed:.2f} s after healing (healed at +{healed - since:.2f} s)")
    print(spread.events.describe(since))


@pytest.mark.timeout(90)
def test_master_cut_off_both_ways_majority_fails_over(make_spread, lab: NetLab) -> None:
    run_master_side_cut(make_spread(quorum=2), lab, outgoing=True, incoming=True)


@pytest.mark.timeout(90)
def test_master_side_cannot_send_majority_fails_over(make_spread, lab: NetLab) -> None:
    """One-way: what host 1 sends is lost; what it receives arrives (established TCP
    streams still deliver the others' PINGs and hellos to it, unacknowledged)."""
    run_master_side_cut(make_spread(quorum=2), lab, outgoing=True, incoming=False)


@pytest.mark.timeout(90)
def test_master_side_cannot_receive_majority_fails_over(make_spread, lab: NetLab) -> None:
    """One-way the other way: host 1's packets reach the others, theirs never reach it."""
    run_master_side_cut(make_spread(quorum=2), lab, outgoing=False, incoming=True)


@pytest.mark.timeout(90)
def test_cut_off_replica_side_never_promotes(make_spread, lab: NetLab) -> None:
    """Quorum 1: the cut-off sentinel on host 3 may call the master objectively down
    alone, tries to be elected, and must fail: it cannot reach a majority."""
    spread = make_spread(quorum=1)
    old = spread.redis[1].address
    since = time.monotonic()
    lab.cut(3)

    spread.events.wait_for("+odown", 10, port=spread.sentinels[3].port, since=since)
    spread.events.wait_for("+try-failover", 10, port=spread.sentinels[3].port, since=since)
    # The election times out (min(10 s, failover-timeout)) without a winner.
    end = spread.events.wait_for("-failover-abort-not-elected", FAILOVER_TIMEOUT_MS / 1000 + 10,
                                 port=spread.sentinels[3].port, since=since)
    assert_quiet(spread, 3, since, {old})
    # The majority saw the master up all along.
    assert not spread.events.events("+switch-master", since=since), spread.describe(since)
    assert not [e for e in spread.events.events("+odown", since=since) if e.port != spread.sentinels[3].port]

    healed = time.monotonic()
    lab.heal()
    master = wait_converged(spread, since)
    assert master == old, "a failover happened after healing:\n" + spread.describe(since)
    print(f"\nelection abandoned {end.at - since:.2f} s after the cut; "
          f"converged {time.monotonic() - healed:.2f} s after healing (healed at +{healed - since:.2f} s)")
    print(spread.events.describe(since))
