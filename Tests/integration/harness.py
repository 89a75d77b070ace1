"""Process harness for Warden's integration tests.

Starts real `redis-server` and sentinel processes (the binary under test, `WARDEN_BIN`,
or the reference `redis-sentinel`) on free loopback ports, talks to them over raw RESP
and redis-py, and makes sure none of them outlives the test run.

Environment:
  WARDEN_BIN          sentinel binary under test (default: <repo>/.build/debug/warden)
  REFERENCE_SENTINEL  the real redis-sentinel to compare against (default: from PATH)
  WARDEN_KEEP_TMP     if set, keep the temporary directory with every log and config
"""

from __future__ import annotations

import atexit
import ctypes
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import pytest
import redis

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _default_warden_bin() -> str:
    return str(REPO_ROOT / ".build" / "debug" / "warden")


WARDEN_BIN = os.environ.get("WARDEN_BIN") or _default_warden_bin()
REFERENCE_BIN = os.environ.get("REFERENCE_SENTINEL") or shutil.which("redis-sentinel") or "redis-sentinel"
REDIS_SERVER_BIN = shutil.which("redis-server") or "redis-server"


def is_reference(binary: str) -> bool:
    """True when `binary` is the real redis-sentinel (judged by its basename)."""
    return os.path.basename(binary) == "redis-sentinel"


#: Marks a test of behaviour where Warden deliberately goes beyond redis-sentinel.
warden_only = pytest.mark.skipif(
    is_reference(WARDEN_BIN),
    reason="Warden-specific behaviour; the binary under test is redis-sentinel",
)


# --------------------------------------------------------------------------------------
# Waiting


class WaitTimeout(AssertionError):
    """A condition polled by `wait_until` did not become true in time."""


class PhaseTimeout(AssertionError):
    """A test phase ran past its time limit (raised from the SIGALRM handler)."""


def wait_until(
    predicate: Callable[[], Any],
    timeout: float,
    interval: float = 0.05,
    message: str | Callable[[], str] = "condition",
) -> Any:
    """Poll `predicate` until it returns a truthy value, and return that value.

    An exception raised by the predicate counts as "not yet". On timeout, raises
    WaitTimeout naming `message` (a string, or a callable producing one), the last value
    and the last exception.
    """
    deadline = time.monotonic() + timeout
    last_value: Any = None
    last_error: Optional[BaseException] = None
    while True:
        try:
            last_value = predicate()
            last_error = None
            if last_value:
                return last_value
        except (WaitTimeout, PhaseTimeout, KeyboardInterrupt):
            raise
        except Exception as error:  # noqa: BLE001 - any failure means "not yet"
            last_error = error
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            detail = f"timed out after {timeout:g} s waiting for: {text}\n  last value: {last_value!r}"
            if last_error is not None:
                detail += f"\n  last error: {last_error!r}"
            raise WaitTimeout(detail)
        time.sleep(interval)


# --------------------------------------------------------------------------------------
# Ports


_handed_ports: set[int] = set()
_port_rng = random.Random(os.getpid() ^ time.time_ns())


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _can_bind(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now and was not handed out before in this run.

    Ports are drawn at random below the kernel's ephemeral range, so that outgoing
    connections (which take ephemeral ports) cannot grab them before a server binds.
    """
    ephemeral_low, ephemeral_high = _ephemeral_range()
    if ephemeral_low > 12000:
        low, high = 10000, ephemeral_low - 1
    else:
        low, high = ephemeral_high + 1, 65535
    for _ in range(1000):
        port = _port_rng.randint(low, high)
        if port in _handed_ports:
            continue
        if _can_bind(port):
            _handed_ports.add(port)
            return port
    raise RuntimeError(f"no free port found in {low}-{high}")


# --------------------------------------------------------------------------------------
# Child processes and the safety net


_children: dict[int, subprocess.Popen] = {}
#: Every ManagedProcess created in this run, for log collection on failure.
ALL_PROCESSES: list["ManagedProcess"] = []

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL if the test runner dies, however it dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass


def kill_all_children() -> None:
    """SIGKILL every process the harness started that is still running."""
    for pid, process in list(_children.items()):
        if process.poll() is None:
            try:
                process.kill()
                process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        _children.pop(pid, None)


_base_dir: Optional[Path] = None


def base_dir() -> Path:
    """The run's temporary directory; every process gets a sub-directory in it."""
    global _base_dir
    if _base_dir is None:
        _base_dir = Path(tempfile.mkdtemp(prefix="warden-it-"))
    return _base_dir


def _clean_up() -> None:
    """Kill what is left and remove the temporary directory (unless WARDEN_KEEP_TMP)."""
    kill_all_children()
    if _base_dir is not None and not os.environ.get("WARDEN_KEEP_TMP"):
        shutil.rmtree(_base_dir, ignore_errors=True)


def _on_fatal_signal(signum: int, _frame: Any) -> None:
    _clean_up()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


atexit.register(_clean_up)
for _signum in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_signum, _on_fatal_signal)


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no file)"
    return "\n".join(text.splitlines()[-lines:])


class ManagedProcess:
    """A child process with its own directory, log file and start/stop/signal controls."""

    kind = "process"
    _counter = 0

    def __init__(self, port: Optional[int]) -> None:
        ManagedProcess._counter += 1
        self.auto_port = port is None
        self.port = port if port is not None else free_port()
        self.dir = base_dir() / f"{self.kind}-{ManagedProcess._counter}"
        self.dir.mkdir(parents=True)
        self.process: Optional[subprocess.Popen] = None
        self.started_at = 0.0
        self.stopped_at: Optional[float] = None
        self.returncode: Optional[int] = None
        ALL_PROCESSES.append(self)

    # Subclasses say how to start and where the log is.
    def argv(self) -> list[str]:
        raise NotImplementedError

    def log_path(self) -> Path:
        raise NotImplementedError

    def prepare(self) -> None:
        """Write whatever the process needs before it starts (config files)."""

    def is_ready(self) -> bool:
        return ping(self.port)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def spawn(self) -> None:
        """Start the process without waiting for it to answer."""
        self.prepare()
        with open(self.dir / "stdout.log", "ab") as out, open(self.dir / "stderr.log", "ab") as err:
            self.process = subprocess.Popen(
                self.argv(),
                cwd=self.dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        _children[self.process.pid] = self.process
        self.started_at = time.monotonic()
        self.stopped_at = None
        self.returncode = None

    def start(self, timeout: float = 15.0) -> "ManagedProcess":
        """Start and wait until the port answers PING; retry on a port race if ours."""
        for _ in range(3):
            self.spawn()
            try:
                wait_until(
                    lambda: self._ready_or_dead(),
                    timeout,
                    message=lambda: f"{self.describe()} to answer PING",
                )
            except WaitTimeout:
                raise WaitTimeout(f"{self.describe()} did not answer PING in {timeout:g} s\n{self.diagnostics()}")
            if self.alive():
                return self
            if self.auto_port and "already in use" in self.diagnostics():
                self.port = free_port()
                continue
            raise AssertionError(f"{self.describe()} exited with {self.process.returncode} at start-up\n{self.diagnostics()}")
        raise AssertionError(f"{self.describe()}: no usable port after 3 attempts")

    def _ready_or_dead(self) -> bool:
        if not self.alive():
            self._reap()
            return True
        return self.is_ready()

    def _reap(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            self.returncode = self.process.returncode
            _children.pop(self.process.pid, None)
            if self.stopped_at is None:
                self.stopped_at = time.monotonic()

    def wait_exit(self, timeout: float) -> Optional[int]:
        """Wait for the process to exit by itself; its exit status, or None if still running."""
        if self.process is None:
            return self.returncode
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._reap()
        return self.returncode

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        """SIGTERM (after SIGCONT, in case it is paused), then SIGKILL after `timeout`.

        Returns the exit status (negative for a signal), or None if it was not running.
        """
        if not self.alive():
            self._reap()
            return self.returncode
        for signum in (signal.SIGCONT, signal.SIGTERM):
            try:
                self.process.send_signal(signum)
            except ProcessLookupError:
                pass
        if self.wait_exit(timeout) is None:
            self.kill9()
        return self.returncode

    def kill9(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait(timeout=10)
        self._reap()

    def pause(self) -> None:
        """SIGSTOP: the process keeps its sockets but answers nothing."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def describe(self) -> str:
        return f"{self.kind} on port {self.port} (dir {self.dir})"

    def log(self, lines: int = 40) -> str:
        """The last lines of this process's log, for failure messages."""
        return tail(self.log_path(), lines)

    def diagnostics(self, lines: int = 40) -> str:
        parts = [f"--- {self.describe()}: log tail ---", self.log(lines)]
        for name in ("stdout.log", "stderr.log"):
            path = self.dir / name
            if path != self.log_path() and path.exists() and path.stat().st_size:
                parts += [f"--- {name} ---", tail(path, lines)]
        return "\n".join(parts)


class RedisServer(ManagedProcess):
    """A real redis-server on loopback, optionally a replica of another one."""

    kind = "redis"

    def __init__(
        self,
        port: Optional[int] = None,
        replicaof: Optional[int | tuple[str, int]] = None,
        extra_args: Iterable[str] = (),
    ) -> None:
        super().__init__(port)
        if isinstance(replicaof, int):
            replicaof = (HOST, replicaof)
        self.replicaof = replicaof
        self.extra_args = list(extra_args)

    def argv(self) -> list[str]:
        argv = [
            REDIS_SERVER_BIN,
            "--port", str(self.port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.dir),
            "--daemonize", "no",
            "--protected-mode", "no",
            "--logfile", str(self.log_path()),
            # Replicas sync at once instead of after the default 5 s diskless delay.
            "--repl-diskless-sync-delay", "0",
        ]
        if self.replicaof:
            argv += ["--replicaof", self.replicaof[0], str(self.replicaof[1])]
        return argv + self.extra_args

    def log_path(self) -> Path:
        return self.dir / "redis.log"

    def client(self, **kwargs: Any) -> redis.Redis:
        options = dict(host=HOST, port=self.port, decode_responses=True, socket_timeout=5)
        options.update(kwargs)
        return redis.Redis(**options)

    def info(self, section: str = "replication") -> dict[str, Any]:
        with self.client() as client:
            return client.info(section)

@dataclass
class Monitor:
    """One `sentinel monitor` entry and its per-master settings."""

    port: int
    name: str = "mymaster"
    host: str = HOST
    quorum: int = 2
    down_after_ms: int = 5000
    failover_timeout_ms: int = 60000

    def lines(self) -> list[str]:
        return [
            f"sentinel monitor {self.name} {self.host} {self.port} {self.quorum}",
            f"sentinel down-after-milliseconds {self.name} {self.down_after_ms}",
            f"sentinel failover-timeout {self.name} {self.failover_timeout_ms}",
        ]


class Sentinel(ManagedProcess):
    """A sentinel process (Warden or redis-sentinel) started as `<binary> <conf>`.

    Either `masters` (Monitor entries; a generated file) or `conf_text` (written
    verbatim after the port/bind/logfile header) describes what it monitors.
    """

    kind = "sentinel"

    def __init__(
        self,
        port: Optional[int] = None,
        masters: Iterable[Monitor] = (),
        *,
        conf_text: str = "",
        extra: Iterable[str] = (),
        binary: Optional[str] = None,
        password: Optional[str] = None,
    ) -> None:
        super().__init__(port)
        self.binary = binary or WARDEN_BIN
        self.masters = list(masters)
        self.body = conf_text
        self.extra = list(extra)
        self.password = password
        self.conf_path = self.dir / "sentinel.conf"
        self._conn: Optional[Conn] = None
        self._written_port: Optional[int] = None

    def describe(self) -> str:
        return f"{os.path.basename(self.binary)} on port {self.port} (dir {self.dir})"

    def log_path(self) -> Path:
        return self.dir / "sentinel.log"

    def header_lines(self) -> list[str]:
        """The server directives at the top of the generated config."""
        lines = [f"port {self.port}", f"bind {HOST}", f"logfile {self.log_path()}"]
        if self.password:
            lines.append(f"requirepass {self.password}")
        return lines

    def prepare(self) -> None:
        """Write the config on first start (or when the port changed); later starts reuse it."""
        if self._written_port == self.port and self.conf_path.exists():
            return
        lines = self.header_lines()
        for master in self.masters:
            lines += master.lines()
        text = "\n".join(lines + self.extra) + "\n"
        if self.body:
            text += self.body if self.body.endswith("\n") else self.body + "\n"
        self.conf_path.write_text(text)
        self._written_port = self.port

    def argv(self) -> list[str]:
        return [self.binary, str(self.conf_path)]

    def is_ready(self) -> bool:
        return ping(self.port, accept_noauth=True)

    def spawn(self) -> None:
        self.close_conn()
        super().spawn()

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        self.close_conn()
        return super().stop(timeout)

    def restart(self, timeout: float = 15.0) -> "Sentinel":
        """SIGTERM, wait, and start again with the same file and port."""
        self.stop()
        return self.start(timeout)

    def conf_text(self) -> str:
        return self.conf_path.read_text()

    def client(self, protocol: int = 2, **kwargs: Any) -> redis.Redis:
        options = dict(
            host=HOST, port=self.port, decode_responses=True, socket_timeout=5,
            protocol=protocol, password=self.password,
        )
        options.update(kwargs)
        return redis.Redis(**options)

    def connect(self, timeout: float = 5.0) -> "Conn":
        """A new raw RESP connection to the sentinel's port, not authenticated."""
        return Conn(self.port, timeout=timeout)

    def conn(self, protocol: int = 2) -> "Conn":
        """A new raw RESP connection (authenticated if the sentinel has a password)."""
        conn = self.connect()
        if protocol == 3 or self.password:
            args = ["HELLO", str(protocol)]
            if self.password:
                args += ["AUTH", "default", self.password]
            reply = conn.call(*args)
            assert not isinstance(reply, Error), f"{args[0]} failed on {self.describe()}: {reply}"
        return conn

    def cmd(self, *args: Any) -> Any:
        """Run one command on a shared RESP2 connection; errors come back as Error values."""
        if self._conn is None:
            self._conn = self.conn()
        try:
            return self._conn.call(*args)
        except (OSError, ConnectionClosed):
            self.close_conn()
            raise

    def close_conn(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # Convenience views of SENTINEL replies as dictionaries of strings.
    def master(self, name: str = "mymaster") -> dict[str, Any]:
        return checked_map(self.cmd("SENTINEL", "MASTER", name))

    def masters_list(self) -> list[dict[str, Any]]:
        return [checked_map(item) for item in checked(self.cmd("SENTINEL", "MASTERS"))]

    def replicas(self, name: str = "mymaster") -> list[dict[str, Any]]:
        return [checked_map(item) for item in checked(self.cmd("SENTINEL", "REPLICAS", name))]

    def sentinels(self, name: str = "mymaster") -> list[dict[str, Any]]:
        return [checked_map(item) for item in checked(self.cmd("SENTINEL", "SENTINELS", name))]

    def myid(self) -> str:
        return checked(self.cmd("SENTINEL", "MYID"))

    def view(self, name: str = "mymaster") -> str:
        """One line describing what this sentinel sees, for failure messages."""
        try:
            m = self.master(name)
            return (f"{self.describe()}: {m['ip']}:{m['port']} flags={m['flags']} "
                    f"num-slaves={m['num-slaves']} num-other-sentinels={m['num-other-sentinels']}")
        except Exception as error:  # noqa: BLE001 - diagnostics must not raise
            return f"{self.describe()}: {error!r}"


def run_to_exit(argv: list[str], timeout: float = 10.0, cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    """Run a command that is expected to exit by itself (a bad config); kill it on timeout."""
    process = subprocess.Popen(
        argv, cwd=cwd or base_dir(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=_die_with_parent,
    )
    _children[process.pid] = process
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"{argv} still running after {timeout:g} s\nstdout: {out}\nstderr: {err}")
    finally:
        _children.pop(process.pid, None)
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


# --------------------------------------------------------------------------------------
# A raw RESP2/RESP3 client that keeps every detail of the reply's type


class Simple(str):
    """A RESP simple string (`+OK`)."""

    def __repr__(self) -> str:
        return f"Simple({str.__repr__(self)})"


class Error(str):
    """A RESP error reply (`-ERR ...`), returned rather than raised."""

    def __repr__(self) -> str:
        return f"Error({str.__repr__(self)})"


class Verbatim(str):
    """A RESP3 verbatim string; the text without its `txt:` prefix."""


class Map(dict):
    """A RESP3 map, in the order the server sent it."""


class RSet(list):
    """A RESP3 set, in the order the server sent it."""


class Push(list):
    """A RESP3 push message (`>`)."""


class Null:
    """A null reply; `kind` is 'bulk' ($-1), 'array' (*-1) or 'resp3' (_)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Null) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(("Null", self.kind))

    def __repr__(self) -> str:
        return f"Null({self.kind})"


NULL_BULK, NULL_ARRAY, NULL3 = Null("bulk"), Null("array"), Null("resp3")


class ConnectionClosed(Exception):
    """The server closed the connection."""


def encode_command(*args: Any) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class Conn:
    """One blocking RESP connection; replies are parsed into the types above."""

    def __init__(self, port: int, host: str = HOST, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "Conn":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def send(self, *args: Any) -> None:
        self.sock.sendall(encode_command(*args))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def call(self, *args: Any) -> Any:
        self.send(*args)
        return self.read()

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionClosed("connection closed by the server")
        self.buffer += data

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _exact(self, size: int) -> bytes:
        while len(self.buffer) < size + 2:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size + 2:]
        return data

    def read(self) -> Any:
        line = self._line()
        kind, rest = line[:1], line[1:].decode(errors="surrogateescape")
        if kind == b"+":
            return Simple(rest)
        if kind == b"-":
            return Error(rest)
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return NULL_BULK if size < 0 else self._exact(size).decode(errors="surrogateescape")
        if kind in (b"*", b"~", b">"):
            count = int(rest)
            if count < 0:
                return NULL_ARRAY
            items = [self.read() for _ in range(count)]
            return {b"*": list, b"~": RSet, b">": Push}[kind](items)
        if kind == b"%":
            result = Map()
            for _ in range(int(rest)):
                key = self.read()
                result[key if not isinstance(key, list) else tuple(key)] = self.read()
            return result
        if kind == b"_":
            return NULL3
        if kind == b"#":
            return rest == "t"
        if kind == b",":
            return float(rest)
        if kind == b"(":
            return int(rest)
        if kind == b"=":
            return Verbatim(self._exact(int(rest)).decode(errors="surrogateescape")[4:])
        if kind == b"|":
            for _ in range(int(rest)):
                self.read()
                self.read()
            return self.read()
        raise ValueError(f"unexpected RESP type byte in {line!r}")

    def read_until_closed(self, timeout: float = 5.0) -> bytes:
        """Every remaining byte until the server closes; fails if it does not within timeout."""
        data, self.buffer = self.buffer, b""
        return data + read_until_closed(self.sock, timeout)


def read_until_closed(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """Read until the peer closes (EOF or reset); WaitTimeout if it stays open past timeout."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise WaitTimeout(f"connection still open after {timeout:g} s; received {data!r}")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def ping(port: int, accept_noauth: bool = False, connect: Optional[Callable[[], "Conn"]] = None) -> bool:
    """True if something on the port answers PING with PONG (or NOAUTH, if accepted).
    `connect` makes the connection (default: plain TCP with a 1 s timeout)."""
    try:
        with (connect or (lambda: Conn(port, timeout=1.0)))() as conn:
            reply = conn.call("PING")
    except (OSError, ConnectionClosed, ValueError):
        return False
    if accept_noauth and isinstance(reply, Error) and reply.startswith("NOAUTH"):
        return True
    return reply == "PONG"


def checked(reply: Any) -> Any:
    """The reply, or AssertionError if it is an error reply."""
    if isinstance(reply, Error):
        raise AssertionError(f"error reply: {reply}")
    return reply


def pairs(reply: Any) -> list[tuple[Any, Any]]:
    """Key/value pairs of a RESP2 flat map (an even-length array) or of a RESP3 map."""
    if isinstance(reply, dict):
        return list(reply.items())
    assert isinstance(reply, list) and len(reply) % 2 == 0, f"not a map: {reply!r}"
    return list(zip(reply[0::2], reply[1::2]))


def checked_map(reply: Any) -> dict[str, Any]:
    return dict(pairs(checked(reply)))


def keys_of(reply: Any) -> list[Any]:
    return [key for key, _ in pairs(reply)]


def shape(value: Any) -> Any:
    """The type skeleton of a reply: the same for two replies that differ only in data."""
    if isinstance(value, Map):
        return ("map", [(k, shape(v)) for k, v in value.items()])
    if isinstance(value, (RSet, Push, list)):
        return (type(value).__name__.lower(), [shape(item) for item in value])
    if isinstance(value, Null):
        return repr(value)
    return type(value).__name__


def info_sections(text: str) -> dict[str, list[tuple[str, str]]]:
    """INFO text as {section name: [(field, value), ...]} in order."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: Optional[list[tuple[str, str]]] = None
    for line in text.splitlines():
        if line.startswith("# "):
            current = sections.setdefault(line[2:].strip(), [])
        elif line and current is not None:
            field, _, value = line.partition(":")
            current.append((field, value))
    return sections


# --------------------------------------------------------------------------------------
# Topologies


class Topology:
    """A master, its replicas and a set of sentinels watching them, all on loopback."""

    def __init__(
        self,
        sentinels: int = 3,
        replicas: int = 2,
        quorum: int = 2,
        down_after_ms: int = 5000,
        failover_timeout_ms: int = 60000,
        binary: Optional[str] = None,
        extra: Iterable[str] = (),
        name: str = "mymaster",
        binaries: Iterable[str] = (),
    ) -> None:
        self.name = name
        #: One binary per sentinel, in start order, for groups that mix Warden and
        #: redis-sentinel; empty: every sentinel runs `binary`.
        self.binaries = list(binaries)
        if self.binaries and len(self.binaries) != sentinels:
            raise ValueError(f"{len(self.binaries)} binaries for {sentinels} sentinels")
        self.n_sentinels = sentinels
        self.n_replicas = replicas
        self.quorum = quorum
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.binary = binary or WARDEN_BIN
        self.extra = list(extra)
        self.master: Optional[RedisServer] = None
        self.replicas: list[RedisServer] = []
        self.sentinels: list[Sentinel] = []
        self.extra_sentinels: list[Sentinel] = []

    def monitor(self) -> Monitor:
        assert self.master is not None
        return Monitor(
            port=self.master.port, name=self.name, quorum=self.quorum,
            down_after_ms=self.down_after_ms, failover_timeout_ms=self.failover_timeout_ms,
        )

    def new_redis(self, replicaof: Optional[int] = None) -> RedisServer:
        """A data node of this topology (not started); subclasses choose the kind."""
        return RedisServer(replicaof=replicaof)

    def new_sentinel(self) -> Sentinel:
        """A sentinel of this topology (not started); subclasses choose the kind."""
        return Sentinel(masters=[self.monitor()], extra=self.extra, binary=self.binary)

    def new_sentinel_at(self, index: int) -> Sentinel:
        """The `index`-th sentinel (not started): `new_sentinel()`, running `binaries[index]`
        when the topology has a list of binaries."""
        sentinel = self.new_sentinel()
        if self.binaries:
            sentinel.binary = self.binaries[index]
        return sentinel

    def start(self) -> "Topology":
        """Start the data nodes, wait for replication links, then start the sentinels."""
        self.master = self.new_redis()
        self.master.start()
        for _ in range(self.n_replicas):
            replica = self.new_redis(replicaof=self.master.port)
            self.replicas.append(replica)
            replica.start()
        wait_until(
            lambda: self.master.info("replication").get("connected_slaves") == self.n_replicas
            and all(r.info("replication").get("master_link_status") == "up" for r in self.replicas),
            15, message=f"{self.n_replicas} replicas in sync with the master",
        )
        for index in range(self.n_sentinels):
            sentinel = self.new_sentinel_at(index)
            self.sentinels.append(sentinel)
            sentinel.start()
        return self

    def add_sentinel(self, binary: Optional[str] = None, extra: Iterable[str] = ()) -> Sentinel:
        """Start one more sentinel on the same master; stopped with the topology."""
        sentinel = Sentinel(masters=[self.monitor()], extra=list(extra), binary=binary or self.binary)
        self.extra_sentinels.append(sentinel)
        sentinel.start()
        return sentinel

    def sees_everything(self, sentinel: Sentinel, other_sentinels: Optional[int] = None) -> bool:
        others = self.n_sentinels - 1 if other_sentinels is None else other_sentinels
        master = sentinel.master(self.name)
        return (int(master["num-slaves"]) == self.n_replicas
                and int(master["num-other-sentinels"]) == others)

    def wait_discovered(self, timeout: float = 15.0) -> None:
        """Wait until every sentinel sees every replica and every other sentinel."""
        wait_until(
            lambda: all(self.sees_everything(s) for s in self.sentinels),
            timeout,
            message=lambda: f"every sentinel to see {self.n_replicas} replicas and "
                            f"{self.n_sentinels - 1} other sentinels:\n" + self.views(),
        )

    def wait_linked(self, timeout: float = 10.0) -> None:
        """Wait until every sentinel has working links to every replica and peer (plain flags)."""
        wait_until(
            lambda: all(r["flags"] == "slave" for s in self.sentinels for r in s.replicas())
            and all(p["flags"] == "sentinel" for s in self.sentinels for p in s.sentinels()),
            timeout, message=lambda: "every sentinel linked to every replica and peer:\n" + self.views(),
        )

    def views(self) -> str:
        return "\n".join("  " + s.view(self.name) for s in self.sentinels + self.extra_sentinels)

    def all_processes(self) -> list[ManagedProcess]:
        servers: list[ManagedProcess] = [self.master] if self.master else []
        return [*self.sentinels, *self.extra_sentinels, *self.replicas, *servers]

    def stop(self) -> None:
        """Stop everything; never raises, so it is safe in any finalizer."""
        for process in self.all_processes():
            try:
                process.stop(timeout=5)
            except Exception:  # noqa: BLE001 - keep stopping the rest
                process.kill9()

    def __enter__(self) -> "Topology":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class Resources:
    """Processes and topologies to stop at the end of a test or module."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def add(self, item: Any) -> Any:
        self.items.append(item)
        return item

    def close(self) -> None:
        for item in reversed(self.items):
            try:
                item.stop()
            except Exception:  # noqa: BLE001 - keep stopping the rest
                pass
        self.items.clear()


# --------------------------------------------------------------------------------------
# Pub/Sub events


@dataclass(frozen=True)
class Event:
    """One Pub/Sub event of a sentinel: the channel (`+switch-master`) and its text."""

    at: float       # time.monotonic() when it arrived
    port: int       # the sentinel that published it
    channel: str
    data: str


class EventLog:
    """Records every Pub/Sub event of some sentinels (PSUBSCRIBE *), one reader thread each.

    Subscribed when constructed (each subscription confirmed), so events that happen
    afterwards are all seen. A sentinel that exits just ends its reader; `stop()` ends
    them all. `add()` subscribes to one more sentinel (a restarted one, say).
    """

    def __init__(self, sentinels: Iterable["Sentinel"] = ()) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._conns: list[Conn] = []
        self._threads: list[threading.Thread] = []
        for sentinel in sentinels:
            self.add(sentinel)

    def add(self, sentinel: "Sentinel") -> None:
        conn = sentinel.conn()
        reply = conn.call("PSUBSCRIBE", "*")
        assert reply == ["psubscribe", "*", 1], f"PSUBSCRIBE * on {sentinel.describe()}: {reply!r}"
        conn.sock.settimeout(None)
        thread = threading.Thread(target=self._read, args=(conn, sentinel.port), daemon=True)
        self._conns.append(conn)
        self._threads.append(thread)
        thread.start()

    def _read(self, conn: "Conn", port: int) -> None:
        while True:
            try:
                message = conn.read()
            except (OSError, ConnectionClosed, ValueError):
                return
            if isinstance(message, list) and len(message) == 4 and message[0] == "pmessage":
                with self._lock:
                    self._events.append(Event(time.monotonic(), port, message[2], message[3]))

    def events(self, channel: Optional[str] = None, port: Optional[int] = None,
               since: float = 0.0) -> list[Event]:
        """The events so far, oldest first, optionally of one channel / sentinel / after a time."""
        with self._lock:
            return [e for e in self._events
                    if (channel is None or e.channel == channel)
                    and (port is None or e.port == port) and e.at >= since]

    def wait_for(self, channel: str, timeout: float, port: Optional[int] = None, since: float = 0.0,
                 match: Callable[[Event], bool] = lambda _: True) -> Event:
        """The first event on `channel` (and from `port`, after `since`) that `match`es; waits for it."""
        return wait_until(
            lambda: next((e for e in self.events(channel, port, since) if match(e)), None),
            timeout, interval=0.02,
            message=lambda: f"event {channel}" + (f" from the sentinel on {port}" if port else "")
                            + "; events so far:\n" + self.describe(since),
        )

    def describe(self, since: float = 0.0) -> str:
        """The events as text lines (time relative to `since`), for failure messages."""
        return "\n".join(f"  {e.at - since:+8.3f} s  {e.port}  {e.channel} {e.data}"
                         for e in self.events(since=since)) or "  (none)"

    def stop(self) -> None:
        for conn in self._conns:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        for thread in self._threads:
            thread.join(timeout=5)


HEX40 = re.compile(r"^[0-9a-f]{40}$")
