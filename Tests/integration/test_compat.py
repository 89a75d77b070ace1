"""Drop-in compatibility with redis-sentinel's redis-server side: every redis.conf
directive, COMMAND, ACL users and permissions, rename-command, the Unix socket,
client output buffer limits, idle timeouts, and `dir` for relative paths.

Each test passes against both binaries (`WARDEN_BIN=$(command -v redis-sentinel)
Tests/run.sh integration -k compat`); the ones comparing with a live redis-sentinel
start one beside the binary under test.
"""

from __future__ import annotations

import os
import time
import socket
import stat
from pathlib import Path
from typing import Any, Callable

import pytest
import redis

from harness import (
    NULL_BULK, REFERENCE_BIN, REPO_ROOT, WARDEN_BIN, Conn, Error, Monitor, RedisServer, Sentinel,
    base_dir, free_port, run_to_exit, wait_until,
)

FIXTURE = REPO_ROOT / "Tests" / "fixtures" / "redis-directives.conf"


def _one(make_redis: Callable[..., RedisServer], make_sentinel: Callable[..., Sentinel],
         binary: str | None = None, **kwargs: Any) -> Sentinel:
    master = make_redis()
    return make_sentinel(masters=[Monitor(port=master.port)], binary=binary, **kwargs)


def _both(make_redis: Callable[..., RedisServer], make_sentinel: Callable[..., Sentinel],
          **kwargs: Any) -> tuple[Sentinel, Sentinel]:
    """The sentinel under test and a reference redis-sentinel, each watching its own master."""
    return (_one(make_redis, make_sentinel, **kwargs),
            _one(make_redis, make_sentinel, binary=REFERENCE_BIN, **kwargs))


# ---------------------------------------------------------------------------------------
# Config files


def test_every_redis_directive_loads(make_redis: Callable[..., RedisServer],
                                     make_sentinel: Callable[..., Sentinel]) -> None:
    """A sentinel.conf carrying every redis-server 7.0 directive starts, on both binaries."""
    body = FIXTURE.read_text()
    for sentinel in _both(make_redis, make_sentinel, conf_text=body):
        assert sentinel.cmd("PING") == "PONG"
        assert sentinel.cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")[0] == "127.0.0.1"


def test_stock_config_files_pass_test_config() -> None:
    """Debian's /etc/redis files and the fixture pass `warden FILE --test-config`
    (redis-sentinel has no --test-config: this runs the binary under test only when it
    is Warden)."""
    if os.path.basename(WARDEN_BIN) == "redis-sentinel":
        pytest.skip("redis-sentinel 7.0 has no --test-config")
    directory = base_dir() / "test-config"
    directory.mkdir(exist_ok=True)
    sources = [FIXTURE] + [Path(p) for p in ("/etc/redis/sentinel.conf", "/etc/redis/redis.conf") if Path(p).exists()]
    for source in sources:
        # Paths in the stock files point at /var and /run: checked, not used.
        path = directory / source.name
        path.write_text(source.read_text() + "\nsentinel monitor m 127.0.0.1 6379 2\n")
        result = run_to_exit([WARDEN_BIN, str(path), "--test-config"], timeout=10, cwd=directory)
        assert result.returncode == 0, f"{source}: {result.stdout}{result.stderr}"
    bad = directory / "bad.conf"
    bad.write_text("port 26379\nmaxmemroy 1gb\n")
    result = run_to_exit([WARDEN_BIN, str(bad), "--test-config"], timeout=10, cwd=directory)
    assert result.returncode != 0
    assert f"{bad}:2: Bad directive or wrong number of arguments" in result.stderr


def test_relative_notification_script_survives_restart(make_redis: Callable[..., RedisServer],
                                                       make_sentinel: Callable[..., Sentinel]) -> None:
    """`dir` takes effect where it is read (Redis chdir()s), so a script path relative to
    it is found at start and after a restart, which rewrote the file."""
    def add_script(sentinel: Sentinel) -> None:
        work = sentinel.dir / "work"
        work.mkdir()
        script = work / "notify.sh"
        script.write_text("#!/bin/sh\nexit 0\n")
        script.chmod(0o755)

    sentinels = []
    for binary in (None, REFERENCE_BIN):
        master = make_redis()
        sentinels.append(make_sentinel(binary=binary, before_start=add_script, conf_text=(
            "dir ./work\n"
            f"sentinel monitor mymaster 127.0.0.1 {master.port} 2\n"
            "sentinel notification-script mymaster notify.sh\n")))
    for sentinel in sentinels:
        assert sentinel.master()["notification-script"] == "notify.sh"
        sentinel.restart()
        assert sentinel.master()["notification-script"] == "notify.sh"


# ---------------------------------------------------------------------------------------
# COMMAND


def _info_set(reply: Any) -> Any:
    """A COMMAND INFO entry with its unordered parts (and subcommands) as sorted tuples."""
    if not isinstance(reply, list):
        return reply
    name, arity, flags, first, last, step, cats, tips, specs, subs = reply
    return (name, arity, tuple(sorted(flags)), first, last, step, tuple(sorted(cats)), tuple(sorted(tips)),
            tuple(specs), tuple(sorted(_info_set(s) for s in subs)))


def test_command_compared_live(make_redis: Callable[..., RedisServer],
                               make_sentinel: Callable[..., Sentinel]) -> None:
    sut, ref = _both(make_redis, make_sentinel)
    with sut.conn() as a, ref.conn() as b:
        assert a.call("COMMAND", "COUNT") == b.call("COMMAND", "COUNT") == 15
        names = a.call("COMMAND", "LIST")
        assert len(names) == 72, "the suite's 00-base checks 72"
        assert sorted(names) == sorted(b.call("COMMAND", "LIST"))
        assert "sentinel|get-master-addr-by-name" in names
        assert sorted(map(_info_set, a.call("COMMAND"))) == sorted(map(_info_set, b.call("COMMAND")))
        for query in (["sentinel|masters", "ping", "nope", "ping|x"], ["acl", "client"]):
            assert [_info_set(r) for r in a.call("COMMAND", "INFO", *query)] == \
                   [_info_set(r) for r in b.call("COMMAND", "INFO", *query)]
        for args in (["LIST", "FILTERBY", "ACLCAT", "pubsub"], ["LIST", "FILTERBY", "PATTERN", "sentinel|*master*"],
                     ["LIST", "FILTERBY", "MODULE", "x"]):
            assert sorted(a.call("COMMAND", *args)) == sorted(b.call("COMMAND", *args)), args
        for args in (["GETKEYS", "sentinel", "masters"], ["GETKEYS", "nope", "x"], ["GETKEYSANDFLAGS", "ping", "x"],
                     ["LIST", "FILTERBY", "bogus", "x"], ["NOPE"], ["COUNT", "x"], ["GETKEYS"]):
            assert a.call("COMMAND", *args) == b.call("COMMAND", *args), args
        docs_a, docs_b = a.call("COMMAND", "DOCS", "sentinel", "nope"), b.call("COMMAND", "DOCS", "sentinel", "nope")
        assert docs_a[0] == docs_b[0] == "sentinel"
        fields_a, fields_b = dict(zip(docs_a[1][::2], docs_a[1][1::2])), dict(zip(docs_b[1][::2], docs_b[1][1::2]))
        assert (fields_a["since"], fields_a["group"]) == (fields_b["since"], fields_b["group"])
        assert sorted(fields_a["subcommands"][::2]) == sorted(fields_b["subcommands"][::2])
        assert a.call("DEBUG", "HELP") == b.call("DEBUG", "HELP"), "no DEBUG in sentinel mode"


# ---------------------------------------------------------------------------------------
# ACL


LIMITED = "user reader on >readerpass resetchannels -@all +sentinel|get-master-addr-by-name"


def _limited_checks(sentinel: Sentinel) -> list[Any]:
    with sentinel.conn() as conn:
        seen = [conn.call("AUTH", "reader", "readerpass")]
        for args in (["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"], ["SENTINEL", "MASTERS"], ["PING"],
                     ["SENTINEL", "MONITOR", "x", "127.0.0.1", "1", "1"], ["SUBSCRIBE", "+switch-master"],
                     ["ACL", "WHOAMI"], ["INFO"], ["SENTINEL", "nope"], ["SENTINEL"]):
            reply = conn.call(*args)
            seen.append(reply if isinstance(reply, Error) else "ok")
        seen.append(conn.call("AUTH", "reader", "wrong"))
    return seen


def test_acl_user_limited_to_get_master_addr(make_redis: Callable[..., RedisServer],
                                             make_sentinel: Callable[..., Sentinel]) -> None:
    """A `user` line in the config limits its user to one subcommand: NOPERM for the
    rest, ACL LOG records it, and the same holds for a user made with ACL SETUSER."""
    sut, ref = _both(make_redis, make_sentinel, conf_text=LIMITED)
    expected = [
        "OK", "ok",
        Error("NOPERM this user has no permissions to run the 'sentinel|masters' command"),
        Error("NOPERM this user has no permissions to run the 'ping' command"),
        Error("NOPERM this user has no permissions to run the 'sentinel|monitor' command"),
        Error("NOPERM this user has no permissions to run the 'subscribe' command"),
        Error("NOPERM this user has no permissions to run the 'acl|whoami' command"),
        Error("NOPERM this user has no permissions to run the 'info' command"),
        Error("ERR unknown subcommand 'nope'. Try SENTINEL HELP."),
        Error("ERR wrong number of arguments for 'sentinel' command"),
        Error("WRONGPASS invalid username-password pair or user is disabled."),
    ]
    for sentinel in (sut, ref):
        assert _limited_checks(sentinel) == expected, sentinel.describe()
        log = sentinel.cmd("ACL", "LOG")
        entries = [dict(zip(e[::2], e[1::2])) for e in log]
        assert [(e["reason"], e["object"], e["username"]) for e in entries] == [
            ("auth", "AUTH", "reader"), ("command", "info", "reader"), ("command", "acl|whoami", "reader"),
            ("command", "subscribe", "reader"), ("command", "sentinel|monitor", "reader"),
            ("command", "ping", "reader"), ("command", "sentinel|masters", "reader")]
        assert "readerpass" not in str(log)
        lines = sentinel.cmd("ACL", "LIST")
        assert lines[1].startswith("user reader on #") and lines[1].endswith(
            " resetchannels -@all +sentinel|get-master-addr-by-name")
        assert "readerpass" not in str(lines) + sentinel.cmd("CLIENT", "LIST") + sentinel.cmd("INFO")
    # The same user made at run time.
    for sentinel in (sut, ref):
        assert sentinel.cmd("ACL", "DELUSER", "reader") == 1
        assert sentinel.cmd("ACL", "SETUSER", "reader", "on", ">readerpass", "+sentinel|get-master-addr-by-name") == "OK"
        assert _limited_checks(sentinel) == expected


def test_acl_default_off_and_channels(make_redis: Callable[..., RedisServer],
                                      make_sentinel: Callable[..., Sentinel]) -> None:
    """As the suite's 09-acl-support: with the default user off, only AUTH lets clients in;
    channel rules decide what a user may subscribe to."""
    for sentinel in _both(make_redis, make_sentinel):
        conn = sentinel.conn()
        assert conn.call("ACL", "SETUSER", "testuser", ">secret", "+@all", "on", "&+*") == "OK"
        assert conn.call("ACL", "SETUSER", "default", "off") == "OK"
        with Conn(sentinel.port) as fresh:
            assert fresh.call("PING") == Error("NOAUTH Authentication required.")
            assert fresh.call("AUTH", "default", "x") == Error("WRONGPASS invalid username-password pair or user is disabled.")
            assert fresh.call("AUTH", "testuser", "secret") == "OK"
            assert fresh.call("ACL", "WHOAMI") == "testuser"
            assert fresh.call("SUBSCRIBE", "-sdown") == Error(
                "NOPERM this user has no permissions to access one of the channels used as arguments")
            assert fresh.call("SUBSCRIBE", "+sdown")[0] == "subscribe"
        assert conn.call("PING") == "PONG", "connections open before keep their state"
        assert conn.call("ACL", "SETUSER", "default", "on") == "OK"
        assert conn.call("ACL", "DELUSER", "testuser") == 1
        conn.close()


def test_acl_file_save_and_load(make_redis: Callable[..., RedisServer],
                                make_sentinel: Callable[..., Sentinel]) -> None:
    def add_file(sentinel: Sentinel) -> None:
        (sentinel.dir / "users.acl").write_text("user alice on >pw ~* &* +@all\n")

    sentinels = [_one(make_redis, make_sentinel, binary=binary, before_start=add_file,
                      conf_text="aclfile users.acl\n") for binary in (None, REFERENCE_BIN)]
    files = []
    for sentinel in sentinels:
        assert sentinel.cmd("ACL", "USERS") == ["alice", "default"]
        assert sentinel.cmd("ACL", "SETUSER", "bob", "on", "nopass", "+ping") == "OK"
        assert sentinel.cmd("ACL", "SAVE") == "OK"
        files.append((sentinel.dir / "users.acl").read_text())
        (sentinel.dir / "users.acl").write_text("user carol on nopass +@all\nuser carol off\n")
        reply = sentinel.cmd("ACL", "LOAD")
        assert isinstance(reply, Error) and "Duplicate user 'carol' found on line 2" in reply
        assert sentinel.cmd("ACL", "USERS") == ["alice", "bob", "default"], "a bad file changes nothing"
        (sentinel.dir / "users.acl").write_text("user carol on nopass +@all\n")
        assert sentinel.cmd("ACL", "LOAD") == "OK"
        assert sentinel.cmd("ACL", "USERS") == ["carol", "default"]
    assert files[0] == files[1]
    assert files[0].splitlines()[1] == "user bob on nopass resetchannels -@all +ping"


# ---------------------------------------------------------------------------------------
# Server-level directives applied on the sentinel port


def test_unixsocket(make_redis: Callable[..., RedisServer], make_sentinel: Callable[..., Sentinel]) -> None:
    for binary in (None, REFERENCE_BIN):
        path = base_dir() / f"s{free_port()}.sock"
        sentinel = _one(make_redis, make_sentinel, binary=binary,
                        conf_text=f"unixsocket {path}\nunixsocketperm 700\n")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
        with redis.Redis(unix_socket_path=str(path), decode_responses=True, socket_timeout=5) as client:
            assert client.ping()
            assert client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")[0] == "127.0.0.1"
            assert f"addr={path}:0" in client.execute_command("CLIENT", "INFO")
        sentinel.stop()
        assert not path.exists(), "the socket file is removed at exit"


def test_rename_command(make_redis: Callable[..., RedisServer], make_sentinel: Callable[..., Sentinel]) -> None:
    renames = "rename-command ROLE role2\nrename-command INFO \"\"\nrename-command SENTINEL sentinel-x\n"
    for sentinel in _both(make_redis, make_sentinel, conf_text=renames):
        with sentinel.conn() as conn:
            assert conn.call("ROLE") == Error("ERR unknown command 'ROLE', with args beginning with: ")
            assert conn.call("role2")[0] == "sentinel"
            assert conn.call("INFO", "server") == Error("ERR unknown command 'INFO', with args beginning with: 'server' ")
            assert conn.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster") == Error(
                "ERR unknown command 'SENTINEL', with args beginning with: 'GET-MASTER-ADDR-BY-NAME' 'mymaster' ")
            assert conn.call("sentinel-x", "GET-MASTER-ADDR-BY-NAME", "mymaster")[0] == "127.0.0.1"
            assert conn.call("sentinel-x", "nope") == Error("ERR unknown subcommand 'nope'. Try SENTINEL-X HELP.")
            assert conn.call("COMMAND", "COUNT") == 14
            info = conn.call("COMMAND", "INFO", "role2", "role")
            assert info[0][0] == "role", "described under its original name"
            assert info[1] == NULL_BULK, "not found under the old name"
            assert "info" not in conn.call("COMMAND", "LIST")


def test_output_buffer_limit_cuts_slow_subscriber(make_redis: Callable[..., RedisServer],
                                                  make_sentinel: Callable[..., Sentinel]) -> None:
    """client-output-buffer-limit pubsub: a subscriber that does not read its replies is
    disconnected once its pending output passes the hard limit."""
    limits = "client-output-buffer-limit pubsub 256kb 0 0\n"
    for sentinel in _both(make_redis, make_sentinel, conf_text=limits):
        slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", sentinel.port))
        slow.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nx\r\n")
        with sentinel.conn() as watcher:
            def ids(kind: str) -> list[str]:
                return [line for line in watcher.call("CLIENT", "LIST", "TYPE", kind).splitlines() if line]
            wait_until(lambda: ids("pubsub"), 5, message="the subscriber to appear")
            # Each SUBSCRIBE reply echoes its channel: 16 MB of replies never read, well
            # past what the kernel's socket buffers hold.
            name = b"c" * 16384
            batch = b"".join(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s%04d\r\n" % (len(name) + 4, name, i)
                             for i in range(1000))
            slow.settimeout(5)
            try:
                slow.sendall(batch)
            except OSError:
                pass
            wait_until(lambda: not ids("pubsub"), 10, message="the slow subscriber to be disconnected")
        slow.close()


def test_output_buffer_soft_limit(make_redis: Callable[..., RedisServer],
                                  make_sentinel: Callable[..., Sentinel]) -> None:
    """The soft limit: a subscriber whose backlog stays above it for longer than its
    seconds is disconnected at the next reply (no hard limit here)."""
    limits = "client-output-buffer-limit pubsub 0 64kb 1\n"
    for sentinel in _both(make_redis, make_sentinel, conf_text=limits):
        slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", sentinel.port))
        name = b"s" * 16384
        slow.sendall(b"".join(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s%04d\r\n" % (len(name) + 4, name, i)
                              for i in range(600)))
        with sentinel.conn() as watcher:
            def subscribed() -> bool:
                return bool(watcher.call("CLIENT", "LIST", "TYPE", "pubsub").strip())
            assert subscribed(), "over the soft limit only for a moment: still connected"

            def trickle_until_cut() -> bool:
                # One more reply now and then, as Redis checks the limit when it adds output.
                try:
                    slow.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nz\r\n")
                except OSError:
                    pass
                return not subscribed()
            wait_until(trickle_until_cut, 10, interval=0.5, message="the subscriber to be cut at the soft limit")
        slow.close()


def test_idle_timeout(make_redis: Callable[..., RedisServer], make_sentinel: Callable[..., Sentinel]) -> None:
    """timeout N closes idle clients, but not subscribers."""
    for sentinel in _both(make_redis, make_sentinel, conf_text="timeout 1\n"):
        idle = Conn(sentinel.port)
        assert idle.call("PING") == "PONG"
        subscriber = Conn(sentinel.port)
        assert subscriber.call("SUBSCRIBE", "+sdown")[0] == "subscribe"
        idle.read_until_closed(timeout=10)
        assert subscriber.call("PING") == ["pong", ""]
        subscriber.close()


def test_master_refusing_subscribe_shows_disconnected(make_redis: Callable[..., RedisServer],
                                                       make_sentinel: Callable[..., Sentinel]) -> None:
    """As the suite's 03-runtime-reconf: when the master turns its default user off and
    drops its clients, a sentinel without credentials is refused SUBSCRIBE on its
    reconnected Pub/Sub link and shows the master `disconnected` until it is given a
    user and password."""
    for binary in (None, REFERENCE_BIN):
        master = make_redis()
        sentinel = make_sentinel(masters=[Monitor(port=master.port)], binary=binary)

        def flags() -> str:
            return dict(zip(*[iter(sentinel.cmd("SENTINEL", "MASTER", "mymaster"))] * 2))["flags"]

        wait_until(lambda: "disconnected" not in flags(), 10, message="connected at first")
        admin = master.client()
        admin.execute_command("ACL", "SETUSER", "testuser", "on", ">secret", "allchannels", "+@all")
        admin.execute_command("ACL", "SETUSER", "default", "off")
        admin.execute_command("CLIENT", "KILL", "USER", "default", "SKIPME", "yes")
        wait_until(lambda: "disconnected" in flags(), 10, message="disconnected without credentials")
        # And it stays so across reconnect attempts (sampled over two seconds), not
        # only for the moment of a reconnect.
        samples = []
        until = time.monotonic() + 2
        while time.monotonic() < until:
            samples.append("disconnected" in flags())
            time.sleep(0.05)
        assert sum(samples) >= 0.8 * len(samples), samples
        assert sentinel.cmd("SENTINEL", "SET", "mymaster", "auth-user", "testuser") == "OK"
        assert sentinel.cmd("SENTINEL", "SET", "mymaster", "auth-pass", "secret") == "OK"
        wait_until(lambda: "disconnected" not in flags(), 10, message="connected with credentials")
