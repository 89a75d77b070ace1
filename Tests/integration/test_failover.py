"""Failover with real processes: a master, two replicas and three sentinels (quorum 2).

Each test builds its own topology (a failover changes it for good) with down-after 1000 ms
and failover-timeout 3000 ms, so that a failover takes seconds, then breaks the master
(kill -9, SIGSTOP) or the sentinels and checks what the data nodes, the sentinels' replies,
their Pub/Sub events and their config files say afterwards.

redis-sentinel passes every test too, only more slowly (a random start delay of up to 1 s,
INFO every second during a failover, 2 x failover-timeout before a retry): the timeouts
fit both, and bounds that only Warden's timing meets are checked only for Warden.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import pytest
import redis
import redis.sentinel
from redis.backoff import NoBackoff
from redis.retry import Retry

from harness import (
    HOST, WARDEN_BIN, Error, EventLog, Monitor, RedisServer, Resources, Sentinel, Topology,
    info_sections, is_reference, wait_until,
)

DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000
FAILOVER_TIMEOUT = FAILOVER_TIMEOUT_MS / 1000
REFERENCE = is_reference(WARDEN_BIN)

#: From the master's death to +switch-master on every sentinel (Warden: about 2 s).
FAILOVER_LIMIT = 20.0
#: From SIGCONT of the old master to +convert-to-slave: both wait until the instance has
#: reported role:master and been up for 4 hello periods (8 s), Redis then the next INFO.
CONVERT_LIMIT = 30.0
#: A failover led by a sentinel that crashed is retried 2 x failover-timeout after the
#: votes for it; redis-sentinel may need a few more rounds if the two survivors split.
RETRY_LIMIT = 45.0


# --------------------------------------------------------------------------------------
# Helpers


@pytest.fixture
def make_topology(resources: Resources) -> Callable[..., Topology]:
    """Start a fast-failover topology, wait until every link is up, stop it at test end."""
    def make(quorum: int = 2) -> Topology:
        topo = resources.add(Topology(quorum=quorum, down_after_ms=DOWN_AFTER_MS,
                                      failover_timeout_ms=FAILOVER_TIMEOUT_MS))
        topo.start()
        topo.wait_discovered(timeout=15)
        topo.wait_linked(timeout=10)
        return topo
    return make


def events_of(resources: Resources, sentinels: list[Sentinel]) -> EventLog:
    return resources.add(EventLog(sentinels))


def role(server: RedisServer) -> Optional[str]:
    """INFO replication role ('master' / 'slave'), or None if the server does not answer."""
    try:
        return server.info("replication")["role"]
    except (redis.ConnectionError, redis.TimeoutError):
        return None


def replicates_from(server: RedisServer, master_port: int) -> bool:
    info = server.info("replication")
    return (info["role"] == "slave" and int(info["master_port"]) == master_port
            and info["master_link_status"] == "up")


def master_addr(sentinel: Sentinel) -> Any:
    return sentinel.cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")


def conf_value(sentinel: Sentinel, pattern: str) -> Optional[str]:
    """The first group of the first config-file line matching `pattern` (anchored), or None."""
    match = re.search(rf"^{pattern}$", sentinel.conf_text(), re.M)
    return match.group(1) if match else None


def config_epoch(sentinel: Sentinel) -> Optional[int]:
    value = conf_value(sentinel, r"sentinel config-epoch mymaster (\d+)")
    return int(value) if value is not None else None


def wait_config_files(sentinels: list[Sentinel], master_port: int, quorum: int = 2,
                      timeout: float = 10.0) -> int:
    """Wait until every file monitors `master_port` with one config epoch >= 1; return it."""
    monitor = f"sentinel monitor mymaster 127.0.0.1 {master_port} {quorum}"

    def agreed() -> Optional[int]:
        epochs = {config_epoch(s) for s in sentinels}
        if (len(epochs) == 1 and None not in epochs and min(epochs) >= 1
                and all(re.search(rf"^{monitor}$", s.conf_text(), re.M) for s in sentinels)):
            return epochs.pop()
        return None

    return wait_until(
        agreed, timeout,
        message=lambda: f"every config file to hold '{monitor}' and one config-epoch >= 1:\n"
        + "\n".join(f"  {s.port}: " + "; ".join(
            line for line in s.conf_text().splitlines()
            if line.startswith(("sentinel monitor", "sentinel config-epoch", "sentinel current-epoch")))
            for s in sentinels),
    )


def wait_switched(events: EventLog, sentinels: list[Sentinel], old_port: int, since: float,
                  timeout: float = FAILOVER_LIMIT) -> int:
    """Wait for +switch-master away from `old_port` on every sentinel; the new master's port.

    Every sentinel must announce the same switch, word for word.
    """
    deadline = time.monotonic() + timeout
    switches = [events.wait_for("+switch-master", max(0.1, deadline - time.monotonic()),
                                port=s.port, since=since) for s in sentinels]
    new_port = int(switches[0].data.split()[-1])
    expected = f"mymaster 127.0.0.1 {old_port} 127.0.0.1 {new_port}"
    for switch in switches:
        assert switch.data == expected, f"sentinel {switch.port}: +switch-master {switch.data!r}"
    return new_port


def split_replicas(topo: Topology, new_port: int) -> tuple[RedisServer, RedisServer]:
    """(the promoted replica, the other one)."""
    promoted = [r for r in topo.replicas if r.port == new_port]
    assert len(promoted) == 1, f"new master port {new_port} is not one of the replicas"
    others = [r for r in topo.replicas if r.port != new_port]
    return promoted[0], others[0]


def assert_one_failover(events: EventLog, sentinels: list[Sentinel], new_port: int, since: float) -> None:
    """Every sentinel names the new master and switched once; one leader was elected."""
    for sentinel in sentinels:
        assert master_addr(sentinel) == ["127.0.0.1", str(new_port)], sentinel.view()
        assert len(events.events("+switch-master", port=sentinel.port)) == 1, events.describe(since)
    assert len(events.events("+elected-leader")) == 1, events.describe(since)


def observe(seconds: float, check: Callable[[], None], interval: float = 0.1) -> None:
    """Run `check` (which asserts) again and again for `seconds`: for things that must NOT happen."""
    end = time.monotonic() + seconds
    while True:
        check()
        if time.monotonic() >= end:
            return
        time.sleep(interval)


# --------------------------------------------------------------------------------------
# kill -9 of the master


@pytest.mark.timeout(60)
def test_kill9_master_promotes_exactly_one_replica(make_topology: Callable[..., Topology],
                                                   resources: Resources) -> None:
    topo = make_topology()
    old = topo.master
    events = events_of(resources, topo.sentinels)

    killed_at = time.monotonic()
    old.kill9()
    new_port = wait_switched(events, topo.sentinels, old.port, since=killed_at)
    switched_in = max(e.at for e in events.events("+switch-master")) - killed_at
    print(f"+switch-master on all three {switched_in:.2f} s after kill -9")
    print(events.describe(killed_at))
    if not REFERENCE:
        assert switched_in < DOWN_AFTER_MS / 1000 + 3, \
            f"Warden switched only {switched_in:.2f} s after the kill:\n{events.describe(killed_at)}"

    promoted, other = split_replicas(topo, new_port)
    assert [role(promoted), role(other)] == ["master", "slave"]
    wait_until(lambda: replicates_from(other, new_port), 15,
               message=lambda: f"replica {other.port} to replicate from {new_port}: {other.info()}")
    assert [role(promoted), role(other)] == ["master", "slave"]

    epoch = wait_config_files(topo.sentinels, new_port)
    print(f"config epoch {epoch}")
    assert_one_failover(events, topo.sentinels, new_port, since=killed_at)


# --------------------------------------------------------------------------------------
# SIGSTOP of the master, then SIGCONT


@pytest.mark.timeout(80)
def test_paused_master_fails_over_and_rejoins_as_replica(make_topology: Callable[..., Topology],
                                                         resources: Resources) -> None:
    topo = make_topology()
    old = topo.master
    events = events_of(resources, topo.sentinels)

    paused_at = time.monotonic()
    old.pause()
    try:
        new_port = wait_switched(events, topo.sentinels, old.port, since=paused_at)
        promoted, other = split_replicas(topo, new_port)
        assert role(promoted) == "master"
        epoch = wait_config_files(topo.sentinels, new_port)
    finally:
        old.resume()
    resumed_at = time.monotonic()
    print(f"failover {resumed_at - paused_at:.2f} s after SIGSTOP; SIGCONT now")

    convert = events.wait_for("+convert-to-slave", CONVERT_LIMIT, since=resumed_at)
    assert convert.data == (f"slave 127.0.0.1:{old.port} 127.0.0.1 {old.port} "
                            f"@ mymaster 127.0.0.1 {new_port}")
    print(f"+convert-to-slave {convert.at - resumed_at:.2f} s after SIGCONT")
    for server in (old, other):
        wait_until(lambda: replicates_from(server, new_port), 15,
                   message=lambda: f"{server.port} to replicate from {new_port}: {server.info()}")

    def no_second_failover() -> None:
        later = [e for e in events.events(since=convert.at)
                 if e.channel in ("+try-failover", "+elected-leader", "+switch-master")]
        assert not later, "a second failover after the old master rejoined:\n" + events.describe(paused_at)
        assert role(promoted) == "master" and role(old) == "slave" and role(other) == "slave"

    observe(convert.at + 3 * FAILOVER_TIMEOUT - time.monotonic(), no_second_failover, interval=0.25)
    assert [config_epoch(s) for s in topo.sentinels] == [epoch] * 3
    assert_one_failover(events, topo.sentinels, new_port, since=paused_at)


# --------------------------------------------------------------------------------------
# SENTINEL FAILOVER: forced, with the master alive


@pytest.mark.timeout(80)
def test_forced_failover_with_the_master_alive(make_topology: Callable[..., Topology],
                                               resources: Resources) -> None:
    topo = make_topology()
    old = topo.master
    leader = topo.sentinels[0]
    events = events_of(resources, topo.sentinels)

    asked_at = time.monotonic()
    assert leader.cmd("SENTINEL", "FAILOVER", "mymaster") == "OK"
    new_port = wait_switched(events, topo.sentinels, old.port, since=asked_at)
    print(f"+switch-master on all three {time.monotonic() - asked_at:.2f} s after SENTINEL FAILOVER")
    # No vote was needed: the sentinel asked led it, in a new epoch, and nobody saw ODOWN.
    elected = events.events("+elected-leader")
    assert [e.port for e in elected] == [leader.port], events.describe(asked_at)
    assert not events.events("+odown") and not events.events("+sdown"), events.describe(asked_at)
    promoted, other = split_replicas(topo, new_port)
    assert role(promoted) == "master"
    epoch = wait_config_files(topo.sentinels, new_port)

    # The old master never went down: it is made a replica of the new one, so is the other.
    for server in (old, other):
        wait_until(lambda: replicates_from(server, new_port), CONVERT_LIMIT,
                   message=lambda: f"{server.port} to replicate from {new_port}: {server.info()}\n"
                   + events.describe(asked_at))
    assert_one_failover(events, topo.sentinels, new_port, since=asked_at)
    for sentinel in topo.sentinels:
        wait_until(lambda: int(sentinel.master()["num-slaves"]) == 2, 15,
                   message=lambda: f"{sentinel.port} to list both replicas: {sentinel.view()}")
    assert [config_epoch(s) for s in topo.sentinels] == [epoch] * 3


def test_forced_failover_without_a_good_replica(make_redis: Callable[..., RedisServer],
                                                make_sentinel: Callable[..., Sentinel]) -> None:
    master = make_redis()
    sentinel = make_sentinel(masters=[Monitor(port=master.port, quorum=1)])
    reply = sentinel.cmd("SENTINEL", "FAILOVER", "mymaster")
    assert reply == Error("NOGOODSLAVE No suitable replica to promote"), reply
    assert sentinel.cmd("SENTINEL", "FAILOVER", "nosuch") == Error("ERR No such master with that name")
    assert master_addr(sentinel) == ["127.0.0.1", str(master.port)]


# --------------------------------------------------------------------------------------
# A replica that follows another master is pointed back (+fix-slave-config)


@pytest.mark.timeout(80)
def test_replica_following_the_wrong_master_is_pointed_back(
        make_topology: Callable[..., Topology], make_redis: Callable[..., RedisServer],
        resources: Resources) -> None:
    topo = make_topology()
    stranger = make_redis()
    replica = topo.replicas[1]
    events = events_of(resources, topo.sentinels)

    moved_at = time.monotonic()
    with replica.client() as client:
        client.replicaof(HOST, stranger.port)
    # Both send replicas INFO every 10 s (while their master is healthy): each sees the
    # change, then acts, up to 10 s late.
    fix = events.wait_for("+fix-slave-config", FAILOVER_TIMEOUT + 25, since=moved_at)
    # Not before failover-timeout since the sentinel saw the change.
    assert fix.at - moved_at >= FAILOVER_TIMEOUT, events.describe(moved_at)
    assert fix.data == (f"slave 127.0.0.1:{replica.port} 127.0.0.1 {replica.port} "
                        f"@ mymaster 127.0.0.1 {topo.master.port}")
    wait_until(lambda: replicates_from(replica, topo.master.port), 15,
               message=lambda: f"{replica.port} back on the master: {replica.info()}")
    # One sentinel fixed it; nothing failed over.
    assert not events.events("+try-failover") and not events.events("+switch-master"), \
        events.describe(moved_at)


# --------------------------------------------------------------------------------------
# The elected leader crashes (SENTINEL SIMULATE-FAILURE crash-after-election)


@pytest.mark.timeout(90)
def test_leader_crash_after_election_is_taken_over_in_a_later_epoch(
        make_topology: Callable[..., Topology], resources: Resources) -> None:
    topo = make_topology()
    old = topo.master
    ids = {s.port: s.myid() for s in topo.sentinels}
    events = events_of(resources, topo.sentinels)
    # Whoever wins the first election exits with status 99 right after +elected-leader.
    for sentinel in topo.sentinels:
        assert sentinel.cmd("SENTINEL", "SIMULATE-FAILURE", "crash-after-election") == "OK"

    killed_at = time.monotonic()
    old.kill9()
    crashed = wait_until(lambda: next((s for s in topo.sentinels if not s.alive()), None),
                         FAILOVER_LIMIT, message=lambda: "a sentinel to crash after winning the election:\n"
                         + events.describe(killed_at))
    assert crashed.wait_exit(5) == 99, crashed.diagnostics()
    survivors = [s for s in topo.sentinels if s is not crashed]
    # Every call resets the flags before setting the ones named; HELP names none.
    for sentinel in survivors:
        assert sentinel.cmd("SENTINEL", "SIMULATE-FAILURE", "HELP") == \
            ["crash-after-election", "crash-after-promotion"]
        section = dict(info_sections(sentinel.cmd("INFO", "sentinel"))["Sentinel"])
        assert section["sentinel_simulate_failure_flags"] == "0"
    crashed_at = time.monotonic()
    assert all(s.alive() for s in survivors), "a second sentinel crashed:\n" + events.describe(killed_at)

    # The epoch the crashed sentinel won: a survivor voted for it then (it needed 2 votes).
    votes = [int(e.data.split()[1]) for e in events.events("+vote-for-leader")
             if e.port != crashed.port and e.data.split()[0] == ids[crashed.port]]
    assert votes, "no survivor voted for the sentinel that crashed:\n" + events.describe(killed_at)
    won_epoch = max(votes)
    print(f"sentinel {crashed.port} elected in epoch {won_epoch}, crashed "
          f"{crashed_at - killed_at:.2f} s after kill -9")

    new_port = wait_switched(events, survivors, old.port, since=killed_at, timeout=RETRY_LIMIT)
    print(f"survivors switched {time.monotonic() - crashed_at:.2f} s after the crash")
    promoted, other = split_replicas(topo, new_port)
    assert [role(promoted), role(other)] == ["master", "slave"]
    epoch = wait_config_files(survivors, new_port)
    assert epoch > won_epoch, f"final config epoch {epoch}, crashed leader's epoch {won_epoch}"
    wait_until(lambda: replicates_from(other, new_port), 15,
               message=lambda: f"replica {other.port} to replicate from {new_port}: {other.info()}")
    for sentinel in survivors:
        assert master_addr(sentinel) == ["127.0.0.1", str(new_port)]
    # The crashed sentinel's file still names the old master: it never switched.
    assert f"sentinel monitor mymaster 127.0.0.1 {old.port} 2" in crashed.conf_text()

    # Restarted, it learns the new configuration from its peers' hellos.
    restarted_at = time.monotonic()
    crashed.start()
    events.add(crashed)
    wait_until(lambda: master_addr(crashed) == ["127.0.0.1", str(new_port)], 15,
               message=lambda: f"the restarted sentinel to follow {new_port}: {crashed.view()}")
    print(f"restarted sentinel converged {time.monotonic() - restarted_at:.2f} s after its start")
    assert wait_config_files(topo.sentinels, new_port) == epoch


# --------------------------------------------------------------------------------------
# ODOWN without a majority: no leader, no promotion


@pytest.mark.timeout(60)
def test_odown_without_majority_never_elects_a_leader(make_topology: Callable[..., Topology],
                                                      resources: Resources) -> None:
    topo = make_topology(quorum=1)
    lone, *stopped = topo.sentinels
    for sentinel in stopped:
        assert sentinel.stop() == 0, sentinel.diagnostics()
    events = events_of(resources, [lone])
    old = topo.master

    killed_at = time.monotonic()
    old.kill9()
    odown = events.wait_for("+odown", 10, since=killed_at)
    assert odown.data == f"master mymaster 127.0.0.1 {old.port} #quorum 1/1"
    assert "o_down" in lone.master()["flags"].split(","), lone.view()

    def nobody_promoted() -> None:
        assert not events.events("+elected-leader"), events.describe(killed_at)
        assert [role(r) for r in topo.replicas] == ["slave", "slave"]

    # The one attempt that fits gives up after min(failover-timeout, 10 s).
    observe(odown.at + 2 * FAILOVER_TIMEOUT + 2 - time.monotonic(), nobody_promoted, interval=0.25)
    assert events.events("+try-failover"), events.describe(killed_at)
    assert events.events("-failover-abort-not-elected"), events.describe(killed_at)
    assert master_addr(lone) == ["127.0.0.1", str(old.port)]
    for replica in topo.replicas:
        assert int(replica.info()["master_port"]) == old.port


# --------------------------------------------------------------------------------------
# A vote survives kill -9


def test_vote_survives_kill9_restart(make_topology: Callable[..., Topology]) -> None:
    topo = make_topology()
    sentinel = topo.sentinels[0]
    master_port = topo.master.port
    candidate_a, candidate_b = secrets.token_hex(20), secrets.token_hex(20)
    epoch = 7  # above every epoch of a fresh topology (0)

    def ask(candidate: str, request_epoch: int) -> Any:
        return sentinel.cmd("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", HOST, master_port,
                            request_epoch, candidate)

    assert ask(candidate_a, epoch) == [0, candidate_a, epoch]
    sentinel.kill9()
    sentinel.start()

    reply = ask(candidate_b, epoch)
    print(f"after restart: {reply!r}")
    assert not isinstance(reply, Error), reply
    # Neither sentinel.c nor Warden writes the runid voted for to the file, only the
    # epoch of the vote: after a restart the vote is reported as "*", never as B.
    assert reply[0] == 0 and reply[2] == epoch, reply
    assert reply[1] in (candidate_a, "*") and reply[1] != candidate_b, \
        f"voted twice in epoch {epoch}: {reply}"
    assert conf_value(sentinel, r"sentinel leader-epoch mymaster (\d+)") == str(epoch)
    assert int(conf_value(sentinel, r"sentinel current-epoch (\d+)") or 0) >= epoch

    # A later epoch is a new election: that vote it does give.
    assert ask(candidate_b, epoch + 1) == [0, candidate_b, epoch + 1]


# --------------------------------------------------------------------------------------
# A redis-py client writing through the failover


@dataclass
class Write:
    started: float
    finished: float
    value: int
    error: Optional[BaseException]


class Writer(threading.Thread):
    """Adds 0, 1, 2... to the set `acked` through a client, every ~10 ms, recording each outcome."""

    def __init__(self, client: redis.Redis) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.writes: list[Write] = []
        self.lock = threading.Lock()
        self.halt = threading.Event()

    def run(self) -> None:
        value = 0
        while not self.halt.is_set():
            started = time.monotonic()
            error: Optional[BaseException] = None
            try:
                self.client.sadd("acked", value)
            except Exception as caught:  # noqa: BLE001 - recorded and judged by the test
                error = caught
            with self.lock:
                self.writes.append(Write(started, time.monotonic(), value, error))
            value += 1
            self.halt.wait(0.01)

    def snapshot(self) -> list[Write]:
        with self.lock:
            return list(self.writes)

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=10)


def recovery(writes: list[Write], since: float) -> Optional[Write]:
    """The first successful write after the first failed one that started after `since`."""
    failed = False
    for write in writes:
        if write.started < since:
            continue
        if write.error is not None:
            failed = True
        elif failed:
            return write
    return None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_writes_through_failover(make_topology: Callable[..., Topology],
                                          resources: Resources, protocol: int) -> None:
    topo = make_topology()
    sentinel = redis.sentinel.Sentinel(
        [(HOST, s.port) for s in topo.sentinels],
        sentinel_kwargs={"protocol": protocol, "socket_timeout": 0.5},
    )
    # No retries inside redis-py: every failed write shows, so the window is measured exactly.
    client = sentinel.master_for("mymaster", socket_timeout=0.5, protocol=protocol,
                                 retry=Retry(NoBackoff(), 0), decode_responses=True)
    writer = Writer(client)
    writer.start()
    resources.add(writer)
    wait_until(lambda: sum(w.error is None for w in writer.snapshot()) >= 20, 10,
               message=lambda: f"20 writes before the kill: {writer.snapshot()[-3:]}")

    killed_at = time.monotonic()
    topo.master.kill9()
    first_ok = wait_until(lambda: recovery(writer.snapshot(), killed_at), FAILOVER_LIMIT + 5,
                          message=lambda: f"writes to succeed again: last {writer.snapshot()[-3:]}")
    # Keep writing for a while: every write after the recovery must succeed.
    wait_until(lambda: writer.snapshot()[-1].started > first_ok.finished + 3, 10, message="3 s more writes")
    writer.stop()
    writes = writer.snapshot()

    after_kill = [w for w in writes if w.started >= killed_at]
    failed = [w for w in after_kill if w.error is not None]
    assert failed, "no write failed although the master was killed"
    unexpected = [w.error for w in failed
                  if not isinstance(w.error, (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError))]
    assert not unexpected, f"unexpected errors: {unexpected[:5]}"
    later_failures = [w for w in writes if w.started >= first_ok.started and w.error is not None]
    assert not later_failures, f"writes failed after the recovery: {later_failures[:5]}"
    window = first_ok.finished - killed_at
    print(f"RESP{protocol}: {len(failed)} writes failed ({sorted({type(w.error).__name__ for w in failed})}); "
          f"writes succeed again {window:.2f} s after kill -9")
    if not REFERENCE:
        assert window <= DOWN_AFTER_MS / 1000 + 2, f"writes failed for {window:.2f} s"

    new_master = next(r for r in topo.replicas if role(r) == "master")
    acked_later = {str(w.value) for w in writes if w.started >= first_ok.started}
    with new_master.client() as direct:
        stored = direct.smembers("acked")
    assert acked_later <= stored, f"{len(acked_later - stored)} acknowledged writes missing on the new master"
    client.close()
