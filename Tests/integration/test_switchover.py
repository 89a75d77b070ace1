"""Coordinated switchover with real processes: `SENTINEL FAILOVER <name> COORDINATED [TO ip port]`
and POST /v1/masters/{name}/switchover (docs/switchover.md).

A redis-server 7 master with two replicas and three wardens: the switchover is elected,
the master hands over with FAILOVER TO, every sentinel names the new master with one
config epoch, the old master follows the new one and no acknowledged write is lost;
refused with the master down (the ordinary SENTINEL FAILOVER then works); a hand-over
the master gives up on is aborted with the master keeping its role and taking writes.

Warden only: redis-sentinel 7.0 has no COORDINATED form.
"""

from __future__ import annotations

import json
import time
from typing import Callable

import pytest
import redis

from harness import HOST, Error, EventLog, Monitor, RedisServer, Resources, Sentinel, Topology, wait_until, warden_only
from http_support import TOKEN, HTTPSentinel, HTTPTopology
from test_failover import master_addr, replicates_from, role, wait_config_files, wait_switched

pytestmark = warden_only

DOWN_AFTER_MS = 5000
FAILOVER_TIMEOUT_MS = 10000
SWITCH_LIMIT = 20.0


def start(resources: Resources, topology: Topology) -> Topology:
    resources.add(topology)
    topology.start()
    topology.wait_discovered(timeout=15)
    topology.wait_linked(timeout=10)
    return topology


@pytest.fixture
def topo(resources: Resources) -> Topology:
    return start(resources, Topology(down_after_ms=DOWN_AFTER_MS, failover_timeout_ms=FAILOVER_TIMEOUT_MS))


def write_numbers(server: RedisServer, start: int, count: int) -> None:
    with server.client() as client:
        pipe = client.pipeline(transaction=False)
        for n in range(start, start + count):
            pipe.set(f"n:{n}", n)
        pipe.execute()


@pytest.mark.timeout(90)
def test_coordinated_switchover(topo: Topology, resources: Resources) -> None:
    old = topo.master
    assert old is not None
    leader = topo.sentinels[0]
    events = resources.add(EventLog(topo.sentinels))
    write_numbers(old, 0, 1000)

    asked_at = time.monotonic()
    assert leader.cmd("SENTINEL", "FAILOVER", "mymaster", "COORDINATED") == "OK"
    assert leader.cmd("SENTINEL", "FAILOVER", "mymaster", "COORDINATED") == Error("INPROG Failover already in progress")
    new_port = wait_switched(events, topo.sentinels, old.port, since=asked_at, timeout=SWITCH_LIMIT)
    print(f"+switch-master on all three {time.monotonic() - asked_at:.2f} s after COORDINATED")
    # Elected (not forced), handed over by the master, never SLAVEOF NO ONE'd.
    assert [e.port for e in events.events("+elected-leader")] == [leader.port], events.describe(asked_at)
    assert events.events("+switchover-accepted", port=leader.port), events.describe(asked_at)
    assert not events.events("+odown"), events.describe(asked_at)
    assert not [e for e in events.events() if e.channel.startswith("-failover-abort")], events.describe(asked_at)
    promoted = next(r for r in topo.replicas if r.port == new_port)
    other = next(r for r in topo.replicas if r.port != new_port)
    assert role(promoted) == "master"
    # The old master follows the new one; so does the other replica.
    wait_until(lambda: replicates_from(old, new_port), 15, message="the old master replicates from the new one")
    wait_until(lambda: replicates_from(other, new_port), 15, message="the other replica follows the new master")
    epoch = wait_config_files(topo.sentinels, new_port)
    assert epoch >= 1
    for sentinel in topo.sentinels:
        assert master_addr(sentinel) == [HOST, str(new_port)], sentinel.view()
    # Every write is on the new master, and it takes new ones.
    with promoted.client() as client:
        assert client.dbsize() == 1000
        assert client.set("after", "1")
    assert len(events.events("+switch-master", port=leader.port)) == 1


@pytest.mark.timeout(90)
def test_coordinated_switchover_to_a_chosen_replica_over_http(resources: Resources) -> None:
    topo = start(resources, HTTPTopology(down_after_ms=DOWN_AFTER_MS, failover_timeout_ms=FAILOVER_TIMEOUT_MS))
    s = topo.sentinels[0]
    assert isinstance(s, HTTPSentinel)
    old = topo.master
    assert old is not None
    events = resources.add(EventLog(topo.sentinels))
    path = "/v1/masters/mymaster/switchover"
    json_headers = {"Content-Type": "application/json"}
    # Refusals first: nothing is started by them.
    assert s.api(path, method="POST").status == 401
    assert s.api("/v1/masters/nosuch/switchover", method="POST", token=TOKEN).status == 404
    for body in (b"[1]", b"{\"to\": 5}", b"{\"to\": {\"ip\": \"127.0.0.1\"}}", b"{\"other\": 1}",
                 b"{\"to\": {\"ip\": \"127.0.0.1\", \"port\": 70000}}", b"not json"):
        bad = s.api(path, method="POST", token=TOKEN, body=body, headers=json_headers)
        assert bad.status == 400, (body, bad.status, bad.json)
    unknown = s.api(path, method="POST", token=TOKEN, headers=json_headers,
                    body=json.dumps({"to": {"ip": HOST, "port": old.port}}).encode())
    assert unknown.status == 409 and "No such replica" in unknown.json["error"]["message"], unknown.json
    named = s.api(path, method="POST", token=TOKEN, headers=json_headers,
                  body=json.dumps({"to": {"ip": "not an ip", "port": 6379}}).encode())
    assert named.status == 409 and "No such replica" in named.json["error"]["message"], named.json
    assert not events.events("+try-failover")

    # Both replicas are equally good: ask for the second one by name.
    target = topo.replicas[1]
    asked_at = time.monotonic()
    accepted = s.api(path, method="POST", token=TOKEN, headers=json_headers,
                     body=json.dumps({"to": {"ip": HOST, "port": target.port}}).encode())
    assert accepted.status == 202 and accepted.json == {"name": "mymaster", "accepted": True}
    busy = s.api(path, method="POST", token=TOKEN)
    assert busy.status == 409 and busy.json["error"]["message"].startswith("INPROG"), busy.json
    new_port = wait_switched(events, topo.sentinels, old.port, since=asked_at, timeout=SWITCH_LIMIT)
    assert new_port == target.port
    for other in topo.sentinels:
        wait_until(lambda: (r := other.api("/v1/masters/mymaster/primary")).status == 200
                   and r.json["address"]["port"] == new_port, 20, message="every sentinel names the new master")
    wait_until(lambda: replicates_from(old, new_port), 15, message="the old master replicates from the new one")
    assert "HTTP: coordinated failover of mymaster requested" in s.log(300)


@pytest.mark.timeout(60)
def test_refused_when_the_master_is_down(make_redis: Callable[..., RedisServer], resources: Resources) -> None:
    """A lone sentinel (quorum 2: never ODOWN) sees the master SDOWN: COORDINATED is refused,
    the ordinary SENTINEL FAILOVER is what fails it over."""
    master = make_redis()
    replica = make_redis(replicaof=master.port)
    wait_until(lambda: replicates_from(replica, master.port), 10, message="the replica in sync")
    sentinel = resources.add(Sentinel(masters=[Monitor(port=master.port, quorum=2, down_after_ms=1000)])).start()
    wait_until(lambda: sentinel.master()["num-slaves"] == "1", 15, message="the replica discovered")
    master.pause()
    try:
        wait_until(lambda: "s_down" in sentinel.master()["flags"], 10, message="the master SDOWN")
        refused = sentinel.cmd("SENTINEL", "FAILOVER", "mymaster", "COORDINATED")
        assert isinstance(refused, Error) and refused.startswith("NOGOODMASTER "), refused
        assert "failover_in_progress" not in sentinel.master()["flags"]
        assert sentinel.cmd("SENTINEL", "FAILOVER", "mymaster") == "OK"
        wait_until(lambda: master_addr(sentinel) == [HOST, str(replica.port)], 20,
                   message="the ordinary failover promotes the replica")
    finally:
        master.resume()


@pytest.mark.timeout(90)
def test_a_hand_over_the_master_gives_up_is_aborted_and_writes_resume(topo: Topology, resources: Resources) -> None:
    """The chosen replica is stopped: it cannot catch up, the master's FAILOVER times out
    (switchover-timeout 2000) and the master, which kept its role, takes writes again."""
    old = topo.master
    assert old is not None
    leader = topo.sentinels[0]
    assert leader.cmd("SENTINEL", "SET", "mymaster", "switchover-timeout", "2000") == "OK"
    assert leader.master()["switchover-timeout"] == "2000"
    events = resources.add(EventLog(topo.sentinels))
    target = topo.replicas[0]
    target.pause()
    try:
        write_numbers(old, 0, 100)  # the stopped replica is behind now
        asked_at = time.monotonic()
        assert leader.cmd("SENTINEL", "FAILOVER", "mymaster", "COORDINATED", "TO", HOST, str(target.port)) == "OK"
        abort = events.wait_for("-failover-abort-switchover-failed", 15, port=leader.port, since=asked_at)
        print(f"aborted {abort.at - asked_at:.2f} s after COORDINATED")
        assert not events.events("+switch-master"), events.describe(asked_at)
        assert "failover_in_progress" not in leader.master()["flags"]
        # The master kept its role and takes writes at once (no pause left behind).
        info = old.info("replication")
        assert info["role"] == "master" and info["master_failover_state"] == "no-failover"
        with old.client(socket_timeout=1) as client:
            started = time.monotonic()
            assert client.set("after-abort", "1")
            assert time.monotonic() - started < 0.5
        for sentinel in topo.sentinels:
            assert master_addr(sentinel) == [HOST, str(old.port)]
    finally:
        target.resume()


@pytest.mark.timeout(90)
def test_failover_refused_by_the_master_is_aborted(topo: Topology, resources: Resources) -> None:
    """The sentinels' ACL user lacks +failover (Valkey 9 users hit this, valkey#2779): FAILOVER
    is refused inside the transaction, -failover-abort-switchover-refused, nothing changes."""
    old = topo.master
    assert old is not None
    for server in [old, *topo.replicas]:
        with server.client() as client:
            client.execute_command("ACL", "SETUSER", "sentinel-user", "on", ">sentinel-pw", "allchannels",
                                   "+@all", "-failover")
    for sentinel in topo.sentinels:
        assert sentinel.cmd("SENTINEL", "SET", "mymaster", "auth-user", "sentinel-user",
                            "auth-pass", "sentinel-pw") == "OK"
    topo.wait_linked(timeout=15)
    leader = topo.sentinels[0]
    wait_until(lambda: leader.master()["flags"] == "master", 10, message="the master linked again")
    events = resources.add(EventLog(topo.sentinels))
    asked_at = time.monotonic()
    assert leader.cmd("SENTINEL", "FAILOVER", "mymaster", "COORDINATED") == "OK"
    events.wait_for("-failover-abort-switchover-refused", 15, port=leader.port, since=asked_at)
    assert "NOPERM" in leader.log(100) or "EXECABORT" in leader.log(100), leader.log(40)
    assert not events.events("+switch-master"), events.describe(asked_at)
    assert "failover_in_progress" not in leader.master()["flags"]
    with old.client(socket_timeout=2) as client:
        assert client.set("after", "1")
    assert role(old) == "master"
    for sentinel in topo.sentinels:
        assert master_addr(sentinel) == [HOST, str(old.port)]


def test_coordinated_syntax(topo: Topology) -> None:
    s = topo.sentinels[0]
    assert s.cmd("SENTINEL", "FAILOVER", "mymaster", "COORDINATED", "TO", HOST) == \
        Error("ERR syntax error. Usage: SENTINEL FAILOVER <master-name> [COORDINATED [TO <ip> <port>] | FORCE]")
    assert s.cmd("SENTINEL", "FAILOVER", "mymaster", "COORDINATED", "TO", HOST, "1", "2") == \
        Error("ERR wrong number of arguments for 'sentinel|failover' command")
    assert s.cmd("SENTINEL", "FAILOVER", "nosuch", "COORDINATED") == Error("ERR No such master with that name")
    assert s.cmd("SENTINEL", "FAILOVER", "mymaster", "COORDINATED", "TO", HOST, "1") == \
        Error(f"ERR No such replica {HOST}:1 of master 'mymaster'")
    # COMMAND still shows redis-sentinel's arity for it.
    info = s.cmd("COMMAND", "INFO", "sentinel")
    subs = {sub[0]: sub[1] for sub in info[0][9]}
    assert subs["sentinel|failover"] == 3
