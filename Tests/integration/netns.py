"""Network namespaces for real-partition tests.

A `NetLab` is a small routed network made of namespaces this run creates and removes:

                     router namespace  (wdn<pid>-r)
           10.203.1.1 /     | 10.203.2.1    \\ 10.203.3.1
         veth        /      |                \\
    wdn<pid>-1 10.203.1.2  wdn<pid>-2 10.203.2.2  wdn<pid>-3 10.203.3.2

Each host namespace has one veth to the router and a default route through it. Processes
are started inside a host namespace with `ip netns exec`. The test itself talks to them
from the router namespace (a short-lived thread enters it to make each socket), so it
keeps seeing every host while hosts are cut off from each other.

A partition is a policy-routing rule in the router: `ip rule ... from A to B blackhole`
silently drops what A sends to B while it is forwarded. One rule per direction gives
two-way and one-way cuts, and needs nothing beyond iproute2 and the kernel's core
networking (no netem, no iptables). The rules match host subnets only, so the router's
own traffic to the hosts (the test's connections) is never dropped.

Namespace names carry the pid of the run that made them; `remove_leftovers()` removes
the namespaces (and kills the processes in them) of runs that are no longer alive.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from typing import Any, Callable, Optional, TypeVar

import pytest

from harness import Conn, ConnectionClosed, Error, RedisServer, Sentinel, Monitor

PREFIX = "wdn"
SUBNET = "10.203"
IP_BIN = shutil.which("ip") or "/usr/sbin/ip"

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)
_NAME = re.compile(rf"^{PREFIX}(\d+)-\w+$")

T = TypeVar("T")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([IP_BIN, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def namespaces() -> list[str]:
    result = _ip("netns", "list", check=False)
    return [line.split()[0] for line in result.stdout.splitlines() if line.strip()]


def kill_processes_in(ns: str) -> None:
    """SIGKILL every process whose network namespace is `ns` (only ever ours).

    A killed process leaves the namespace at once (a zombie has none), so this loops
    until `ip netns pids` lists nobody.
    """
    for _ in range(50):
        pids = [int(p) for p in _ip("netns", "pids", ns, check=False).stdout.split() if p.isdigit()]
        pids = [p for p in pids if p != os.getpid()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)


def delete_namespace(ns: str) -> None:
    kill_processes_in(ns)
    _ip("netns", "del", ns, check=False)


def remove_leftovers() -> list[str]:
    """Remove the namespaces of earlier runs whose process is gone; their names."""
    removed = []
    for ns in namespaces():
        match = _NAME.match(ns)
        if not match:
            continue
        pid = int(match.group(1))
        if pid != os.getpid() and os.path.exists(f"/proc/{pid}"):
            continue  # another run, still going
        delete_namespace(ns)
        removed.append(ns)
    return removed


_unavailable: list[Optional[str]] = []


def unavailable() -> Optional[str]:
    """Why network namespaces cannot be used here (None if they can); checked once."""
    if not _unavailable:
        _unavailable.append(_why_unavailable())
    return _unavailable[0]


def _why_unavailable() -> Optional[str]:
    if not os.path.exists("/proc/self/ns/net"):
        return "no network namespace support (/proc/self/ns/net missing)"
    if os.geteuid() != 0:
        return "network namespaces need root (the CI machine runs the suite as root)"
    if not os.access(IP_BIN, os.X_OK):
        return "`ip` (iproute2) not found; deploy/lib/ensure-deps.sh installs it"
    remove_leftovers()
    probe = f"{PREFIX}{os.getpid()}-probe"
    try:
        _ip("netns", "add", probe)
        _ip("-n", probe, "link", "add", "p0", "type", "veth", "peer", "name", "p1")
        _ip("-n", probe, "rule", "add", "priority", "100", "from", "10.0.0.0/24", "to", "10.0.1.0/24", "blackhole")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        return f"cannot make network namespaces, veth pairs and ip rules here: {error}"
    finally:
        delete_namespace(probe)
    return None


def requires_netns(what: str) -> pytest.MarkDecorator:
    """Skips `what` (with the reason) where network namespaces cannot be made."""
    return pytest.mark.skipif(unavailable() is not None, reason=f"{what} skipped: {unavailable()}")


def lab_fixture(hosts: int) -> Callable:
    """A module-scoped `lab` fixture: a NetLab with `hosts` hosts, destroyed after the module."""
    @pytest.fixture(scope="module")
    def lab() -> "NetLab":
        made = NetLab(hosts=hosts).create()
        yield made
        made.destroy()
    return lab


def in_namespace(ns: str, work: Callable[[], T]) -> T:
    """Run `work` on a fresh thread that has entered namespace `ns`; its result.

    Only that thread changes namespace (setns is per thread for network namespaces), and
    it ends with `work`, so nothing else in the test process ever runs inside `ns`. A
    socket keeps the namespace it was made in.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _libc.setns(fd, _CLONE_NEWNET) != 0:
                    code = ctypes.get_errno()
                    raise OSError(code, f"setns({ns}): {os.strerror(code)}")
            finally:
                os.close(fd)
            outcome["value"] = work()
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            outcome["error"] = error

    thread = threading.Thread(target=run, name=f"in-{ns}", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class NsConn(Conn):
    """A raw RESP connection made from inside a namespace."""

    def __init__(self, ns: str, host: str, port: int, timeout: float = 5.0) -> None:
        self.sock = in_namespace(ns, lambda: socket.create_connection((host, port), timeout=timeout))
        self.buffer = b""


#: Labs not destroyed yet: removed at exit and on SIGTERM / SIGHUP as well.
_live_labs: list["NetLab"] = []


def _destroy_live_labs() -> None:
    for lab in list(_live_labs):
        lab.destroy()


def _chain_signal_cleanup() -> None:
    """Remove our namespaces before the harness's own handler (which kills the processes)."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        previous = signal.getsignal(signum)

        def handler(number: int, frame: Any, previous: Any = previous) -> None:
            _destroy_live_labs()
            if callable(previous):
                previous(number, frame)
            else:
                signal.signal(number, signal.SIG_DFL)
                os.kill(os.getpid(), number)
        signal.signal(signum, handler)


atexit.register(_destroy_live_labs)
_chain_signal_cleanup()


class NetLab:
    """A router namespace and `hosts` host namespaces on their own subnets (see the module doc).

    Removed by `destroy()`, at exit, on SIGTERM / SIGHUP; after a SIGKILL of the run, the
    processes die with it (PR_SET_PDEATHSIG) and the next run removes the namespaces.
    """

    def __init__(self, hosts: int = 3) -> None:
        self.hosts = hosts
        self.tag = f"{PREFIX}{os.getpid()}"
        self.router = f"{self.tag}-r"
        self.rules: list[tuple[str, str]] = []
        self.created: list[str] = []

    def ns(self, host: int) -> str:
        return f"{self.tag}-{host}"

    def ip(self, host: int) -> str:
        return f"{SUBNET}.{host}.2"

    def subnet(self, host: int) -> str:
        return f"{SUBNET}.{host}.0/24"

    def create(self) -> "NetLab":
        remove_leftovers()
        _live_labs.append(self)
        try:
            self._create()
        except BaseException:
            self.destroy()
            raise
        return self

    def _create(self) -> None:
        _ip("netns", "add", self.router)
        self.created.append(self.router)
        _ip("-n", self.router, "link", "set", "lo", "up")
        in_namespace(self.router, lambda: _write("/proc/sys/net/ipv4/ip_forward", "1"))
        for host in range(1, self.hosts + 1):
            ns = self.ns(host)
            _ip("netns", "add", ns)
            self.created.append(ns)
            _ip("-n", self.router, "link", "add", f"h{host}", "type", "veth", "peer", "name", "eth0", "netns", ns)
            _ip("-n", self.router, "addr", "add", f"{SUBNET}.{host}.1/24", "dev", f"h{host}")
            _ip("-n", self.router, "link", "set", f"h{host}", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", f"{self.ip(host)}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "route", "add", "default", "via", f"{SUBNET}.{host}.1")

    def destroy(self) -> None:
        """Kill every process in the lab's namespaces and remove them; never raises."""
        for ns in reversed(self.created):
            try:
                delete_namespace(ns)
            except Exception:  # noqa: BLE001 - keep removing the rest
                pass
        self.created.clear()
        self.rules.clear()
        if self in _live_labs:
            _live_labs.remove(self)

    def kill_processes(self) -> None:
        for ns in self.created:
            kill_processes_in(ns)

    # Partitions

    def drop(self, source: int, destination: int) -> None:
        """Drop every packet host `source` sends to host `destination` (until `heal`)."""
        rule = (self.subnet(source), self.subnet(destination))
        if rule in self.rules:
            return
        _ip("-n", self.router, "rule", "add", "priority", "100", "from", rule[0], "to", rule[1], "blackhole")
        self.rules.append(rule)

    def cut(self, host: int, outgoing: bool = True, incoming: bool = True) -> None:
        """Cut `host` off from every other host: what it sends, what it receives, or both."""
        for other in range(1, self.hosts + 1):
            if other == host:
                continue
            if outgoing:
                self.drop(host, other)
            if incoming:
                self.drop(other, host)

    def heal(self) -> None:
        """Remove every drop rule."""
        while self.rules:
            source, destination = self.rules.pop()
            _ip("-n", self.router, "rule", "del", "priority", "100", "from", source, "to", destination,
                "blackhole", check=False)

    # Connections from the test

    def conn(self, host: str, port: int, from_ns: Optional[str] = None, timeout: float = 5.0) -> NsConn:
        """A RESP connection to host:port, made from the router unless `from_ns` says otherwise."""
        return NsConn(from_ns or self.router, host, port, timeout)

def answers_ping(connect: Callable[..., Conn], errors: tuple[str, ...] = ()) -> bool:
    """True if a new connection from `connect()` answers PING with PONG or one of `errors`."""
    try:
        with connect(timeout=1.0) as conn:
            reply = conn.call("PING")
    except (OSError, ConnectionClosed, ValueError):
        return False
    return reply == "PONG" or isinstance(reply, Error) and reply.startswith(errors)


def _write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


def parse_info(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


class NsRedis(RedisServer):
    """A redis-server inside host namespace `host` of `lab`, on that host's address."""

    def __init__(self, lab: NetLab, host: int, port: int, replicaof: Optional[tuple[str, int]] = None) -> None:
        self.lab = lab
        self.host = host
        self.ip = lab.ip(host)
        super().__init__(port=port, replicaof=replicaof)

    @property
    def address(self) -> tuple[str, int]:
        return (self.ip, self.port)

    def argv(self) -> list[str]:
        argv = super().argv()
        argv[argv.index("--bind") + 1] = self.ip
        return [IP_BIN, "netns", "exec", self.lab.ns(self.host), *argv]

    def is_ready(self) -> bool:
        return answers_ping(lambda timeout: self.lab.conn(self.ip, self.port, timeout=timeout))

    def describe(self) -> str:
        return f"redis {self.ip}:{self.port} in {self.lab.ns(self.host)} (dir {self.dir})"

    def client(self, **kwargs: Any) -> Any:
        raise NotImplementedError("use info() / call(): this server is inside a namespace")

    def call(self, *args: Any) -> Any:
        with self.lab.conn(self.ip, self.port, timeout=2.0) as conn:
            return conn.call(*args)

    def info(self, section: str = "replication") -> dict[str, str]:
        reply = self.call("INFO", section)
        if isinstance(reply, Error):
            raise AssertionError(f"INFO on {self.describe()}: {reply}")
        return parse_info(reply)


class NsSentinel(Sentinel):
    """A sentinel (warden or redis-sentinel) inside host namespace `host` of `lab`.

    `bind=None` leaves out the bind directive (the default: every address).
    """

    def __init__(self, lab: NetLab, host: int, port: int, masters: list[Monitor] = (), *,
                 bind: Optional[str] = "", extra: list[str] = (), binary: Optional[str] = None,
                 password: Optional[str] = None) -> None:
        self.lab = lab
        self.host = host
        self.ip = lab.ip(host)
        self.bind = self.ip if bind == "" else bind
        super().__init__(port=port, masters=masters, extra=extra, binary=binary, password=password)

    @property
    def address(self) -> tuple[str, int]:
        return (self.ip, self.port)

    def describe(self) -> str:
        return f"{os.path.basename(self.binary)} {self.ip}:{self.port} in {self.lab.ns(self.host)} (dir {self.dir})"

    def prepare(self) -> None:
        if self._written_port == self.port and self.conf_path.exists():
            return
        lines = [f"port {self.port}", f"logfile {self.log_path()}"]
        if self.bind is not None:
            lines.append(f"bind {self.bind}")
        if self.password:
            lines.append(f"requirepass {self.password}")
        for master in self.masters:
            lines += master.lines()
        self.conf_path.write_text("\n".join(lines + self.extra) + "\n")
        self._written_port = self.port

    def argv(self) -> list[str]:
        return [IP_BIN, "netns", "exec", self.lab.ns(self.host), self.binary, str(self.conf_path)]

    def is_ready(self) -> bool:
        """Up: it answers, even if only to say NOAUTH or (protected mode) DENIED."""
        return answers_ping(self.connect, ("NOAUTH", "DENIED"))

    def connect(self, timeout: float = 5.0) -> Conn:
        return self.lab.conn(self.ip, self.port, timeout=timeout)

    def client(self, protocol: int = 2, **kwargs: Any) -> Any:
        raise NotImplementedError("use cmd(): this sentinel is inside a namespace")

    def master_address(self, name: str = "mymaster") -> Optional[tuple[str, int]]:
        reply = self.cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
        if not isinstance(reply, list) or len(reply) != 2:
            return None
        return (reply[0], int(reply[1]))
