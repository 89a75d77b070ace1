"""protected-mode, seen from other network namespaces (see netns.py).

redis-sentinel 7.0 turns protected mode off by default (sentinels must be reachable
from other hosts); with `protected-mode yes` and no password for the default user, it
serves only clients whose address is 127.0.0.1 or ::1, whatever `bind` says (Redis 7.0
dropped the bind condition of 6.x). Everyone else gets one -DENIED line and the
connection is closed. Runs against redis-sentinel too. The first test needs no
namespace: 127.0.0.2 is loopback to the kernel but not to protected mode.
"""

from __future__ import annotations

import socket
from typing import Optional

import pytest

import netns
from harness import HOST, Error, Resources, read_until_closed
from netns import NetLab, NsConn, NsSentinel

requires_netns = netns.requires_netns("protected-mode test from another namespace")

#: What redis-server 7.0 writes to a client refused by protected mode (one line).
DENIED = (
    "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set "
    "for the default user. In this mode connections are only accepted from the loopback interface. If you "
    "want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just "
    "disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface "
    "by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not "
    "publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "
    "Alternatively you can just disable the protected mode by editing the Redis configuration file, and "
    "setting the protected mode option to 'no', and then restarting the server. 3) If you started the "
    "server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
    "authentication password for the default user. NOTE: You only need to do one of the above things in "
    "order for the server to start accepting connections from the outside.\r\n"
).encode()

PORT = 26390


lab = netns.lab_fixture(hosts=2)


@pytest.fixture
def start(lab: NetLab, resources: Resources):
    """Start a sentinel on host 1 with the given directives; `bind=None` leaves bind out."""
    def make(extra: list[str], bind: Optional[str] = None, password: Optional[str] = None) -> NsSentinel:
        sentinel = resources.add(NsSentinel(lab, 1, PORT, bind=bind, extra=extra, password=password))
        sentinel.start()
        return sentinel
    yield make
    lab.kill_processes()


def from_host(lab: NetLab, ns: str, host: str) -> NsConn:
    return NsConn(ns, host, PORT, timeout=5.0)


def assert_refused(conn: NsConn) -> None:
    """The server sends DENIED before anything is asked, then closes."""
    with conn:
        assert read_until_closed(conn.sock, timeout=5) == DENIED


def assert_served(conn: NsConn) -> None:
    with conn:
        assert conn.call("PING") == "PONG"


def test_only_127_0_0_1_counts_as_loopback(make_sentinel) -> None:
    sentinel = make_sentinel(extra=["protected-mode yes"])
    with socket.create_connection((HOST, sentinel.port), timeout=5, source_address=("127.0.0.2", 0)) as sock:
        assert read_until_closed(sock, timeout=5) == DENIED
    assert sentinel.cmd("PING") == "PONG"  # from 127.0.0.1


@requires_netns
@pytest.mark.parametrize("bind", [None, "*", netns.SUBNET + ".1.2"], ids=["default-bind", "bind-star", "bind-address"])
def test_protected_mode_refuses_other_hosts_whatever_bind_says(lab: NetLab, start, bind: Optional[str]) -> None:
    sentinel = start(["protected-mode yes"], bind=bind)
    assert_refused(from_host(lab, lab.ns(2), lab.ip(1)))          # another host
    assert_refused(from_host(lab, lab.router, lab.ip(1)))         # the router
    if bind is None or bind == "*":
        # Loopback inside its own namespace is served; its own non-loopback
        # address is not loopback, so that is refused too.
        assert_served(from_host(lab, lab.ns(1), "127.0.0.1"))
        assert_refused(from_host(lab, lab.ns(1), lab.ip(1)))
        with from_host(lab, lab.ns(1), "127.0.0.1") as local:
            stats = netns.parse_info(local.call("INFO", "stats"))
        assert int(stats["rejected_connections"]) >= 3, stats
    sentinel.stop()


@requires_netns
@pytest.mark.parametrize("directives", [[], ["protected-mode no"]], ids=["sentinel-default", "protected-mode-no"])
def test_other_hosts_are_served_without_protected_mode(lab: NetLab, start, directives: list[str]) -> None:
    start(directives)
    assert_served(from_host(lab, lab.ns(2), lab.ip(1)))


@requires_netns
def test_a_password_lifts_protected_mode(lab: NetLab, start) -> None:
    start(["protected-mode yes"], password="s3cret")
    with from_host(lab, lab.ns(2), lab.ip(1)) as conn:
        reply = conn.call("PING")
        assert isinstance(reply, Error) and reply.startswith("NOAUTH"), reply
        assert conn.call("AUTH", "s3cret") == "OK"
        assert conn.call("PING") == "PONG"
