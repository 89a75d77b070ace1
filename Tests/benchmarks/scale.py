#!/usr/bin/env python3
"""Cost at scale: 3 wardens vs 3 redis-sentinels watching N masters, side by side in one run.

For each N (--masters) the script starts N redis-server masters with one replica each
on loopback, measures their idle CPU with no sentinel running (the baseline), and then,
for each down-after-milliseconds value (--down-after) and each binary, starts three
sentinels monitoring all N masters (quorum 2, failover-timeout 60000, parallel-syncs 1)
and measures:

  discovery   from the start of the first sentinel until every sentinel lists N
              masters, each with 1 replica and 2 other sentinels (SENTINEL MASTERS);
  CPU         once --settle s have passed since discovery and since any sentinel last
              rewrote its config, and none is in TILT mode (INFO sentinel): CPU of the 3
              sentinels over a --window s window, in ms of CPU per second (utime +
              stime, /proc/<pid>/stat), and the CPU of all 2N redis-servers over the
              same window minus the baseline, i.e. the load the sentinels cause there
              (from /proc/<pid>/task/*/schedstat, which counts in ns: 2N small figures
              in 10 ms clock ticks would be mostly rounding);
  RSS         VmRSS of each sentinel at the end of the window (mean of 3), and per
              monitored instance: (RSS - RSS of the same binary monitoring nothing) / 2N;
  failover    only for down-after values in --failover-down-after (default 5000 and
              1000; a 30 s down-after adds half a minute per run and tells nothing
              new): kill -9 of one master until all 3 sentinels answer the same new
              address for it and that master accepts a write (as failover.py); then
              10 % of the masters (at least 1) killed at once (a host lost): the time
              until every sentinel answers a new address for each of them, max and
              median over them, and how many made it within down-after + --give-up s.

A note under the table says when a sentinel entered TILT mode during a run (counted
from the `+tilt` lines of its log): redis-sentinel at 1,000 masters does, while it
writes its config for every replica and peer it finds.

The same redis-servers serve every run of one N: after a run with failovers the
killed masters are restarted on their ports, made masters again and their replicas
pointed back at them (REPLICAOF), and the script waits until every replica is in
sync before the next sentinels start. Every process is stopped when its N is done,
also on Ctrl-C (the results so far are printed).

The redis-servers run with `--hz 1` (--redis-hz): an idle redis-server at the default
hz 10 costs about 1.4 ms of CPU per second, so 2,000 of them would take 2.8 cores by
themselves; at hz 1 about 0.2 ms/s. Sentinels' probing does not depend on it, but the
load they cause does a little: at hz 10 the servers' cron also walks the sentinels'
connections, a cost both binaries cause alike, so the load ratio comes out somewhat
closer to 1 (at 100 masters: 2.9x at hz 10 against 3.3x at hz 1, Warden 3a2399d).

    python3 Tests/benchmarks/scale.py [--masters 10 100 500 1000] [--down-after 30000 5000]
                                      [--window 20] [--only warden|redis-sentinel] [--json FILE]
                                      [--no-replicas]

--no-replicas starts the masters alone (N redis-servers instead of 2N, so about twice
the masters fit in the same memory); there is nothing to fail over to, so no failover
is measured, and RSS per instance is divided by N.

Uses the release build of warden (`swift build -c release`) unless WARDEN_BIN is set;
redis-sentinel from PATH unless REFERENCE_SENTINEL is set. An N the machine cannot
hold (memory, file descriptors, process ids) is skipped with the reason.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "integration"))
os.environ.setdefault("WARDEN_BIN", str(ROOT / ".build" / "release" / "warden"))

import redis  # noqa: E402

import harness  # noqa: E402
from harness import HOST, Monitor, RedisServer, Sentinel, WaitTimeout  # noqa: E402

SENTINELS = 3
#: Replicas per master: 1, or 0 with --no-replicas (then no failovers are measured).
REPLICAS = 1
QUORUM = 2
FAILOVER_TIMEOUT_MS = 60000
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Memory one idle redis-server takes from MemAvailable (measured: about 2.7 MB anonymous
#: plus page tables and kernel stacks); replaced by what the first N actually took.
SERVER_MEMORY_ESTIMATE = 5 << 20
#: Threads of one redis-server with jemalloc-bg-thread off (main + 3 bio threads).
SERVER_THREADS = 4


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# /proc


def cpu_process(pid: int) -> float:
    """User + system CPU seconds of the whole process (all its threads, living or not)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_threads(pid: int) -> float:
    """CPU seconds of the process's current threads, in ns resolution (schedstat)."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        for task in tasks:
            total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return cpu_process(pid)
    return total / 1e9


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def meminfo(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def tasks_running() -> int:
    return int(Path("/proc/loadavg").read_text().split()[3].split("/")[1])


# --------------------------------------------------------------------------------------
# Many processes at once


def listening(port: int) -> bool:
    """True if the port completes a TCP handshake (the kernel does that, not the process)."""
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


def start_all(processes: list[harness.ManagedProcess], timeout: float,
              ready: Optional[Callable[[harness.ManagedProcess], bool]] = None) -> None:
    """Spawn every process, then wait until each is `ready` (default: answers PING);
    one that died of a port race is respawned on another port."""
    ready = ready or (lambda process: process.is_ready())
    for process in processes:
        process.spawn()
    pending = list(processes)
    retries: dict[int, int] = {}
    deadline = time.monotonic() + timeout
    while pending:
        still = []
        for process in pending:
            if not process.alive():
                process.wait_exit(1)
                if (process.auto_port and "already in use" in process.diagnostics()
                        and retries.get(id(process), 0) < 3):
                    retries[id(process)] = retries.get(id(process), 0) + 1
                    process.port = harness.free_port()
                    process.spawn()
                    still.append(process)
                    continue
                raise RuntimeError(f"{process.describe()} exited at start-up\n{process.diagnostics()}")
            if not (ready(process) and process.alive()):
                still.append(process)
        pending = still
        if pending:
            if time.monotonic() > deadline:
                raise WaitTimeout(f"{len(pending)} processes not ready after {timeout:g} s, "
                                  f"e.g.\n{pending[0].diagnostics()}")
            time.sleep(0.05)


def stop_all(processes: Iterable[harness.ManagedProcess], timeout: float = 10.0) -> None:
    """SIGTERM every running process at once, wait up to `timeout`, SIGKILL the rest."""
    processes = list(processes)
    for process in processes:
        if isinstance(process, Sentinel):
            process.close_conn()
        if process.alive():
            for signum in (signal.SIGCONT, signal.SIGTERM):
                try:
                    process.process.send_signal(signum)
                except ProcessLookupError:
                    pass
    deadline = time.monotonic() + timeout
    for process in processes:
        process.wait_exit(max(0.0, deadline - time.monotonic()))
    for process in processes:
        try:
            process.kill9()
        except Exception:  # noqa: BLE001 - keep stopping the rest
            pass


# --------------------------------------------------------------------------------------
# The data nodes of one N


class Servers:
    """N masters with one replica each, reused by every sentinel run of one N."""

    def __init__(self, n: int, hz: int) -> None:
        self.n = n
        self.args = ["--hz", str(hz), "--databases", "1", "--jemalloc-bg-thread", "no",
                     "--repl-backlog-size", "64kb"]
        self.masters = [RedisServer(extra_args=self.args) for _ in range(n)]
        self.replicas: list[RedisServer] = []

    def all(self) -> list[RedisServer]:
        return self.masters + self.replicas

    def start(self) -> None:
        timeout = 60 + self.n * 0.1
        start_all(self.masters, timeout)
        if REPLICAS:
            self.replicas = [RedisServer(replicaof=m.port, extra_args=self.args) for m in self.masters]
            start_all(self.replicas, timeout)
            self.wait_in_sync(range(self.n), timeout)

    def in_sync(self, index: int) -> bool:
        info = self.replicas[index].info("replication")
        return (info.get("master_link_status") == "up"
                and int(info.get("master_port", -1)) == self.masters[index].port
                and self.masters[index].info("replication").get("role") == "master")

    def wait_in_sync(self, indices: Iterable[int], timeout: float) -> None:
        pending = list(indices)
        deadline = time.monotonic() + timeout
        while pending:
            still = []
            for i in pending:
                try:
                    ok = self.in_sync(i)
                except (redis.RedisError, OSError, ValueError):
                    ok = False
                if not ok:
                    still.append(i)
            pending = still
            if pending:
                if time.monotonic() > deadline:
                    raise WaitTimeout(f"{len(pending)} replicas not in sync after {timeout:g} s, "
                                      f"e.g. {self.replicas[pending[0]].describe()}")
                time.sleep(0.05)

    def reset(self, touched: set[int]) -> None:
        """After failovers (no sentinel running): every pair as it was at the start."""
        dead = [p for i in sorted(touched) for p in (self.masters[i], self.replicas[i]) if not p.alive()]
        for process in dead:
            process.wait_exit(1)
        if dead:
            start_all(dead, 30)
        for i in sorted(touched):
            with self.masters[i].client() as client:
                client.execute_command("REPLICAOF", "NO", "ONE")
            with self.replicas[i].client() as client:
                client.execute_command("REPLICAOF", HOST, self.masters[i].port)
        self.wait_in_sync(range(self.n), 60 + self.n * 0.05)

    def cpu(self) -> float:
        total = 0.0
        for process in self.all():
            try:
                total += cpu_threads(process.pid)
            except OSError:  # died; the caller notices from alive()
                pass
        return total

    def stop(self) -> None:
        stop_all(self.all())


# --------------------------------------------------------------------------------------
# One sentinel run


@dataclass
class Result:
    masters: int
    down_after: int
    binary: str
    discovery_s: Optional[float] = None
    discovery_note: str = ""
    sentinel_cpu_ms_s: Optional[float] = None
    redis_load_ms_s: Optional[float] = None
    redis_baseline_ms_s: Optional[float] = None
    window_s: Optional[float] = None
    rss_mb: Optional[float] = None
    rss_kb_per_instance: Optional[float] = None
    failover_ms: Optional[float] = None
    mass_killed: int = 0
    mass_done: int = 0
    mass_max_ms: Optional[float] = None
    mass_median_ms: Optional[float] = None
    note: str = ""
    took_s: float = 0.0
    extra: dict = field(default_factory=dict)


def master_name(i: int) -> str:
    return f"m{i:04d}"


def sentinel_client(sentinel: Sentinel, timeout: float = 30.0) -> redis.Redis:
    return redis.Redis(host=HOST, port=sentinel.port, socket_timeout=timeout, decode_responses=True)


def discovery_summary(clients: list[redis.Redis], n: int) -> str:
    parts = []
    for client in clients:
        try:
            masters = client.sentinel_masters()
        except redis.RedisError as error:
            parts.append(repr(error))
            continue
        parts.append(f"{len(masters)}/{n} masters, "
                     f"{sum(m['num-slaves'] == REPLICAS for m in masters.values())} with {REPLICAS} replica(s), "
                     f"{sum(m['num-other-sentinels'] == SENTINELS - 1 for m in masters.values())} "
                     f"with {SENTINELS - 1} other sentinels")
    return "; ".join(parts)


def sees_everything(client: redis.Redis, n: int) -> bool:
    masters = client.sentinel_masters()
    return len(masters) == n and all(
        m["num-slaves"] == REPLICAS and m["num-other-sentinels"] == SENTINELS - 1 for m in masters.values())


def wait_discovered(sentinels: list[Sentinel], clients: list[redis.Redis], n: int, started: float,
                    timeout: float) -> float:
    """Seconds from `started` until every sentinel saw everything (each checked until it
    does, then all confirmed in one more round)."""
    seen_at: list[Optional[float]] = [None] * len(clients)
    deadline = started + timeout
    while True:
        for sentinel in sentinels:
            if not sentinel.alive():
                raise RuntimeError(f"{sentinel.describe()} exited\n{sentinel.diagnostics()}")
        for i, client in enumerate(clients):
            if seen_at[i] is None:
                try:
                    if sees_everything(client, n):
                        seen_at[i] = time.monotonic() - started
                except redis.RedisError:
                    pass
        if all(t is not None for t in seen_at):
            regressed = []
            for i, client in enumerate(clients):
                try:
                    if not sees_everything(client, n):
                        regressed.append(i)
                except redis.RedisError:
                    regressed.append(i)
            if not regressed:
                return max(t for t in seen_at if t is not None)
            for i in regressed:
                seen_at[i] = None
        if time.monotonic() > deadline:
            raise WaitTimeout(f"discovery incomplete after {timeout:g} s: {discovery_summary(clients, n)}")
        time.sleep(0.1)


def in_tilt(client: redis.Redis) -> bool:
    return bool(int(client.info("sentinel").get("sentinel_tilt", 0)))


def tilts(sentinels: list[Sentinel]) -> int:
    """How often the sentinels entered TILT mode so far (from their logs)."""
    count = 0
    for sentinel in sentinels:
        try:
            with open(sentinel.log_path(), errors="replace") as lines:
                count += sum("+tilt" in line for line in lines)
        except OSError:
            pass
    return count


def wait_settled(sentinels: list[Sentinel], clients: list[redis.Redis], quiet: float,
                 timeout: float) -> float:
    """Wait until `quiet` s have passed since discovery (now) and since any sentinel last
    rewrote its config file (a rewrite means its view still changes), and no sentinel is
    in TILT mode (it would not act on what it sees); the seconds waited."""
    started = time.monotonic()

    def quiet_now() -> bool:
        newest = max(s.conf_path.stat().st_mtime for s in sentinels)
        return (time.time() - newest >= quiet and time.monotonic() - started >= quiet
                and not any(in_tilt(c) for c in clients))

    harness.wait_until(quiet_now, timeout, interval=0.2, message="sentinel configs unchanged")
    return time.monotonic() - started


def addr_answers(clients: list[redis.Redis], names: list[str]) -> list[list[Optional[tuple[str, int]]]]:
    """answers[sentinel][k]: what that sentinel answers for names[k] (None on any error)."""
    answers = []
    for client in clients:
        row: list[Optional[tuple[str, int]]] = [None] * len(names)
        try:
            pipe = client.pipeline(transaction=False)
            for name in names:
                pipe.execute_command("SENTINEL", "get-master-addr-by-name", name)
            for k, reply in enumerate(pipe.execute(raise_on_error=False)):
                if isinstance(reply, (list, tuple)) and len(reply) == 2:
                    row[k] = (reply[0], int(reply[1]))
        except (redis.RedisError, ValueError):
            pass
        answers.append(row)
    return answers


def fail_over_one(servers: Servers, clients: list[redis.Redis], index: int, down_after: int,
                  give_up: float) -> float:
    """kill -9 one master; ms until all sentinels answer one new address that takes a write."""
    name, master = master_name(index), servers.masters[index]
    old = (HOST, master.port)
    started = time.monotonic()
    master.kill9()
    deadline = started + down_after / 1000 + give_up
    while time.monotonic() < deadline:
        answers = {row[0] for row in addr_answers(clients, [name])}
        if len(answers) == 1:
            (new,) = answers
            if new is not None and new != old:
                try:
                    with redis.Redis(host=new[0], port=new[1], socket_timeout=1) as new_master:
                        new_master.set("failover-probe", "1")
                    return (time.monotonic() - started) * 1000
                except redis.RedisError:
                    pass
        time.sleep(0.002)
    raise WaitTimeout(f"{name}: no failover within down-after + {give_up:g} s")


def fail_over_many(servers: Servers, clients: list[redis.Redis], indices: list[int], down_after: int,
                   give_up: float) -> tuple[dict[int, float], list[int]]:
    """kill -9 several masters at once: {index: ms until every sentinel answers a new
    address for it}, and for each sentinel how many of them it had switched at the end."""
    names = [master_name(i) for i in indices]
    old = [(HOST, servers.masters[i].port) for i in indices]
    started = time.monotonic()
    for i in indices:
        os.kill(servers.masters[i].pid, signal.SIGKILL)
    for i in indices:
        servers.masters[i].kill9()  # reaps
    done: dict[int, float] = {}
    switched = [len(indices)] * len(clients)
    deadline = started + down_after / 1000 + give_up
    while len(done) < len(indices) and time.monotonic() < deadline:
        pending = [k for k in range(len(indices)) if indices[k] not in done]
        answers = addr_answers(clients, [names[k] for k in pending])
        now = time.monotonic()
        for j, k in enumerate(pending):
            seen = {row[j] for row in answers}
            if len(seen) == 1:
                (new,) = seen
                if new is not None and new != old[k]:
                    done[indices[k]] = (now - started) * 1000
        switched = [len(done) + sum(row[j] not in (None, old[k]) and indices[k] not in done
                                    for j, k in enumerate(pending)) for row in answers]
        time.sleep(0.005)
    return done, switched


TILT_PHASES = {"tilts_until_window": "before the CPU window", "tilts_in_window": "in the window",
               "tilts_after_window": "during the failovers"}


def note_tilts(result: Result, total: int) -> None:
    """Note how often the sentinels entered TILT mode, in which phase of the run."""
    if "tilts_in_window" in result.extra:
        result.extra["tilts_after_window"] = (total - result.extra["tilts_until_window"]
                                              - result.extra["tilts_in_window"])
    else:
        result.extra["tilts_until_window"] = total
    counts = [f"{result.extra[key]}x {text}" for key, text in TILT_PHASES.items() if result.extra.get(key)]
    if counts:
        result.note += f"TILT entered {', '.join(counts)} (3 sentinels together); "


def empty_rss(binary: str) -> int:
    """VmRSS of the binary monitoring nothing, once it answers PING."""
    sentinel = Sentinel(binary=binary)
    try:
        sentinel.start(timeout=30)
        return rss_bytes(sentinel.pid)
    finally:
        stop_all([sentinel])


def one_run(servers: Servers, args: argparse.Namespace, down_after: int, label: str, binary: str,
            baseline: float, empty: int) -> tuple[Result, set[int]]:
    n = servers.n
    result = Result(masters=n, down_after=down_after, binary=label, redis_baseline_ms_s=baseline * 1000)
    touched: set[int] = set()
    monitors = [Monitor(port=m.port, name=master_name(i), quorum=QUORUM, down_after_ms=down_after,
                        failover_timeout_ms=FAILOVER_TIMEOUT_MS) for i, m in enumerate(servers.masters)]
    extra = [f"sentinel parallel-syncs {master_name(i)} 1" for i in range(n)]
    sentinels = [Sentinel(masters=monitors, extra=extra, binary=binary) for _ in range(SENTINELS)]
    run_started = time.monotonic()
    try:
        # Not waiting for PING: at 1,000 masters redis-sentinel rewrites its config for
        # every replica it finds (some 80 ms each) and answers nothing for a minute or more.
        started = time.monotonic()
        start_all(sentinels, 60, ready=lambda s: listening(s.port))
        clients = [sentinel_client(s) for s in sentinels]
        discovered = True
        try:
            result.discovery_s = wait_discovered(sentinels, clients, n, started, args.discovery_timeout)
        except WaitTimeout as error:
            discovered = False
            result.discovery_note = str(error)
            log(f"  {error}")
        log(f"  discovery {f'{result.discovery_s:.2f} s' if discovered else 'incomplete'}")
        quiet_waited = wait_settled(sentinels, clients, args.settle, 600)
        log(f"  settled after {quiet_waited:.1f} s more; measuring CPU for {args.window:g} s")
        tilts_before = result.extra["tilts_until_window"] = tilts(sentinels)

        pids = [s.pid for s in sentinels]
        t0, s0, r0 = time.monotonic(), sum(cpu_process(p) for p in pids), servers.cpu()
        time.sleep(args.window)
        t1, s1, r1 = time.monotonic(), sum(cpu_process(p) for p in pids), servers.cpu()
        if not all(p.alive() for p in servers.all()) or not all(s.alive() for s in sentinels):
            result.note += "a process died during the CPU window; "
        result.extra["tilts_in_window"] = tilts(sentinels) - tilts_before
        elapsed = t1 - t0
        result.window_s = elapsed
        result.sentinel_cpu_ms_s = (s1 - s0) / elapsed * 1000
        result.redis_load_ms_s = ((r1 - r0) / elapsed - baseline) * 1000
        rss = [rss_bytes(p) for p in pids]
        result.rss_mb = statistics.mean(rss) / (1 << 20)
        result.rss_kb_per_instance = (statistics.mean(rss) - empty) / ((1 + REPLICAS) * n) / 1024
        result.extra["rss_each_mb"] = [round(r / (1 << 20), 1) for r in rss]
        log(f"  CPU {result.sentinel_cpu_ms_s:.1f} ms/s, load on redis {result.redis_load_ms_s:.1f} ms/s, "
            f"RSS {result.rss_mb:.1f} MB")

        if down_after in args.failover_down_after and discovered and REPLICAS:
            touched.add(0)
            try:
                result.failover_ms = fail_over_one(servers, clients, 0, down_after, args.give_up)
                log(f"  one master failed over in {result.failover_ms:.0f} ms")
            except WaitTimeout as error:
                result.note += f"{error}; "
                log(f"  {error}")
            k = max(1, round(n * args.mass_fraction))
            victims = list(range(1, min(n, k + 1)))
            if victims:
                touched.update(victims)
                done, switched = fail_over_many(servers, clients, victims, down_after, args.give_up)
                result.mass_killed, result.mass_done = len(victims), len(done)
                if len(done) < len(victims):
                    result.note += (f"{len(victims) - len(done)} of the {len(victims)} masters killed at once "
                                    f"not failed over on every sentinel within down-after + {args.give_up:g} s "
                                    f"(switched per sentinel: {'/'.join(map(str, switched))}); ")
                if done:
                    times = sorted(done.values())
                    result.mass_median_ms = statistics.median(times)
                    result.mass_max_ms = times[-1] if len(done) == len(victims) else None
                    result.extra["mass_slowest_done_ms"] = times[-1]
                log(f"  {len(victims)} masters killed at once: {len(done)} failed over"
                    + (f", max {times[-1]:.0f} ms, median {result.mass_median_ms:.0f} ms" if done else ""))
        for client in clients:
            client.close()
    finally:
        stop_all(sentinels)
        note_tilts(result, tilts(sentinels))
        result.took_s = time.monotonic() - run_started
    return result, touched


# --------------------------------------------------------------------------------------
# Limits of the machine


def raise_fd_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def machine_allows(n: int, server_memory: int) -> Optional[str]:
    """None if N masters (+ N replicas) + 3 sentinels fit; otherwise why not."""
    # Each sentinel keeps two links (commands, Pub/Sub) to each of the 2N instances.
    instances = (1 + REPLICAS) * n
    fds = raise_fd_limit(8 * n + 1024)
    if fds < 4 * 2 * n + 256:
        return f"needs about {8 * n + 256} file descriptors per sentinel, ulimit -n allows {fds}"
    need = instances * server_memory + SENTINELS * instances * (128 << 10) + (1 << 30)
    available = meminfo("MemAvailable")
    if need > available:
        return f"needs about {need >> 20} MB of memory, {available >> 20} MB available"
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    threads = tasks_running() + instances * SERVER_THREADS + 1000
    if threads > pid_max:
        return f"needs about {threads} tasks, kernel.pid_max is {pid_max}"
    return None


# --------------------------------------------------------------------------------------
# Output


def fmt(value: Optional[float], digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def ratio(a: Optional[float], b: Optional[float]) -> str:
    if a is None or b is None or b <= 0:
        return "—"
    return f"{a / b:.2f}x"


def print_tables(results: list[Result], baselines: dict[int, float]) -> None:
    print()
    print("| masters | down-after (ms) | sentinel | discovery (s) | CPU of 3 sentinels (ms/s) "
          "| load caused on redis-servers (ms/s) | RSS per sentinel (MB) | RSS per instance (KB) "
          "| failover of 1 master (ms) | 10 % killed at once: failed over | max (ms) | median (ms) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        mass = f"{r.mass_done}/{r.mass_killed}" if r.mass_killed else "—"
        print(f"| {r.masters} | {r.down_after} | {r.binary} | {fmt(r.discovery_s, 1)} "
              f"| {fmt(r.sentinel_cpu_ms_s, 1)} | {fmt(r.redis_load_ms_s, 1)} | {fmt(r.rss_mb, 1)} "
              f"| {fmt(r.rss_kb_per_instance, 1)} | {fmt(r.failover_ms)} | {mass} "
              f"| {fmt(r.mass_max_ms)} | {fmt(r.mass_median_ms)} |")
    pairs: dict[tuple[int, int], dict[str, Result]] = {}
    for r in results:
        pairs.setdefault((r.masters, r.down_after), {})[r.binary] = r
    rows = [(key, p["warden"], p["redis-sentinel"]) for key, p in pairs.items()
            if "warden" in p and "redis-sentinel" in p]
    if rows:
        print()
        print("warden / redis-sentinel:")
        print()
        print("| masters | down-after (ms) | discovery | CPU of sentinels | load on redis-servers "
              "| RSS | RSS per instance | failover of 1 | 10 % killed: max | median |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for (n, down_after), w, s in rows:
            print(f"| {n} | {down_after} | {ratio(w.discovery_s, s.discovery_s)} "
                  f"| {ratio(w.sentinel_cpu_ms_s, s.sentinel_cpu_ms_s)} "
                  f"| {ratio(w.redis_load_ms_s, s.redis_load_ms_s)} | {ratio(w.rss_mb, s.rss_mb)} "
                  f"| {ratio(w.rss_kb_per_instance, s.rss_kb_per_instance)} "
                  f"| {ratio(w.failover_ms, s.failover_ms)} | {ratio(w.mass_max_ms, s.mass_max_ms)} "
                  f"| {ratio(w.mass_median_ms, s.mass_median_ms)} |")
    if baselines:
        print()
        print("idle CPU of the redis-servers with no sentinel running (subtracted above): "
              + ", ".join(f"{n} masters: {b * 1000:.1f} ms/s" for n, b in baselines.items()))
    notes = [r for r in results if r.note or r.discovery_note]
    for r in notes:
        text = " ".join(part for part in (r.discovery_note, r.note.rstrip("; ")) if part)
        print(f"note ({r.masters}, {r.down_after}, {r.binary}): {text}")
    sys.stdout.flush()


# --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--masters", type=int, nargs="+", default=[10, 100, 500, 1000])
    parser.add_argument("--down-after", type=int, nargs="+", default=[30000, 5000])
    parser.add_argument("--failover-down-after", type=int, nargs="+", default=[5000, 1000],
                        help="down-after values whose runs also measure failovers")
    parser.add_argument("--window", type=float, default=20.0, help="CPU window, seconds")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds without a config rewrite before the CPU window starts")
    parser.add_argument("--discovery-timeout", type=float, default=900.0)
    parser.add_argument("--give-up", type=float, default=60.0,
                        help="seconds after down-after to wait for failovers")
    parser.add_argument("--mass-fraction", type=float, default=0.10)
    parser.add_argument("--redis-hz", type=int, default=1)
    parser.add_argument("--only", choices=["warden", "redis-sentinel"])
    parser.add_argument("--no-replicas", action="store_true",
                        help="masters only (N redis-servers instead of 2N; no failovers are measured)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    global REPLICAS
    REPLICAS = 0 if args.no_replicas else 1

    binaries = {"warden": harness.WARDEN_BIN, "redis-sentinel": harness.REFERENCE_BIN}
    if args.only:
        binaries = {args.only: binaries[args.only]}
    for label, binary in binaries.items():
        if not os.access(binary, os.X_OK):
            print(f"{label}: {binary} is not an executable (swift build -c release?)", file=sys.stderr)
            return 2
    print(f"{os.cpu_count()} CPUs, {meminfo('MemTotal') >> 20} MB; " + ", ".join(
        f"{label}: {binary}" for label, binary in binaries.items()))
    print(f"{'masters only (--no-replicas); ' if not REPLICAS else ''}quorum {QUORUM}, failover-timeout {FAILOVER_TIMEOUT_MS}, parallel-syncs 1; "
          f"redis-server --hz {args.redis_hz}; CPU window {args.window:g} s", flush=True)

    results: list[Result] = []
    baselines: dict[int, float] = {}
    server_memory = SERVER_MEMORY_ESTIMATE
    empties: dict[str, int] = {}
    try:
        for label, binary in binaries.items():
            empties[label] = empty_rss(binary)
        for n in args.masters:
            reason = machine_allows(n, server_memory)
            if reason:
                print(f"skipped {n} masters: {reason}", flush=True)
                continue
            n_started = time.monotonic()
            log(f"{n} masters: starting {(1 + REPLICAS) * n} redis-servers")
            available_before = meminfo("MemAvailable")
            servers = Servers(n, args.redis_hz)
            try:
                servers.start()
                server_memory = max(server_memory, (available_before - meminfo("MemAvailable")) // ((1 + REPLICAS) * n))
                log(f"  started in {time.monotonic() - n_started:.1f} s; idle CPU for {args.window:g} s")
                t0, c0 = time.monotonic(), servers.cpu()
                time.sleep(args.window)
                baseline = (servers.cpu() - c0) / (time.monotonic() - t0)
                baselines[n] = baseline
                log(f"  redis-servers idle: {baseline * 1000:.1f} ms/s")
                touched: set[int] = set()
                for j, down_after in enumerate(args.down_after):
                    order = list(binaries.items())
                    if j % 2:
                        order.reverse()
                    for label, binary in order:
                        if touched:
                            reset_started = time.monotonic()
                            servers.reset(touched)
                            log(f"  {len(touched)} pairs reset in {time.monotonic() - reset_started:.1f} s")
                        log(f"{n} masters, down-after {down_after}: {label}")
                        result, touched = one_run(servers, args, down_after, label, binary,
                                                  baseline, empties[label])
                        results.append(result)
                        log(f"  run took {result.took_s:.0f} s")
            finally:
                servers.stop()
            print(f"{n} masters: {time.monotonic() - n_started:.0f} s", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted; every process started is stopped; results so far:", flush=True)
        print_tables(results, baselines)
        return 130
    finally:
        if args.json:
            args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    print_tables(results, baselines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
