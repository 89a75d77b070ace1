"""The command surface, compared live with a real redis-sentinel.

Two independent groups, so no test here depends on the two kinds discovering each
other: the sentinels under test (2 of them) watch master A with 2 replicas; one
reference redis-sentinel watches master B. Commands go to both; replies must match
(and, where pinned, match what redis-sentinel 7.0.15 was seen to reply).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

import pytest

from harness import (
    HEX40, NULL_BULK, REFERENCE_BIN, Conn, ConnectionClosed, Error, Map, Monitor, RedisServer, Resources,
    Sentinel, Simple, Topology, checked_map, is_reference, keys_of, pairs, shape, wait_until, warden_only,
)


class Pair:
    """The sentinel under test (with its topology) and a reference sentinel."""

    def __init__(self, topology: Topology, reference: Sentinel) -> None:
        self.topology = topology
        self.sut = topology.sentinels[0]
        self.ref = reference

    def both(self, *args: Any, protocol: int = 2) -> tuple[Any, Any]:
        with self.sut.conn(protocol) as sut, self.ref.conn(protocol) as ref:
            return sut.call(*args), ref.call(*args)

    def same(self, *args: Any, expected: Any = None, protocol: int = 2) -> Any:
        """Run on both; the replies must be equal (and equal `expected` if given)."""
        sut, ref = self.both(*args, protocol=protocol)
        if expected is not None:
            assert ref == expected, f"{args}: the reference itself replied {ref!r}"
        assert sut == ref, f"{args}: under test {sut!r}, reference {ref!r}"
        assert shape(sut) == shape(ref)
        return sut


@pytest.fixture(scope="module")
def pair(module_resources: Resources) -> Iterator[Pair]:
    topology = module_resources.add(Topology(sentinels=2))
    topology.start()
    master_b = module_resources.add(RedisServer())
    master_b.start()
    reference = module_resources.add(Sentinel(masters=[Monitor(port=master_b.port)], binary=REFERENCE_BIN))
    reference.start()
    topology.wait_discovered(timeout=15)
    yield Pair(topology, reference)


def _ok() -> Simple:
    return Simple("OK")


# ---------------------------------------------------------------------------------------
# SENTINEL MONITOR / SET / REMOVE


def test_monitor_set_remove(pair: Pair, make_redis: Callable[..., RedisServer]) -> None:
    other = make_redis()
    port = str(other.port)
    try:
        pair.same("SENTINEL", "MONITOR", "other", "127.0.0.1", port, "2", expected=_ok())
        for sentinel in (pair.sut, pair.ref):
            master = sentinel.master("other")
            assert (master["ip"], master["port"], master["quorum"]) == ("127.0.0.1", port, "2")
        sut_keys, ref_keys = (keys_of(r) for r in pair.both("SENTINEL", "MASTER", "other"))
        assert sut_keys == ref_keys

        pair.same("SENTINEL", "MONITOR", "other", "127.0.0.1", port, "2",
                  expected=Error("ERR Duplicate master name."))

        pair.same("SENTINEL", "SET", "other", "down-after-milliseconds", "4000", "quorum", "1",
                  "parallel-syncs", "3", "failover-timeout", "70000", expected=_ok())
        for sentinel in (pair.sut, pair.ref):
            master = sentinel.master("other")
            assert master["down-after-milliseconds"] == "4000"
            assert master["quorum"] == "1"
            assert master["parallel-syncs"] == "3"
            assert master["failover-timeout"] == "70000"
            text = sentinel.conf_text()
            assert re.search(rf"^sentinel monitor other 127\.0\.0\.1 {port} 1$", text, re.M), text
            assert re.search(r"^sentinel down-after-milliseconds other 4000$", text, re.M), text
            assert re.search(r"^sentinel parallel-syncs other 3$", text, re.M), text

        pair.same("SENTINEL", "SET", "other", "quorum", "0",
                  expected=Error("ERR Invalid argument '0' for SENTINEL SET 'quorum'"))
        pair.same("SENTINEL", "SET", "other", "down-after-milliseconds", "abc",
                  expected=Error("ERR Invalid argument 'abc' for SENTINEL SET 'down-after-milliseconds'"))
        pair.same("SENTINEL", "SET", "other", "nosuch", "1",
                  expected=Error("ERR Unknown option or number of arguments for SENTINEL SET 'nosuch'"))
        pair.same("SENTINEL", "SET", "other", "quorum", "1", "parallel-syncs",
                  expected=Error("ERR Unknown option or number of arguments for SENTINEL SET 'parallel-syncs'"))
        pair.same("SENTINEL", "SET", "nosuch", "quorum", "1", expected=Error("ERR No such master with that name"))
        # Same error; but redis-sentinel 7.0 applies (and saves) the valid pairs before
        # the bad one, while Warden validates every pair first and applies none.
        pair.same("SENTINEL", "SET", "other", "parallel-syncs", "5", "nosuch", "1",
                  expected=Error("ERR Unknown option or number of arguments for SENTINEL SET 'nosuch'"))
        assert pair.ref.master("other")["parallel-syncs"] == "5"
        if not is_reference(pair.sut.binary):
            assert pair.sut.master("other")["parallel-syncs"] == "3"

        pair.same("SENTINEL", "REMOVE", "other", expected=_ok())
        pair.same("SENTINEL", "MASTER", "other", expected=Error("ERR No such master with that name"))
        for sentinel in (pair.sut, pair.ref):
            assert " other " not in sentinel.conf_text()
    finally:
        for sentinel in (pair.sut, pair.ref):
            sentinel.cmd("SENTINEL", "REMOVE", "other")
    pair.same("SENTINEL", "REMOVE", "other", expected=Error("ERR No such master with that name"))


@pytest.mark.parametrize("args,expected", [
    (("mymaster", "127.0.0.1", "6379", "2"), "ERR Duplicate master name."),
    (("m0", "127.0.0.1", "6379", "0"), "ERR Quorum must be 1 or greater."),
    (("m0", "not-an-ip..", "6379", "2"), "ERR Invalid IP address or hostname specified"),
    (("m0", "127.0.0.1", "abc", "2"), "ERR Invalid port"),
    (("m0", "127.0.0.1", "6379", "abc"), "ERR Invalid quorum"),
], ids=["duplicate", "quorum-0", "bad-ip", "bad-port", "bad-quorum"])
def test_monitor_errors(pair: Pair, args: tuple[str, ...], expected: str) -> None:
    pair.same("SENTINEL", "MONITOR", *args, expected=Error(expected))
    assert [m["name"] for m in pair.sut.masters_list()] == ["mymaster"]


# ---------------------------------------------------------------------------------------
# RESET, FLUSHCONFIG, CONFIG, INFO-CACHE, PENDING-SCRIPTS, DEBUG, HELP


def test_reset_rediscovers(pair: Pair) -> None:
    pair.same("SENTINEL", "RESET", "*", expected=1)
    pair.same("SENTINEL", "RESET", "nosuch*", expected=0)
    # redis-sentinel finds the replicas again only at its next 10-second INFO.
    wait_until(lambda: pair.topology.sees_everything(pair.sut), 20,
               message=lambda: f"rediscovery after RESET: {pair.sut.view()}")
    assert pair.sut.master()["flags"] == "master"


def test_flushconfig(pair: Pair) -> None:
    pair.same("SENTINEL", "FLUSHCONFIG", expected=_ok())
    for sentinel in (pair.sut, pair.ref):
        assert f"sentinel myid {sentinel.myid()}" in sentinel.conf_text()


def test_config_get_set(pair: Pair) -> None:
    try:
        pair.same("SENTINEL", "CONFIG", "GET", "announce-ip", expected=["announce-ip", ""])
        pair.same("SENTINEL", "CONFIG", "SET", "announce-ip", "127.0.0.1", expected=_ok())
        pair.same("SENTINEL", "CONFIG", "GET", "announce-ip", expected=["announce-ip", "127.0.0.1"])
        pair.same("SENTINEL", "CONFIG", "GET", "announce-ip", protocol=3, expected=Map({"announce-ip": "127.0.0.1"}))
        for sentinel in (pair.sut, pair.ref):
            assert re.search(r'^sentinel announce-ip "?127\.0\.0\.1"?$', sentinel.conf_text(), re.M)
        pair.same("SENTINEL", "CONFIG", "GET", "announce-*")
        # Warden also lists loglevel, as redis-sentinel 7.2 does (7.0 has six parameters),
        # then its own http-* and webhook parameters.
        sut, ref = pair.both("SENTINEL", "CONFIG", "GET", "*")
        extra = sut[len(ref):]
        assert sut[:len(ref)] == ref and extra[:2] in ([], ["loglevel", "notice"]), (sut, ref)
        assert all(key.startswith(("http-", "webhook")) for key in extra[2::2]), extra
        pair.same("SENTINEL", "CONFIG", "SET", "announce-port", "abc",
                  expected=Error("ERR Invalid value 'abc' to SENTINEL CONFIG SET 'announce-port'"))
        pair.same("SENTINEL", "CONFIG", "SET", "nosuch", "1",
                  expected=Error("ERR Invalid argument 'nosuch' to SENTINEL CONFIG SET"))
    finally:
        for sentinel in (pair.sut, pair.ref):
            sentinel.cmd("SENTINEL", "CONFIG", "SET", "announce-ip", "")
    pair.same("SENTINEL", "CONFIG", "GET", "announce-ip", expected=["announce-ip", ""])


def test_info_cache(pair: Pair) -> None:
    sut, ref = pair.both("SENTINEL", "INFO-CACHE", "mymaster")
    for reply, instances in ((sut, 3), (ref, 1)):
        assert isinstance(reply, list) and len(reply) == 2 and reply[0] == "mymaster", reply
        entries = reply[1]
        assert len(entries) == instances, entries
        for index, entry in enumerate(entries):
            assert isinstance(entry, list) and len(entry) == 2
            assert type(entry[0]) is int and entry[0] >= 0
            # The master's INFO comes first; a replica's may not have been fetched yet
            # (right after a RESET) and is then a null bulk.
            if index == 0 or entry[1] != NULL_BULK:
                assert type(entry[1]) is str and entry[1].startswith("# Server\r\n"), entry
    assert shape(sut[1][0]) == shape(ref[1][0])
    pair.same("SENTINEL", "INFO-CACHE", "nosuch", expected=[])


def test_pending_scripts(pair: Pair) -> None:
    pair.same("SENTINEL", "PENDING-SCRIPTS", expected=[])


def test_debug(pair: Pair) -> None:
    sut, ref = pair.both("SENTINEL", "DEBUG")
    assert keys_of(sut) == keys_of(ref)
    assert "PING-PERIOD" in keys_of(ref)
    for key, value in pairs(sut):
        assert type(value) is str and value.isdigit(), (key, value)
    pair.same("SENTINEL", "DEBUG", "ping-period", "abc",
              expected=Error("ERR Invalid argument 'abc' for SENTINEL DEBUG 'ping-period'"))
    pair.same("SENTINEL", "DEBUG", "nosuch", "1",
              expected=Error("ERR Unknown option or number of arguments for SENTINEL DEBUG 'nosuch'"))


def test_help(pair: Pair) -> None:
    sut, ref = pair.both("SENTINEL", "HELP")
    assert all(type(line) is Simple for line in sut + ref)
    assert sut[0] == ref[0] == "SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    subcommands = lambda lines: {line.split()[0] for line in lines[1:] if not line.startswith(" ")}  # noqa: E731
    assert subcommands(ref) <= subcommands(sut)


# ---------------------------------------------------------------------------------------
# Connection commands


def test_client_commands(pair: Pair) -> None:
    for sentinel in (pair.sut, pair.ref):
        with sentinel.conn() as conn, sentinel.conn() as victim:
            assert conn.call("CLIENT", "GETNAME") == NULL_BULK
            assert conn.call("CLIENT", "SETNAME", "tester") == "OK"
            assert conn.call("CLIENT", "GETNAME") == "tester"
            my_id = conn.call("CLIENT", "ID")
            victim_id = victim.call("CLIENT", "ID")
            assert type(my_id) is int and type(victim_id) is int and my_id != victim_id

            info = conn.call("CLIENT", "INFO")
            fields = dict(item.split("=", 1) for item in info.split())
            assert fields["id"] == str(my_id) and fields["name"] == "tester"
            for field in ("addr", "laddr", "age", "idle", "flags", "db", "sub", "psub", "cmd", "user", "resp"):
                assert field in fields, f"{sentinel.describe()}: CLIENT INFO lacks {field}: {info}"
            listing = conn.call("CLIENT", "LIST")
            lines = [line for line in listing.split("\n") if line]
            assert any(f"id={my_id} " in line and " name=tester " in line for line in lines), listing
            assert any(line.startswith(f"id={victim_id} ") for line in lines), listing

            assert conn.call("CLIENT", "KILL", "ID", str(victim_id)) == 1
            with pytest.raises((ConnectionClosed, OSError)):
                victim.call("PING")
            assert conn.call("PING") == "PONG"

    pair.same("CLIENT", "GETNAME", expected=NULL_BULK)
    pair.same("CLIENT", "KILL", "127.0.0.1:1", expected=Error("ERR No such client"))
    pair.same("CLIENT", "KILL", "ID", "abc", expected=Error("ERR client-id should be greater than 0"))
    pair.same("CLIENT", "KILL", "ID", "999999", expected=0)
    pair.same("CLIENT", "SETNAME", "a b",
              expected=Error("ERR Client names cannot contain spaces, newlines or special characters."))


def test_auth_without_requirepass(pair: Pair) -> None:
    pair.same("AUTH", "x", expected=Error(
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?"))
    pair.same("AUTH", "default", "x", expected=_ok())


def test_select(pair: Pair) -> None:
    # redis-sentinel 7.0 has no SELECT at all.
    pair.same("SELECT", "0", expected=Error("ERR unknown command 'SELECT', with args beginning with: '0' "))


def test_command_count(pair: Pair) -> None:
    sut, ref = pair.both("COMMAND", "COUNT")
    assert type(sut) is type(ref) is int and sut > 0


@warden_only
def test_client_setinfo_accepted(pair: Pair) -> None:
    """redis-sentinel 7.0 refuses CLIENT SETINFO; Warden accepts it (redis-py sends it)."""
    with pair.sut.conn() as conn:
        assert conn.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == "OK"
        assert conn.call("CLIENT", "SETINFO", "LIB-VER", "8.0.0") == "OK"


def test_requirepass(make_redis: Callable[..., RedisServer], make_sentinel: Callable[..., Sentinel]) -> None:
    sentinels = []
    for binary in (None, REFERENCE_BIN):
        master = make_redis()
        sentinels.append(make_sentinel(masters=[Monitor(port=master.port)], binary=binary, password="secret"))
    replies: list[list[Any]] = []
    for sentinel in sentinels:
        seen = []
        unauthenticated: list[bytes] = []
        with Conn(sentinel.port) as conn:
            for args in (("PING",), ("SENTINEL", "MASTERS"), ("CLIENT", "ID"), ("HELLO", "3"),
                         ("AUTH", "wrong"), ("AUTH", "default", "wrong")):
                seen.append(conn.call(*args))
            assert conn.call("AUTH", "secret") == "OK"
            assert conn.call("PING") == "PONG"
            assert checked_map(conn.call("SENTINEL", "MASTER", "mymaster"))["name"] == "mymaster"
        with Conn(sentinel.port) as conn:
            hello = conn.call("HELLO", "3", "AUTH", "default", "secret")
            assert isinstance(hello, Map) and hello["mode"] == "sentinel" and hello["proto"] == 3
            assert conn.call("PING") == "PONG"
        with Conn(sentinel.port) as conn:
            assert conn.call("AUTH", "default", "secret") == "OK"
        with sentinel.client(protocol=3) as client:
            assert client.ping() is True
        # Until AUTH, more than 10 arguments or a bulk above 16384 bytes is a protocol error.
        for raw in (b"*11\r\n", b"*2\r\n$4\r\nAUTH\r\n$16385\r\n"):
            with Conn(sentinel.port) as conn:
                conn.sock.sendall(raw)
                unauthenticated.append(conn.read_until_closed(timeout=10))
        replies.append(seen + unauthenticated)
    sut, ref = replies
    assert ref[:3] == [Error("NOAUTH Authentication required.")] * 3
    assert ref[3].startswith("NOAUTH HELLO must be called with the client already authenticated")
    assert ref[4:6] == [Error("WRONGPASS invalid username-password pair or user is disabled.")] * 2
    assert ref[6:] == [b"-ERR Protocol error: unauthenticated multibulk length\r\n",
                       b"-ERR Protocol error: unauthenticated bulk length\r\n"]
    assert sut == ref


def test_shutdown_exits_zero_and_keeps_config(make_redis: Callable[..., RedisServer],
                                              make_sentinel: Callable[..., Sentinel]) -> None:
    master = make_redis()
    make_redis(replicaof=master.port)
    wait_until(lambda: master.info()["connected_slaves"] == 1, 10, message="replica connected")
    for binary in (None, REFERENCE_BIN):
        sentinel = make_sentinel(masters=[Monitor(port=master.port)], binary=binary)
        wait_until(lambda: sentinel.master()["num-slaves"] == "1", 15,
                   message=lambda: f"replica discovered: {sentinel.view()}")
        myid = sentinel.myid()
        with Conn(sentinel.port) as conn:
            conn.send("SHUTDOWN")
            assert conn.read_until_closed(timeout=10) == b""
        status = sentinel.wait_exit(timeout=10)
        assert status == 0, f"SHUTDOWN: exit status {status}\n{sentinel.diagnostics()}"
        text = sentinel.conf_text()
        assert f"sentinel myid {myid}" in text, text
        assert re.search(r"^sentinel known-replica mymaster 127\.0\.0\.1 \d+$", text, re.M), text
        assert HEX40.match(myid)
