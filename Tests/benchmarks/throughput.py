#!/usr/bin/env python3
"""Request throughput: warden vs redis-sentinel, side by side in one run.

Both sentinels monitor the same redis-server master. redis-benchmark sends
`SENTINEL get-master-addr-by-name mymaster` with 50 clients, without and with a
pipeline of 16; the runs alternate between the two binaries and the median of
each is compared.

    python3 Tests/benchmarks/throughput.py [--rounds 9] [--requests 200000]
    python3 Tests/benchmarks/throughput.py --tls            # the same over TLS (tls-port)
    python3 Tests/benchmarks/throughput.py --reconnect      # a new connection per request
    python3 Tests/benchmarks/throughput.py --tls --reconnect [--rsa]   # a TLS handshake per request

With --tls both sentinels listen on TLS only (port 0, tls-port, tls-auth-clients yes)
with certificates made by `openssl` (EC P-256 keys, RSA 2048 with --rsa) and
redis-benchmark connects with --tls and a client certificate. With --reconnect
(redis-benchmark -k 0) the CPU column is the server's cost of a whole connection:
accept, (handshake,) one request, close.

Uses the release build of warden (`swift build -c release`) unless WARDEN_BIN is set.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "integration"))
os.environ.setdefault("WARDEN_BIN", str(ROOT / ".build" / "release" / "warden"))

import harness  # noqa: E402
import tls_support  # noqa: E402

COMMAND = ["SENTINEL", "get-master-addr-by-name", "mymaster"]

# With two CPUs or more, the sentinel under test runs on CPU 1 and redis-benchmark on
# CPU 0, the same for both binaries: without it the scheduler's placement of the two
# processes (same CPU or not) moves the figures by ±15 % from one run to the next.
PIN = len(os.sched_getaffinity(0)) >= 2
BENCHMARK_CPU = ["taskset", "-c", "0"] if PIN else []


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_benchmark(sentinel, clients: int, requests: int, pipeline: int,
                  options: list[str]) -> tuple[float, float]:
    """(requests per second, server CPU microseconds per request)."""
    port = sentinel.port
    cpu_before = cpu_seconds(sentinel.pid)
    out = subprocess.run(
        [*BENCHMARK_CPU, "redis-benchmark", "-h", harness.HOST, "-p", str(port), "-c", str(clients),
         "-n", str(requests), "-P", str(pipeline), "-q", *options, *COMMAND],
        capture_output=True, text=True, timeout=300, check=True).stdout
    # -q prints progress with \r, then "<cmd>: N requests per second, p50=..."
    match = re.findall(r"([\d.]+) requests per second", out)
    if not match:
        raise RuntimeError(f"unexpected redis-benchmark output: {out!r}")
    cpu_us = (cpu_seconds(sentinel.pid) - cpu_before) * 1e6 / requests
    return float(match[-1]), cpu_us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--tls", action="store_true", help="over TLS (tls-port, client certificates)")
    parser.add_argument("--rsa", action="store_true", help="RSA 2048 keys instead of EC P-256 (with --tls)")
    parser.add_argument("--reconnect", action="store_true",
                        help="a new connection per request (redis-benchmark -k 0), pipeline 1 only")
    args = parser.parse_args()

    master = harness.RedisServer().start()
    monitor = harness.Monitor(port=master.port, quorum=2, down_after_ms=30000)
    options: list[str] = ["-k", "0"] if args.reconnect else []
    if args.tls:
        files = tls_support.make_certificates(harness.base_dir() / "bench-tls", rsa=args.rsa)
        options += files.cli_args()

        def start(binary: str):
            return tls_support.TLSSentinel(files, masters=[monitor], replication=False, binary=binary).start()
    else:
        def start(binary: str):
            return harness.Sentinel(masters=[monitor], binary=binary).start()
    sentinels = {"warden": start(harness.WARDEN_BIN), "redis-sentinel": start(harness.REFERENCE_BIN)}
    pipelines = (1,) if args.reconnect else (1, 16)
    try:
        for name, s in sentinels.items():
            harness.wait_until(lambda s=s: s.cmd(*COMMAND) is not None, 10, message=f"{name} answers")
            if PIN:
                for task in os.listdir(f"/proc/{s.pid}/task"):  # every thread of it
                    os.sched_setaffinity(int(task), {1})
        results: dict[tuple[str, int], list[float]] = {}
        cpu: dict[tuple[str, int], list[float]] = {}
        for pipeline in pipelines:
            requests = args.requests * (4 if pipeline > 1 else 1) // (10 if args.reconnect else 1)
            for _ in range(args.rounds):
                for name, s in sentinels.items():
                    rps, us = run_benchmark(s, args.clients, requests, pipeline, options)
                    results.setdefault((name, pipeline), []).append(rps)
                    cpu.setdefault((name, pipeline), []).append(us)
        transport = ("TLS" + (" (RSA 2048)" if args.rsa else " (EC P-256)")) if args.tls else "plain TCP"
        print(f"{transport}{', a new connection per request (-k 0)' if args.reconnect else ''}")
        print(f"redis-benchmark -c {args.clients} {' '.join(COMMAND)}; median of {args.rounds} alternating runs"
              " (slowest-fastest run in brackets)"
              + ("; sentinel on CPU 1, redis-benchmark on CPU 0" if PIN else ""))
        print("| mode | warden req/s | redis-sentinel req/s | warden / redis-sentinel "
              "| warden CPU µs/req | redis-sentinel CPU µs/req |")
        print("|---|---|---|---|---|---|")

        def spread(runs: list[float]) -> str:
            return f"{statistics.median(runs):,.0f} ({min(runs):,.0f}-{max(runs):,.0f})"

        for pipeline in pipelines:
            w = statistics.median(results[("warden", pipeline)])
            r = statistics.median(results[("redis-sentinel", pipeline)])
            mode = "no pipeline" if pipeline == 1 else f"-P {pipeline}"
            wc = statistics.median(cpu[("warden", pipeline)])
            rc = statistics.median(cpu[("redis-sentinel", pipeline)])
            # Each round ran both binaries back to back: the median of the per-round ratios
            # is less sensitive to the machine's drift than the ratio of the medians.
            paired = statistics.median(a / b for a, b in zip(results[("warden", pipeline)],
                                                              results[("redis-sentinel", pipeline)]))
            print(f"| {mode} | {spread(results[('warden', pipeline)])} | {spread(results[('redis-sentinel', pipeline)])} "
                  f"| {w / r:.2f} (per round: {paired:.2f}) | {wc:.2f} | {rc:.2f} |")
    finally:
        for s in sentinels.values():
            s.stop()
        master.stop()


if __name__ == "__main__":
    main()
