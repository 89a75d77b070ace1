#!/usr/bin/env python3
"""Acknowledged writes lost, and the write pause, in a manual switchover: Warden's
`SENTINEL FAILOVER <name> COORDINATED`, Warden's plain `SENTINEL FAILOVER <name>`, and
redis-sentinel's `SENTINEL FAILOVER <name>`, side by side, runs alternating.

Each run: a redis-server master, two replicas and three sentinels (quorum 2) on
loopback. A writer thread sends numbered writes (`SET w:<n> <n>`, one at a time) through
redis-py's Sentinel client (`master_for`, which asks the sentinels for the master and
reconnects when a connection fails or the server answers READONLY), and records each
write the server acknowledged, with the time. The switchover is asked of the first
sentinel. The run ends once every sentinel names the new master, the old master
replicates from it (for a plain failover: after the sentinels converted it back, the
moment its own writes are thrown away) and the writer has had two more seconds; then
the new master is asked which acknowledged writes it has.

- lost: acknowledged writes missing from the new master.
- pause: the longest gap between two consecutive acknowledged writes after the request.

    .build/test-venv/bin/python3 Tests/benchmarks/switchover_writes.py --runs 20

Uses the release build of warden (`swift build -c release`) unless WARDEN_BIN is set, and
redis-sentinel from PATH (or REFERENCE_SENTINEL) as the reference.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "integration"))
os.environ.setdefault("WARDEN_BIN", str(ROOT / ".build" / "release" / "warden"))

import redis  # noqa: E402
import redis.sentinel  # noqa: E402

import harness  # noqa: E402

DOWN_AFTER_MS = 5000
FAILOVER_TIMEOUT_MS = 10000
#: A plain failover leaves the old master taking writes until the sentinels convert it
#: (+convert-to-slave, about 8 s after the switch); give it that and more.
SETTLE_LIMIT = 60.0


@dataclass
class Writer:
    sentinel_ports: list[int]
    acked: list[tuple[int, float]] = field(default_factory=list)
    errors: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        sentinel = redis.sentinel.Sentinel([(harness.HOST, p) for p in self.sentinel_ports],
                                           socket_timeout=0.5, sentinel_kwargs={"socket_timeout": 0.5})
        master = sentinel.master_for("mymaster", socket_timeout=0.5, socket_connect_timeout=0.5,
                                     retry_on_timeout=False)
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                if master.set(f"w:{n}", n):
                    self.acked.append((n, time.monotonic()))
            except (redis.RedisError, OSError):
                self.errors += 1
                time.sleep(0.001)


@dataclass
class Result:
    lost: int
    acked: int
    pause: float
    switch: float


def one_run(binary: str, coordinated: bool) -> Result:
    master = harness.RedisServer().start()
    replicas = [harness.RedisServer(replicaof=master.port).start() for _ in range(2)]
    monitor = harness.Monitor(port=master.port, quorum=2, down_after_ms=DOWN_AFTER_MS,
                              failover_timeout_ms=FAILOVER_TIMEOUT_MS)
    sentinels = [harness.Sentinel(masters=[monitor], binary=binary).start() for _ in range(3)]
    writer = Writer([s.port for s in sentinels])
    thread = threading.Thread(target=writer.run, daemon=True)
    try:
        for r in replicas:
            harness.wait_until(lambda r=r: r.info()["master_link_status"] == "up", 15, message="replica in sync")
        harness.wait_until(lambda: all(int(s.master()["num-slaves"]) == 2 and int(s.master()["num-other-sentinels"]) == 2
                                       for s in sentinels), 30, message="topology discovered")
        harness.wait_until(lambda: all(r["flags"] == "slave" for s in sentinels for r in s.replicas())
                           and all(p["flags"] == "sentinel" for s in sentinels for p in s.sentinels()),
                           15, message="every link up")
        thread.start()
        harness.wait_until(lambda: len(writer.acked) > 1000, 10, message="the writer going")
        old_port = master.port
        command = ["SENTINEL", "FAILOVER", "mymaster"] + (["COORDINATED"] if coordinated else [])
        asked = time.monotonic()
        reply = sentinels[0].cmd(*command)
        assert reply == "OK", reply

        def switched() -> int | None:
            answers = {tuple(s.cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")) for s in sentinels}
            if len(answers) != 1:
                return None
            port = int(next(iter(answers))[1])
            return port if port != old_port else None

        new_port = harness.wait_until(switched, 30, interval=0.01, message="every sentinel names the new master")
        switch = time.monotonic() - asked

        def old_master_follows() -> bool:
            info = master.info("replication")
            return (info.get("role") == "slave" and int(info.get("master_port", 0)) == new_port
                    and info.get("master_link_status") == "up" and info.get("master_sync_in_progress") == 0)

        harness.wait_until(old_master_follows, SETTLE_LIMIT, interval=0.05,
                           message="the old master replicating from the new one")
        time.sleep(2.0)
        writer.stop.set()
        thread.join(timeout=10)
        acked = [n for n, _ in writer.acked]
        with redis.Redis(host=harness.HOST, port=new_port, socket_timeout=10) as new_master:
            present = 0
            for i in range(0, len(acked), 5000):
                chunk = acked[i:i + 5000]
                present += sum(1 for v in new_master.mget([f"w:{n}" for n in chunk]) if v is not None)
        times = [t for _, t in writer.acked if t >= asked]
        gaps = [b - a for a, b in zip([asked] + times, times)]
        return Result(lost=len(acked) - present, acked=len(acked), pause=max(gaps) if gaps else 0.0, switch=switch)
    finally:
        writer.stop.set()
        for s in sentinels:
            s.stop()
        for r in replicas:
            r.stop()
        master.stop()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    warden, reference = harness.WARDEN_BIN, harness.REFERENCE_BIN
    modes = [("warden COORDINATED", warden, True), ("warden SENTINEL FAILOVER", warden, False),
             ("redis-sentinel SENTINEL FAILOVER", reference, False)]
    print(f"warden: {warden}\nredis-sentinel: {reference}\n"
          f"down-after {DOWN_AFTER_MS} ms, failover-timeout {FAILOVER_TIMEOUT_MS} ms, {args.runs} runs each")
    results: dict[str, list[Result]] = {name: [] for name, _, _ in modes}
    for run in range(1, args.runs + 1):
        for name, binary, coordinated in modes:
            r = one_run(binary, coordinated)
            results[name].append(r)
            print(f"run {run:2d}  {name:34s} acked {r.acked:7d}  lost {r.lost:6d}  "
                  f"pause {r.pause * 1000:7.0f} ms  switch {r.switch * 1000:6.0f} ms", flush=True)
    print()
    print("| switchover | runs with 0 lost | lost acknowledged writes, median (max) "
          "| write pause p50 | write pause max | all sentinels switched, p50 |")
    print("|---|---|---|---|---|---|")
    for name, _, _ in modes:
        rs = results[name]
        lost = [r.lost for r in rs]
        pauses = [r.pause * 1000 for r in rs]
        switches = [r.switch * 1000 for r in rs]
        print(f"| {name} | {sum(1 for x in lost if x == 0)}/{len(rs)} | {statistics.median(lost):.0f} ({max(lost)}) "
              f"| {percentile(pauses, 0.5):.0f} ms | {max(pauses):.0f} ms | {percentile(switches, 0.5):.0f} ms |")
    ref = results["redis-sentinel SENTINEL FAILOVER"]
    coord = results["warden COORDINATED"]
    ref_lost = statistics.median([r.lost for r in ref])
    print(f"\nlost writes, median: warden COORDINATED {statistics.median([r.lost for r in coord]):.0f} "
          f"vs redis-sentinel {ref_lost:.0f}")
    print(f"pause p50 ratio warden COORDINATED / redis-sentinel SENTINEL FAILOVER: "
          f"{percentile([r.pause for r in coord], 0.5) / max(1e-9, percentile([r.pause for r in ref], 0.5)):.2f}")


if __name__ == "__main__":
    main()
