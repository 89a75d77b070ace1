#!/usr/bin/env python3
"""The HTTP API and webhooks, measured: a benchmark, not a test.

1. Where is the master: `GET /v1/masters/mymaster/primary` with wrk (keep-alive, 50
   connections) next to RESP `SENTINEL get-master-addr-by-name mymaster` with
   redis-benchmark (50 clients, no pipeline), on the same warden; median of alternating
   rounds, with the server's CPU time per request.
2. Webhook latency: 100 events (SENTINEL SET, one every 20 ms) delivered to a receiver on
   Python's http.server; latency is from the event's time (its CloudEvent `time`, stamped
   when the core emitted it) to the moment the receiver has read the request, both on this
   machine's clock. Prints p50, p99 and the maximum. SENTINEL SET saves sentinel.conf
   (fsync) before the loop goes on, and the delivery starts after that: run it a second
   time with the sentinel's files on tmpfs to see the delivery path without the disk:

    python3 Tests/benchmarks/http_api.py [--rounds 5] [--seconds 5] [--events 100]
    TMPDIR=/dev/shm python3 Tests/benchmarks/http_api.py --webhooks-only

Uses the release build of warden (`swift build -c release`) unless WARDEN_BIN is set;
needs wrk (deploy/lib/ensure-deps.sh: ensure_wrk) and redis-benchmark.
"""
import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "integration"))
os.environ.setdefault("WARDEN_BIN", str(ROOT / ".build" / "release" / "warden"))

import harness  # noqa: E402
from http_support import HTTPSentinel, Receiver  # noqa: E402

PIN = len(os.sched_getaffinity(0)) >= 2
LOAD_CPU = ["taskset", "-c", "0"] if PIN else []


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(sentinel: HTTPSentinel, seconds: int, connections: int) -> tuple[float, float, str]:
    before = cpu_seconds(sentinel.pid)
    out = subprocess.run([*LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                          f"http://{harness.HOST}:{sentinel.http_port}/v1/masters/mymaster/primary"],
                         capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers:\n{out}")
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    return rps, (cpu_seconds(sentinel.pid) - before) * 1e6 / total, p99


def resp(sentinel: HTTPSentinel, requests: int, clients: int) -> tuple[float, float]:
    before = cpu_seconds(sentinel.pid)
    out = subprocess.run([*LOAD_CPU, "redis-benchmark", "-h", harness.HOST, "-p", str(sentinel.port), "-c", str(clients),
                          "-n", str(requests), "-q", "SENTINEL", "get-master-addr-by-name", "mymaster"],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    rps = float(re.findall(r"([\d.]+) requests per second", out)[-1])
    return rps, (cpu_seconds(sentinel.pid) - before) * 1e6 / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--webhooks-only", action="store_true", help="only the webhook latency")
    args = parser.parse_args()

    master = harness.RedisServer().start()
    replica = harness.RedisServer(replicaof=master.port).start()
    receiver = Receiver().start()
    monitor = harness.Monitor(port=master.port, quorum=1, down_after_ms=30000)
    sentinel = HTTPSentinel(masters=[monitor], http_lines=[f"webhook bench {receiver.url()} events +set",
                                                           "http-max-connections 1000"]).start()
    try:
        harness.wait_until(lambda: sentinel.api("/v1/masters/mymaster/primary").status == 200, 15, message="/primary 200")
        if PIN:
            for task in os.listdir(f"/proc/{sentinel.pid}/task"):
                os.sched_setaffinity(int(task), {1})
        http_runs, http_cpu, http_p99, resp_runs, resp_cpu = [], [], [], [], []
        for _ in range(0 if args.webhooks_only else args.rounds):
            rps, us, p99 = wrk(sentinel, args.seconds, args.connections)
            http_runs.append(rps)
            http_cpu.append(us)
            http_p99.append(p99)
            rps, us = resp(sentinel, int(max(http_runs[-1], 10_000) * args.seconds), args.connections)
            resp_runs.append(rps)
            resp_cpu.append(us)

        def spread(runs: list[float]) -> str:
            return f"{statistics.median(runs):,.0f} ({min(runs):,.0f}-{max(runs):,.0f})"

        if not args.webhooks_only:
            print(f"{args.connections} connections, median of {args.rounds} alternating rounds "
                  "(slowest-fastest in brackets)" + ("; warden on CPU 1, the load generator on CPU 0" if PIN else ""))
            print("| request | req/s | warden CPU µs/req |")
            print("|---|---|---|")
            print(f"| HTTP GET /v1/masters/mymaster/primary (wrk -t1 -c{args.connections}, keep-alive; p99 "
                  f"{', '.join(http_p99)}) | {spread(http_runs)} | {statistics.median(http_cpu):.2f} |")
            print(f"| RESP SENTINEL get-master-addr-by-name (redis-benchmark -c {args.connections}) "
                  f"| {spread(resp_runs)} | {statistics.median(resp_cpu):.2f} |")

        # Webhook latency.
        before = len(receiver.received())
        for i in range(args.events):
            sentinel.cmd("SENTINEL", "SET", "mymaster", "down-after-milliseconds", str(30000 + i))
            time.sleep(0.02)
        got = receiver.wait_for(before + args.events, timeout=60)[before:]
        offset = time.time() - time.monotonic()
        latencies = []
        for r in got:
            stamp = datetime.datetime.fromisoformat(r.json["time"].replace("Z", "+00:00")).timestamp()
            latencies.append((r.at + offset - stamp) * 1000)
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
        print(f"webhook delivery, event to receiver, {len(latencies)} events (sentinel files in {harness.base_dir()}): "
              f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms")
    finally:
        sentinel.stop()
        receiver.stop()
        replica.stop()
        master.stop()


if __name__ == "__main__":
    main()
