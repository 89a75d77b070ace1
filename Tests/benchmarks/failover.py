#!/usr/bin/env python3
"""Failover time: warden vs redis-sentinel on the same topology, side by side.

For each binary and each down-after-milliseconds value: a redis-server master, two
replicas and three sentinels (quorum 2) on loopback. Once every sentinel knows both
replicas and both peers, the master is killed with SIGKILL. The clock stops when all
three sentinels answer the same new address to get-master-addr-by-name AND that new
master accepts a write. Runs alternate between the binaries; medians are compared
with the target of down-after + 150 ms.

    python3 Tests/benchmarks/failover.py [--runs 5] [--down-after 1000 5000]

Uses the release build of warden (`swift build -c release`) unless WARDEN_BIN is set.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "integration"))
os.environ.setdefault("WARDEN_BIN", str(ROOT / ".build" / "release" / "warden"))

import redis  # noqa: E402

import harness  # noqa: E402

GIVE_UP_AFTER = 60.0


def one_run(binary: str, down_after: int) -> float:
    master = harness.RedisServer().start()
    replicas = [harness.RedisServer(replicaof=master.port).start() for _ in range(2)]
    monitor = harness.Monitor(port=master.port, quorum=2, down_after_ms=down_after,
                              failover_timeout_ms=10000)
    sentinels = [harness.Sentinel(masters=[monitor], binary=binary).start() for _ in range(3)]
    try:
        for r in replicas:
            harness.wait_until(lambda r=r: r.info()["master_link_status"] == "up", 15,
                               message="replica in sync")

        def converged() -> bool:
            for s in sentinels:
                m = s.master()
                if int(m["num-slaves"]) != 2 or int(m["num-other-sentinels"]) != 2:
                    return False
            return True

        harness.wait_until(converged, 30, message="topology discovered")
        clients = [redis.Redis(host=harness.HOST, port=s.port, socket_timeout=1, decode_responses=True)
                   for s in sentinels]
        old = (harness.HOST, master.port)
        master.kill9()
        start = time.monotonic()
        while time.monotonic() - start < GIVE_UP_AFTER:
            try:
                answers = {tuple(c.execute_command("SENTINEL", "get-master-addr-by-name", "mymaster"))
                           for c in clients}
            except redis.RedisError:
                answers = set()
            if len(answers) == 1:
                host, port = next(iter(answers))
                if (host, int(port)) != old:
                    try:
                        with redis.Redis(host=host, port=int(port), socket_timeout=1) as new_master:
                            new_master.set("failover-probe", "1")
                        return time.monotonic() - start
                    except redis.RedisError:
                        pass
            time.sleep(0.002)
        raise TimeoutError(f"{os.path.basename(binary)}: no failover within {GIVE_UP_AFTER} s")
    finally:
        for s in sentinels:
            s.stop()
        for r in replicas:
            r.stop()
        master.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--down-after", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()
    binaries = {"warden": harness.WARDEN_BIN, "redis-sentinel": harness.REFERENCE_BIN}
    print("kill -9 of the master → all 3 sentinels answer the new master and it accepts a write")
    print(f"median of {args.runs} runs each, alternating binaries")
    print("| down-after-milliseconds | warden median (ms) | redis-sentinel median (ms) | warden − down-after (ms) | target ≤ down-after + 150 |")
    print("|---|---|---|---|---|")
    for down_after in args.down_after:
        times: dict[str, list[float]] = {name: [] for name in binaries}
        for _ in range(args.runs):
            for name, binary in binaries.items():
                times[name].append(one_run(binary, down_after) * 1000)
        w = statistics.median(times["warden"])
        r = statistics.median(times["redis-sentinel"])
        print(f"| {down_after} | {w:.0f} (runs: {', '.join(f'{t:.0f}' for t in times['warden'])}) "
              f"| {r:.0f} (runs: {', '.join(f'{t:.0f}' for t in times['redis-sentinel'])}) "
              f"| {w - down_after:+.0f} | {'met' if w <= down_after + 150 else 'missed'} |", flush=True)


if __name__ == "__main__":
    main()
