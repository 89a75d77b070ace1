"""Host names (resolve-hostnames / announce-hostnames): a topology announced and discovered
by the name `localhost`, then failed over, against Warden and redis-sentinel alike.

Every redis-server announces itself as `localhost` (replica-announce-ip), the sentinels
monitor the master by that name and announce themselves by it (announce-ip). Both
loopback addresses are bound (::1 optionally), since `localhost` may resolve to either.
"""

from __future__ import annotations

from typing import Callable

import pytest

from harness import (
    HOST, REFERENCE_BIN, WARDEN_BIN, RedisServer, Resources, Sentinel, Simple, is_reference, wait_until,
)

NAME = "localhost"
LOOPBACKS = {"127.0.0.1", "::1"}


def _topology(resources: Resources, binary: str) -> tuple[RedisServer, RedisServer, list[Sentinel]]:
    announce = ["--replica-announce-ip", NAME, "--bind", "127.0.0.1", "-::1"]
    master = resources.add(RedisServer(extra_args=announce)).start()
    replica = resources.add(RedisServer(replicaof=master.port, extra_args=announce)).start()
    wait_until(lambda: replica.info()["master_link_status"] == "up", 15, message="replica in sync")
    sentinels = []
    for _ in range(3):
        body = (
            "bind 127.0.0.1 -::1\n"
            "sentinel resolve-hostnames yes\n"
            "sentinel announce-hostnames yes\n"
            f"sentinel announce-ip {NAME}\n"
            f"sentinel monitor mymaster {NAME} {master.port} 2\n"
            "sentinel down-after-milliseconds mymaster 1000\n"
            "sentinel failover-timeout mymaster 3000\n"
        )
        sentinels.append(resources.add(Sentinel(conf_text=body, binary=binary)).start())
    return master, replica, sentinels


def _announced_by_name(sentinels: list[Sentinel], master_port: int) -> bool:
    for s in sentinels:
        if s.cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster") != [NAME, str(master_port)]:
            return False
        replicas = s.replicas()
        if len(replicas) != 1 or any(r["ip"] != NAME for r in replicas):
            return False
        peers = s.sentinels()
        if len(peers) != 2 or any(p["ip"] != NAME for p in peers):
            return False
    return True


@pytest.mark.timeout(120)
@pytest.mark.parametrize("which", ["under-test", "redis-sentinel"])
def test_topology_announced_and_discovered_by_hostname(resources: Resources, which: str) -> None:
    binary = WARDEN_BIN if which == "under-test" else REFERENCE_BIN
    if which == "redis-sentinel" and is_reference(WARDEN_BIN):
        pytest.skip("the binary under test is redis-sentinel already")
    master, replica, sentinels = _topology(resources, binary)
    wait_until(lambda: _announced_by_name(sentinels, master.port), 30,
               message=lambda: "every sentinel to know the topology by name:\n"
                               + "\n".join(s.view() for s in sentinels))

    # Without announce-hostnames, the same addresses are shown as IPs.
    for s in sentinels:
        assert s.cmd("SENTINEL", "CONFIG", "SET", "announce-hostnames", "no") == Simple("OK")
    for s in sentinels:
        host, port = s.cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
        assert host in LOOPBACKS and port == str(master.port)
        assert all(r["ip"] in LOOPBACKS for r in s.replicas())
    for s in sentinels:
        assert s.cmd("SENTINEL", "CONFIG", "SET", "announce-hostnames", "yes") == Simple("OK")

    # A failover by name: the replica is promoted and named as `localhost`.
    master.kill9()
    wait_until(lambda: all(s.cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster") == [NAME, str(replica.port)]
                           for s in sentinels),
               45, message=lambda: "every sentinel to name the promoted replica:\n"
                                   + "\n".join(s.view() for s in sentinels))
    wait_until(lambda: replica.info()["role"] == "master", 10, message="the replica promoted")
