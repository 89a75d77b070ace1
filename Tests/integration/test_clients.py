"""Real clients find the master and replicas through the sentinels: redis-cli, redis-py."""

from __future__ import annotations

import subprocess
import uuid

import pytest
import redis.sentinel

from harness import HOST, Topology, wait_until


def test_redis_cli_get_master_addr(topology: Topology) -> None:
    for sentinel in topology.sentinels:
        result = subprocess.run(
            ["redis-cli", "-h", HOST, "-p", str(sentinel.port),
             "SENTINEL", "get-master-addr-by-name", "mymaster"],
            capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["127.0.0.1", str(topology.master.port)]


def _redis_py_sentinel(topology: Topology, protocol: int) -> redis.sentinel.Sentinel:
    return redis.sentinel.Sentinel(
        [(HOST, s.port) for s in topology.sentinels],
        socket_timeout=1,
        sentinel_kwargs={"protocol": protocol, "socket_timeout": 1},
    )


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_master_for(topology: Topology, protocol: int) -> None:
    client = _redis_py_sentinel(topology, protocol)
    assert client.discover_master("mymaster") == (HOST, topology.master.port)
    master = client.master_for("mymaster", protocol=protocol, decode_responses=True)
    key, value = f"k-{protocol}", str(uuid.uuid4())
    assert master.set(key, value) is True
    assert master.get(key) == value
    master.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_slave_for_and_discover_slaves(topology: Topology, protocol: int) -> None:
    client = _redis_py_sentinel(topology, protocol)
    replicas = client.discover_slaves("mymaster")
    assert sorted(replicas) == sorted((HOST, r.port) for r in topology.replicas)

    key, value = f"replicated-{protocol}", str(uuid.uuid4())
    with topology.master.client() as master:
        master.set(key, value)
    replica = client.slave_for("mymaster", protocol=protocol, decode_responses=True)
    assert wait_until(lambda: replica.get(key) == value, 10, message=f"{key} to reach a replica")
    assert replica.info("replication")["role"] == "slave"
    replica.close()


def test_redis_py_sentinel_commands(topology: Topology) -> None:
    """redis-py's own parsers for SENTINEL replies accept what the sentinel sends."""
    with topology.sentinels[0].client(protocol=2) as client:
        masters = client.sentinel_masters()
        state = masters["mymaster"]
        assert state["is_master"] and not state["is_sdown"] and not state["is_odown"]
        assert state["num-other-sentinels"] == 2
        assert state["port"] == topology.master.port
        assert len(client.sentinel_slaves("mymaster")) == 2
        assert len(client.sentinel_sentinels("mymaster")) == 2
        assert client.sentinel_get_master_addr_by_name("mymaster") == (HOST, topology.master.port)
