"""Replies of the sentinel under test compared live with a real redis-sentinel.

One topology: master + 2 replicas, 3 sentinels under test and 1 reference
redis-sentinel watching the same master. Both kinds answer about the same instances,
so field lists line up, and the mix also checks that they discover each other. The
comparisons of reply shapes do not depend on that discovery: they hold even if the two
kinds ignored each other.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

from harness import (
    HEX40, NULL3, NULL_ARRAY, REFERENCE_BIN, Error, Map, Resources, Sentinel, Simple, Topology,
    info_sections, keys_of, pairs, shape, wait_until,
)

#: Fields that only appear in some states; compared only when both replies have them.
OPTIONAL_FIELDS = {"failover-state", "s-down-time", "o-down-time", "notification-script", "client-reconfig-script"}


class Mixed:
    """The topology plus the reference sentinel and the one under test that we query."""

    def __init__(self, topology: Topology, reference: Sentinel) -> None:
        self.topology = topology
        self.reference = reference
        self.sut = topology.sentinels[0]

    def both(self, *args: Any, protocol: int = 2) -> tuple[Any, Any]:
        """The same command on fresh connections to the sentinel under test and the reference."""
        with self.sut.conn(protocol) as sut, self.reference.conn(protocol) as ref:
            return sut.call(*args), ref.call(*args)


@pytest.fixture(scope="module")
def mixed(module_resources: Resources) -> Iterator[Mixed]:
    topology = module_resources.add(Topology())
    topology.start()
    reference = topology.add_sentinel(binary=REFERENCE_BIN)
    everyone = topology.sentinels + [reference]

    def ready() -> bool:
        views = [s.master() for s in everyone]
        return (all(v["num-slaves"] == "2" for v in views)
                and all(int(v["num-other-sentinels"]) >= 2 for v in views[:-1]))

    wait_until(ready, 15, message=lambda: "replicas and peers discovered:\n" + topology.views())
    yield Mixed(topology, reference)


def _comparable(keys: list[Any], other: list[Any]) -> list[Any]:
    return [k for k in keys if k not in OPTIONAL_FIELDS or k in other]


def assert_same_fields(sut_map: Any, ref_map: Any, what: str) -> None:
    sut_keys, ref_keys = keys_of(sut_map), keys_of(ref_map)
    assert _comparable(sut_keys, ref_keys) == _comparable(ref_keys, sut_keys), (
        f"{what}: field names/order differ\n  under test: {sut_keys}\n  reference:  {ref_keys}"
    )
    assert type(sut_map) is type(ref_map), f"{what}: {type(sut_map).__name__} vs {type(ref_map).__name__}"
    for key, value in pairs(sut_map):
        assert type(value) is str, f"{what}: {key} should be a bulk string, got {value!r}"


def test_reference_and_sut_discover_each_other(mixed: Mixed) -> None:
    everyone = mixed.topology.sentinels + [mixed.reference]
    wait_until(
        lambda: all(s.master()["num-other-sentinels"] == "3" for s in everyone),
        15, message=lambda: "all 4 sentinels to see 3 others:\n" + mixed.topology.views(),
    )
    reference_ports = sorted(p["port"] for p in mixed.reference.sentinels())
    assert reference_ports == sorted(str(s.port) for s in mixed.topology.sentinels)
    for sentinel in mixed.topology.sentinels:
        assert str(mixed.reference.port) in [p["port"] for p in sentinel.sentinels()]


@pytest.mark.parametrize("protocol", [2, 3])
def test_master_fields(mixed: Mixed, protocol: int) -> None:
    sut, ref = mixed.both("SENTINEL", "MASTER", "mymaster", protocol=protocol)
    assert_same_fields(sut, ref, "SENTINEL MASTER")


@pytest.mark.parametrize("protocol", [2, 3])
def test_masters_fields(mixed: Mixed, protocol: int) -> None:
    sut, ref = mixed.both("SENTINEL", "MASTERS", protocol=protocol)
    assert type(sut) is type(ref) is list and len(sut) == len(ref) == 1
    assert_same_fields(sut[0], ref[0], "SENTINEL MASTERS")


@pytest.mark.parametrize("subcommand", ["REPLICAS", "SLAVES"])
@pytest.mark.parametrize("protocol", [2, 3])
def test_replica_fields(mixed: Mixed, subcommand: str, protocol: int) -> None:
    sut, ref = mixed.both("SENTINEL", subcommand, "mymaster", protocol=protocol)
    assert len(sut) == len(ref) == 2
    by_name = lambda reply: sorted(reply, key=lambda m: dict(pairs(m))["name"])  # noqa: E731
    for sut_map, ref_map in zip(by_name(sut), by_name(ref)):
        assert dict(pairs(sut_map))["name"] == dict(pairs(ref_map))["name"]
        assert_same_fields(sut_map, ref_map, f"SENTINEL {subcommand}")


@pytest.mark.parametrize("protocol", [2, 3])
def test_sentinel_fields(mixed: Mixed, protocol: int) -> None:
    sut, ref = mixed.both("SENTINEL", "SENTINELS", "mymaster", protocol=protocol)
    assert sut and ref
    for sut_map in sut:
        for ref_map in ref:
            assert_same_fields(sut_map, ref_map, "SENTINEL SENTINELS")


# Commands whose whole reply must be identical. The third column pins the text that
# redis-sentinel 7.0.15 was seen to reply (None: only compared live).
SAME_REPLY = [
    (("SENTINEL", "MASTER", "nosuch"), Error("ERR No such master with that name")),
    (("SENTINEL", "REPLICAS", "nosuch"), Error("ERR No such master with that name")),
    (("SENTINEL", "SENTINELS", "nosuch"), Error("ERR No such master with that name")),
    (("SENTINEL", "CKQUORUM", "nosuch"), Error("ERR No such master with that name")),
    (("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuch"), None),
    (("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"), None),
    (("SENTINEL", "get-master-addr-by-name", "mymaster"), None),
    (("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0", "*"), [0, "*", 0]),
    (("SENTINEL", "PENDING-SCRIPTS"), []),
    (("SENTINEL", "RESET", "nosuch"), 0),
    (("FOO", "a", "b"), Error("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ")),
    (("foo",), Error("ERR unknown command 'foo', with args beginning with: ")),
    (("GET", "x"), Error("ERR unknown command 'GET', with args beginning with: 'x' ")),
    (("SELECT", "0"), Error("ERR unknown command 'SELECT', with args beginning with: '0' ")),
    (("PUBLISH", "foo", "bar"), Error("ERR Only HELLO messages are accepted by Sentinel instances.")),
    (("SENTINEL", "NOSUCH"), Error("ERR unknown subcommand 'NOSUCH'. Try SENTINEL HELP.")),
    (("SENTINEL",), Error("ERR wrong number of arguments for 'sentinel' command")),
    (("SENTINEL", "MASTER"), Error("ERR wrong number of arguments for 'sentinel|master' command")),
    (("SENTINEL", "MYID", "x"), Error("ERR wrong number of arguments for 'sentinel|myid' command")),
    (("SENTINEL", "SET", "mymaster", "quorum"), Error("ERR wrong number of arguments for 'sentinel|set' command")),
    (("SENTINEL", "INFO-CACHE"), Error("ERR wrong number of arguments for 'sentinel|info-cache' command")),
    (("PING", "a", "b"), Error("ERR wrong number of arguments for 'ping' command")),
    (("SUBSCRIBE",), Error("ERR wrong number of arguments for 'subscribe' command")),
    (("CLIENT", "NOSUCH"), Error("ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.")),
    (("PING",), Simple("PONG")),
    (("ping", "hello"), "hello"),
    (("ROLE",), ["sentinel", ["mymaster"]]),
    (("HELLO", "4"), Error("NOPROTO unsupported protocol version")),
    (("AUTH", "x"), Error("ERR AUTH <password> called without any password configured for the default user. "
                          "Are you sure your configuration is correct?")),
    (("AUTH", "a", "b"), Error("WRONGPASS invalid username-password pair or user is disabled.")),
    (("SENTINEL", "CONFIG", "GET", "announce-ip"), None),
    (("SENTINEL", "CONFIG", "GET", "nosuch"), None),
    (("SENTINEL", "CONFIG", "GET", "announce-*"), None),
    (("SENTINEL", "CONFIG", "SET", "nosuch", "1"), Error("ERR Invalid argument 'nosuch' to SENTINEL CONFIG SET")),
    (("ACL", "WHOAMI"), "default"),
]


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("args,expected", SAME_REPLY, ids=[" ".join(a) for a, _ in SAME_REPLY])
def test_same_reply(mixed: Mixed, args: tuple[str, ...], expected: Any, protocol: int) -> None:
    sut, ref = mixed.both(*args, protocol=protocol)
    if expected is not None:
        assert ref == expected, f"the reference itself replied {ref!r}"
    assert sut == ref
    assert shape(sut) == shape(ref)


@pytest.mark.parametrize("protocol,null", [(2, NULL_ARRAY), (3, NULL3)])
def test_unknown_master_address_is_null(mixed: Mixed, protocol: int, null: Any) -> None:
    sut, ref = mixed.both("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuch", protocol=protocol)
    assert ref == null
    assert sut == null


def test_get_master_addr(mixed: Mixed) -> None:
    sut, ref = mixed.both("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
    assert sut == ref == ["127.0.0.1", str(mixed.topology.master.port)]


def test_myid(mixed: Mixed) -> None:
    sut, ref = mixed.both("SENTINEL", "MYID")
    assert type(sut) is type(ref) is str
    assert HEX40.match(sut) and HEX40.match(ref) and sut != ref


def test_ckquorum(mixed: Mixed) -> None:
    pattern = re.compile(r"^OK (\d+) usable Sentinels\. Quorum and failover authorization can be reached$")
    sut, ref = mixed.both("SENTINEL", "CKQUORUM", "mymaster")
    assert type(sut) is type(ref) is Simple
    assert pattern.match(ref), ref
    match = pattern.match(sut)
    assert match, sut
    assert int(match.group(1)) == int(mixed.sut.master()["num-other-sentinels"]) + 1


@pytest.mark.parametrize("protocol", [2, 3])
def test_info(mixed: Mixed, protocol: int) -> None:
    sut, ref = mixed.both("INFO", protocol=protocol)
    # redis-sentinel 7.0 sends INFO as a bulk string even in RESP3 (not verbatim).
    assert type(sut) is type(ref) is str
    sut_sections, ref_sections = info_sections(sut), info_sections(ref)
    assert list(sut_sections) == list(ref_sections) == ["Server", "Clients", "Stats", "CPU", "Sentinel"]
    assert [k for k, _ in sut_sections["Sentinel"]] == [k for k, _ in ref_sections["Sentinel"]]
    server = dict(sut_sections["Server"])
    assert server["redis_mode"] == dict(ref_sections["Server"])["redis_mode"] == "sentinel"
    assert server["tcp_port"] == str(mixed.sut.port)
    assert HEX40.match(server["run_id"])

    master0 = re.compile(r"^name=mymaster,status=ok,address=127\.0\.0\.1:(\d+),slaves=2,sentinels=(\d+)$")
    for text, sentinel in ((sut_sections, mixed.sut), (ref_sections, mixed.reference)):
        match = master0.match(dict(text["Sentinel"])["master0"])
        assert match, text["Sentinel"]
        assert match.group(1) == str(mixed.topology.master.port)
        assert int(match.group(2)) == int(sentinel.master()["num-other-sentinels"]) + 1


@pytest.mark.parametrize("sections", [("sentinel",), ("all",), ("everything",), ("server", "clients"), ("nosuch",)])
def test_info_sections(mixed: Mixed, sections: tuple[str, ...]) -> None:
    sut, ref = mixed.both("INFO", *sections)
    assert list(info_sections(sut)) == list(info_sections(ref))


@pytest.mark.parametrize("protocol", [2, 3])
def test_hello(mixed: Mixed, protocol: int) -> None:
    sut, ref = mixed.both("HELLO", str(protocol))
    assert type(sut) is type(ref) is (Map if protocol == 3 else list)
    assert keys_of(sut) == keys_of(ref) == ["server", "version", "proto", "id", "mode", "modules"]
    sut_map, ref_map = dict(pairs(sut)), dict(pairs(ref))
    assert sut_map["mode"] == ref_map["mode"] == "sentinel"
    assert sut_map["proto"] == ref_map["proto"] == protocol
    assert sut_map["server"] == ref_map["server"] == "redis"
    assert shape(sut_map["modules"]) == shape(ref_map["modules"])
    assert type(sut_map["id"]) is int


def test_command_count(mixed: Mixed) -> None:
    sut, ref = mixed.both("COMMAND", "COUNT")
    assert type(sut) is type(ref) is int
    assert sut > 0
