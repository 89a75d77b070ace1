"""Mixed groups: Warden and redis-sentinel 7.0 in one group of three, as while migrating one
sentinel at a time.

Each run builds a master with two replicas watched by three sentinels of both kinds
(quorum 2, down-after 2000 ms, failover-timeout 3000 ms; the wardens also serve the HTTP
API), kills the master with SIGKILL and checks that the group fails over once: every
sentinel announces the same +switch-master, names the same new master
(SENTINEL GET-MASTER-ADDR-BY-NAME), writes the same config epoch, sees the remaining replica
follow the new master, and no sentinel logs anything that would mean it misread the other
kind. The leader is the sentinel that published +elected-leader; the +vote-for-leader
events of its epoch say who voted for it, so votes crossing kinds are seen; each warden's
/v1/masters/mymaster says whether it led (`ok`) or another did (`observed`). Who led each
run and the count by kind are printed at the end of the module.

Who leads is a race: the first sentinel to reach ODOWN asks for votes at once and gets
them. redis-sentinel does so in the timer tick after a peer confirmed its SDOWN; Warden at
once, but only when its turn in run-id order has come (200 ms per reachable peer before it,
redis-sentinels included), so which kind wins depends mostly on the run ids drawn. Both
kinds lead some of the five runs of each group, but not always, so the test that makes the
single sentinel of one kind lead for sure sets its quorum to 1 and the others' down-after
to 8000 ms. The last test exercises Warden's extras (SENTINEL DEBUG, the HTTP API) and the
protocol both ways (hellos, CLIENT SETNAME, IS-MASTER-DOWN-BY-ADDR votes, epochs).

These tests need both binaries: they are skipped when the sentinel under test
(WARDEN_BIN) is itself redis-sentinel.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Optional

import pytest
import redis

from harness import (
    HOST, REFERENCE_BIN, WARDEN_BIN, Error, EventLog, RedisServer, Resources, Sentinel, Topology,
    is_reference, wait_until, warden_only,
)
from http_support import HTTPSentinel

pytestmark = warden_only

#: Not 1000: redis-sentinel starts the new master's instance after a switch with a PING
#: counted as pending from that moment, but reconnects only up to a ping period (1000 ms)
#: later; with down-after 1000 the PONG can come too late, the new master is SDOWN, and
#: the peers' "down" answers about the old master, not cleared by the switch and younger
#: than 5 s, make it ODOWN at once: a second failover of a healthy master (seen in 2 of
#: 5 runs of 2 redis-sentinel + 1 warden on a loaded machine, started by a redis-sentinel
#: that followed the switch).
DOWN_AFTER_MS = 2000
FAILOVER_TIMEOUT_MS = 3000
#: From kill -9 to +switch-master on all three. redis-sentinel retries an election it lost
#: after 2 x failover-timeout (6 s), so a split vote costs it one more round.
FAILOVER_LIMIT = 25.0
RUNS = 5

WARDEN, REDIS = "warden", "redis-sentinel"
GROUPS = {
    "2redis-1warden": [REDIS, REDIS, WARDEN],
    "1redis-2warden": [REDIS, WARDEN, WARDEN],
}


def kind_of(sentinel: Sentinel) -> str:
    return REDIS if is_reference(sentinel.binary) else WARDEN


def binary_of(kind: str) -> str:
    return REFERENCE_BIN if kind == REDIS else WARDEN_BIN


class MixedTopology(Topology):
    """A topology whose sentinels are of the given kinds; with `http`, the wardens also
    serve the HTTP API (redis-sentinel would refuse the directive)."""

    def __init__(self, kinds: list[str], http: bool = False, **kwargs: Any) -> None:
        super().__init__(sentinels=len(kinds), binaries=[binary_of(k) for k in kinds], **kwargs)
        self.http = http

    def new_sentinel_at(self, index: int) -> Sentinel:
        binary = self.binaries[index]
        if self.http and not is_reference(binary):
            return HTTPSentinel(masters=[self.monitor()], extra=self.extra, binary=binary)
        return super().new_sentinel_at(index)


def start_group(resources: Resources, kinds: list[str], **kwargs: Any) -> MixedTopology:
    options: dict[str, Any] = dict(down_after_ms=DOWN_AFTER_MS, failover_timeout_ms=FAILOVER_TIMEOUT_MS,
                                   http=True)
    options.update(kwargs)
    topo = resources.add(MixedTopology(kinds, **options))
    topo.start()
    topo.wait_discovered(timeout=20)
    topo.wait_linked(timeout=10)
    return topo


def replicates_from(server: RedisServer, master_port: int) -> bool:
    info = server.info("replication")
    return (info["role"] == "slave" and int(info["master_port"]) == master_port
            and info["master_link_status"] == "up")


def role(server: RedisServer) -> Optional[str]:
    try:
        return server.info("replication")["role"]
    except (redis.ConnectionError, redis.TimeoutError):
        return None


def conf_epochs(sentinels: list[Sentinel], master_port: int) -> Optional[int]:
    """The config epoch every file agrees on for `master_port`, or None if they do not yet."""
    epochs = set()
    for s in sentinels:
        text = s.conf_text()
        if not re.search(rf"^sentinel monitor mymaster 127\.0\.0\.1 {master_port} \d+$", text, re.M):
            return None
        match = re.search(r"^sentinel config-epoch mymaster (\d+)$", text, re.M)
        epochs.add(int(match.group(1)) if match else None)
    if len(epochs) == 1 and None not in epochs:
        return epochs.pop()
    return None


#: Log lines that would mean one kind did not understand the other: a hello or a reply it
#: could not read, a command refused. Neither binary logs any of these in a clean run.
SUSPECT = re.compile(r"wrong|malformed|invalid|unknown|unexpected|protocol|error|refus|ignor|cannot|failed",
                     re.I)


def assert_clean_logs(sentinels: list[Sentinel]) -> None:
    for s in sentinels:
        bad = [line for line in s.log_path().read_text(errors="replace").splitlines() if SUSPECT.search(line)]
        assert not bad, f"{s.describe()} logged:\n" + "\n".join(bad[:20])


@dataclass
class Outcome:
    group: str
    run: int
    leader: str          # the leader's kind
    epoch: int
    voters: list[str]    # kinds of the other sentinels that voted for the leader in its epoch
    seconds: float       # kill -9 to +switch-master on all three
    attempts: int        # +try-failover events seen (all sentinels, all epochs)
    order: list[str]     # the kinds in run-id order (Warden's candidates take turns in it)
    leader_rank: int     # the leader's place in that order

    def line(self) -> str:
        return (f"{self.group} run {self.run}: leader {self.leader} in epoch {self.epoch} "
                f"(run-id order {' < '.join(self.order)}, leader #{self.leader_rank + 1}), "
                f"also voted for by {', '.join(self.voters) or 'nobody'}; "
                f"{self.attempts} attempt(s); switched on all three in {self.seconds:.2f} s")


#: Filled by the failover runs, printed by test_leader_tally.
OUTCOMES: list[Outcome] = []


def fail_over_once(topo: MixedTopology, events: EventLog, group: str, run: int) -> Outcome:
    """kill -9 the master; check the group agrees on one new master; who led, who voted."""
    sentinels = topo.sentinels
    old = topo.master
    ids = {s.port: s.myid() for s in sentinels}
    killed_at = time.monotonic()
    old.kill9()

    deadline = killed_at + FAILOVER_LIMIT
    switches = [events.wait_for("+switch-master", max(0.1, deadline - time.monotonic()),
                                port=s.port, since=killed_at) for s in sentinels]
    seconds = max(e.at for e in switches) - killed_at
    new_port = int(switches[0].data.split()[-1])
    expected = f"mymaster 127.0.0.1 {old.port} 127.0.0.1 {new_port}"
    for switch in switches:
        assert switch.data == expected, f"{switch.port}: +switch-master {switch.data}\n" + events.describe(killed_at)
    promoted = [r for r in topo.replicas if r.port == new_port]
    assert len(promoted) == 1, f"new master {new_port} is not a replica\n" + events.describe(killed_at)
    other = next(r for r in topo.replicas if r.port != new_port)

    # Every sentinel names the new master; the data nodes and the files agree.
    for s in sentinels:
        assert s.cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster") == [HOST, str(new_port)], s.view()
    assert role(promoted[0]) == "master"
    wait_until(lambda: replicates_from(other, new_port), 15,
               message=lambda: f"replica {other.port} to follow {new_port}: {other.info()}")
    epoch = wait_until(lambda: conf_epochs(sentinels, new_port), 10,
                       message=lambda: "every config file on the new master with one config epoch:\n"
                       + "\n".join(f"  {s.port}: " + "; ".join(
                           line for line in s.conf_text().splitlines()
                           if line.startswith(("sentinel monitor", "sentinel config-epoch")))
                           for s in sentinels))
    # Each sentinel sees the other replica follow the new master.
    for s in sentinels:
        wait_until(lambda: any(int(r["port"]) == other.port and int(r["master-port"]) == new_port
                               and r["master-link-status"] == "ok" for r in s.replicas()),
                   15, message=lambda: f"{s.describe()} to see {other.port} follow {new_port}: {s.replicas()}")

    # One leader, elected in the config epoch, by votes of both kinds where they crossed.
    elected = events.events("+elected-leader", since=killed_at)
    assert len(elected) == 1, "more than one leader:\n" + events.describe(killed_at)
    leader = next(s for s in sentinels if s.port == elected[0].port)
    votes = {e.port: e.data.split()[-2:] for e in events.events("+vote-for-leader", since=killed_at)
             if e.data.split()[-1] == str(epoch)}
    assert votes.get(leader.port) == [ids[leader.port], str(epoch)], \
        f"the leader's own vote in epoch {epoch}:\n" + events.describe(killed_at)
    # A majority of the three: the leader and at least one other. A sentinel that became a
    # candidate in the same epoch voted for itself, which is the only other vote possible.
    voters = [kind_of(s) for s in sentinels if s is not leader and votes.get(s.port, [None])[0] == ids[leader.port]]
    assert voters, f"no other sentinel voted for the leader in epoch {epoch}:\n" + events.describe(killed_at)
    for port, (runid, _) in votes.items():
        assert runid in (ids[leader.port], ids[port]), \
            f"{port} voted for a third sentinel {runid} in epoch {epoch}:\n" + events.describe(killed_at)
    # Each warden's HTTP API tells the same story: the new address, and the failover as led
    # by itself or observed (led by another sentinel, whichever kind).
    for s in sentinels:
        if isinstance(s, HTTPSentinel):
            def settled() -> Any:
                body = s.api("/v1/masters/mymaster", token=s.token).json
                last = body["last_failover"]
                return body if last and last["result"] != "in_progress" else None
            body = wait_until(settled, 10, message=lambda: f"{s.describe()}: last_failover closed")
            assert body["address"] == {"host": HOST, "port": new_port}, body
            assert body["config_epoch"] == epoch, body
            last = body["last_failover"]
            assert last["led_by_this_sentinel"] == (s is leader), last
            # A warden that tried too and lost the election says so (not_elected).
            tried = bool(events.events("+try-failover", port=s.port, since=killed_at))
            expected = {"ok"} if s is leader else {"observed", "not_elected"} if tried else {"observed"}
            assert last["result"] in expected, (last, events.describe(killed_at))
    assert_clean_logs(sentinels)
    by_id = sorted(sentinels, key=lambda s: ids[s.port])
    outcome = Outcome(group, run, kind_of(leader), epoch, voters, seconds,
                      len(events.events("+try-failover", since=killed_at)),
                      [kind_of(s) for s in by_id], by_id.index(leader))
    print(outcome.line())
    print(events.describe(killed_at))
    return outcome


@pytest.fixture(scope="module", autouse=True)
def leader_tally(request: pytest.FixtureRequest) -> Any:
    """After the module: every run's leader and voters, and the leaders counted by kind."""
    yield
    if not OUTCOMES:
        return
    lines = ["", "mixed groups: who led each failover"]
    lines += ["  " + outcome.line() for outcome in OUTCOMES]
    for group in dict.fromkeys(o.group for o in OUTCOMES):
        counts = Counter(o.leader for o in OUTCOMES if o.group == group)
        lines.append(f"  {group}: {counts[REDIS]} led by redis-sentinel, {counts[WARDEN]} by warden")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n".join(lines), flush=True)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("run", range(1, RUNS + 1))
@pytest.mark.parametrize("group", list(GROUPS))
def test_mixed_group_fails_over(group: str, run: int, resources: Resources) -> None:
    topo = start_group(resources, GROUPS[group])
    events = resources.add(EventLog(topo.sentinels))
    OUTCOMES.append(fail_over_once(topo, events, group, run))


#: Which kind must lead in each group once the majority kind is made slow (see below).
MINORITY = {"2redis-1warden": WARDEN, "1redis-2warden": REDIS}


@pytest.mark.timeout(90)
@pytest.mark.parametrize("group", list(GROUPS))
def test_minority_kind_leads_when_it_alone_sees_odown(group: str, resources: Resources) -> None:
    """Left alone, either kind may lead, the one with two sentinels in the group more often
    (it is more often first in run-id order). Here the single sentinel of the other kind is the
    only one to see ODOWN early: it gets quorum 1, and the other two a down-after of
    8000 ms (both by SENTINEL SET, each on its own sentinel). It must lead, elected by the
    votes of the two sentinels of the other kind, which do not think the master is down
    yet: a vote does not depend on the voter's own view."""
    topo = start_group(resources, GROUPS[group])
    lone = next(s for s in topo.sentinels if kind_of(s) == MINORITY[group])
    for s in topo.sentinels:
        setting = ("quorum", "1") if s is lone else ("down-after-milliseconds", "8000")
        assert s.cmd("SENTINEL", "SET", "mymaster", *setting) == "OK", s.describe()
    events = resources.add(EventLog(topo.sentinels))
    outcome = fail_over_once(topo, events, group + " (slowed)", 1)
    OUTCOMES.append(outcome)
    assert outcome.leader == MINORITY[group], outcome.line()
    assert len(outcome.voters) == 2, outcome.line()
    assert events.events("+elected-leader")[0].port == lone.port


# --------------------------------------------------------------------------------------
# The migration itself: each redis-sentinel replaced by a warden that reads its file


@pytest.mark.timeout(150)
def test_rolling_migration_from_redis_sentinel(resources: Resources) -> None:
    """Three redis-sentinels are replaced one at a time, as an operator would: stop one
    (SIGTERM, so it rewrites its file), start warden on the same file and port. Warden
    takes over its identity (myid, epochs, known replicas and sentinels), the others see
    the same sentinel come back, not a fourth one, and after each step a kill -9 of the
    master fails over (2+1, 1+2, then 0+3). A last step rolls one back: redis-sentinel
    reads the file warden wrote. The killed master is restarted as a replica of the new
    one, so that the next step has two replicas again."""
    topo = start_group(resources, [REDIS, REDIS, REDIS], http=False)
    sentinels = topo.sentinels
    plan = [(sentinels[0], WARDEN), (sentinels[1], WARDEN), (sentinels[2], WARDEN), (sentinels[0], REDIS)]
    for step, (sentinel, kind) in enumerate(plan, start=1):
        identity = sentinel.myid()
        assert sentinel.stop() == 0, sentinel.diagnostics()
        sentinel.binary = binary_of(kind)
        sentinel.start()
        assert sentinel.myid() == identity
        kinds = Counter(kind_of(s) for s in sentinels)
        group = (f"migration step {step} ({kinds[REDIS]} redis-sentinel + {kinds[WARDEN]} warden"
                 + (", one back to redis-sentinel)" if kind == REDIS else ")"))

        def rejoined() -> bool:
            for observer in sentinels:
                peers = {p["runid"]: p for p in observer.sentinels()}
                others = {s.myid() for s in sentinels if s is not observer}
                if set(peers) != others or any(p["flags"] != "sentinel" for p in peers.values()):
                    return False
                replicas = {int(r["port"]): r for r in observer.replicas()}
                if any(replicas.get(r.port, {}).get("flags") != "slave" for r in topo.replicas):
                    return False
            return True

        wait_until(rejoined, 20, message=lambda: f"{group}: every sentinel to see the two others, "
                   "under their run ids, and both replicas:\n" + topo.views())
        events = resources.add(EventLog(sentinels))
        old = topo.master
        outcome = fail_over_once(topo, events, group, 1)
        OUTCOMES.append(outcome)
        events.stop()
        promoted = next(r for r in topo.replicas if role(r) == "master")
        other = next(r for r in topo.replicas if r is not promoted)
        old.replicaof = (HOST, promoted.port)
        old.start()
        wait_until(lambda: replicates_from(old, promoted.port), 15,
                   message=lambda: f"the old master {old.port} to replicate from {promoted.port}: {old.info()}")
        topo.master, topo.replicas = promoted, [other, old]
    assert [kind_of(s) for s in sentinels] == [REDIS, WARDEN, WARDEN]


# --------------------------------------------------------------------------------------
# Warden's extras beside redis-sentinel peers


def peer_views(observer: Sentinel) -> dict[int, dict[str, Any]]:
    return {int(p["port"]): p for p in observer.sentinels()}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("group", list(GROUPS))
def test_mixed_group_extras_degrade_cleanly(group: str, resources: Resources) -> None:
    topo = start_group(resources, GROUPS[group])
    sentinels = topo.sentinels
    ids = {s.port: s.myid() for s in sentinels}
    wardens = [s for s in sentinels if kind_of(s) == WARDEN]
    references = [s for s in sentinels if kind_of(s) == REDIS]

    # Hellos both ways: each kind read the other's, under the right run id and address,
    # and keeps hearing them (a hello every 2 s; sampled over 4.5 s).
    end = time.monotonic() + 4.5
    while True:
        for observer in sentinels:
            views = peer_views(observer)
            assert sorted(views) == sorted(s.port for s in sentinels if s is not observer), views
            for port, view in views.items():
                assert view["runid"] == ids[port] and view["ip"] == HOST, (observer.describe(), view)
                assert view["flags"] == "sentinel", (observer.describe(), view)
                assert int(view["last-hello-message"]) < 3000, (observer.describe(), view)
        if time.monotonic() >= end:
            break
        time.sleep(0.5)

    # Each kind accepted the other's connection set-up: the peers' command links carry the
    # names they set with CLIENT SETNAME (sentinel-<first 8 of the run id>-cmd).
    for observer in sentinels:
        names = set(re.findall(r"\bname=(\S*)", observer.cmd("CLIENT", "LIST")))
        for s in sentinels:
            if s is not observer:
                assert f"sentinel-{ids[s.port][:8]}-cmd" in names, (observer.describe(), names)

    # SENTINEL DEBUG: Warden lists Redis's parameters, in Redis's order; its own
    # (candidacy-stagger) is settable but not listed, and redis-sentinel refuses it.
    reference_debug = references[0].cmd("SENTINEL", "DEBUG")
    for warden in wardens:
        debug = warden.cmd("SENTINEL", "DEBUG")
        assert debug[0::2] == reference_debug[0::2], (debug, reference_debug)
        assert warden.cmd("SENTINEL", "DEBUG", "candidacy-stagger", "300") == "OK"
    assert isinstance(references[0].cmd("SENTINEL", "DEBUG", "candidacy-stagger", "300"), Error)

    # The HTTP API of each warden describes its redis-sentinel peers like any other, and
    # counts them for readiness.
    for warden in wardens:
        body = warden.api("/v1/masters/mymaster", token=warden.token).json
        peers = {p["address"]["port"]: p for p in body["sentinels"]}
        assert sorted(peers) == sorted(s.port for s in sentinels if s is not warden), body["sentinels"]
        for port, peer in peers.items():
            assert peer["run_id"] == ids[port] and peer["flags"] == ["sentinel"], peer
            assert peer["status"] == "ok" and peer["last_hello_ms"] < 3000, peer
        ready = warden.api("/v1/readiness", token=warden.token)
        assert ready.status == 200, ready

    # Votes across kinds (IS-MASTER-DOWN-BY-ADDR, as a candidate asks): without a run id,
    # the same shape from both; a redis-sentinel votes for a warden and a warden for a
    # redis-sentinel in the epoch asked, and the new current epoch reaches every file.
    master = topo.master
    def ask(s: Sentinel, epoch: int, runid: str) -> Any:
        reply = s.cmd("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", HOST, master.port, epoch, runid)
        # redis-sentinel reads the leader only from a bulk string (not a +status reply).
        assert isinstance(reply, list) and len(reply) == 3 and type(reply[1]) is str, (s.describe(), reply)
        return reply

    for s in sentinels:
        assert ask(s, 0, "*") == [0, "*", 0], s.describe()
    reference, warden = references[0], wardens[0]
    assert ask(reference, 1, ids[warden.port]) == [0, ids[warden.port], 1]
    assert ask(warden, 2, ids[reference.port]) == [0, ids[reference.port], 2]
    # Asked again in an older epoch, each keeps its vote: no second vote in any epoch.
    assert ask(reference, 1, ids[reference.port]) == [0, ids[warden.port], 1]
    assert ask(warden, 1, ids[warden.port]) == [0, ids[reference.port], 2]
    wait_until(lambda: all(re.search(r"^sentinel current-epoch 2$", s.conf_text(), re.M) for s in sentinels),
               10, message=lambda: "current-epoch 2 in every file:\n" + "\n".join(
                   f"  {s.port}: " + "; ".join(line for line in s.conf_text().splitlines() if "epoch" in line)
                   for s in sentinels))
    # Nobody failed over the healthy master, and neither kind complained of the other.
    for s in sentinels:
        assert s.cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster") == [HOST, str(master.port)]
    assert_clean_logs(sentinels)
