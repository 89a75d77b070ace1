#!/usr/bin/env python3
"""Memory of idle TLS clients: warden vs redis-sentinel, side by side.

Both sentinels listen on TLS only (port 0, tls-port, client certificates required, EC
P-256 certificates made with `openssl`). The script opens N TLS connections to each,
sends one PING on each (so every handshake has completed and the session is idle), and
prints each sentinel's resident memory before and after.

    python3 Tests/benchmarks/tls_memory.py [--connections 1000]

Uses the release build of warden (`swift build -c release`) unless WARDEN_BIN is set.
"""
import argparse
import os
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "integration"))
os.environ.setdefault("WARDEN_BIN", str(ROOT / ".build" / "release" / "warden"))

import harness  # noqa: E402
import tls_support  # noqa: E402


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=1000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * args.connections + 256)), hard))

    files = tls_support.make_certificates(harness.base_dir() / "bench-tls")
    master = harness.RedisServer().start()
    monitor = harness.Monitor(port=master.port, quorum=2, down_after_ms=30000)
    sentinels = {
        name: tls_support.TLSSentinel(files, masters=[monitor], replication=False, binary=binary,
                                      extra=["maxclients 100000"]).start()
        for name, binary in (("warden", harness.WARDEN_BIN), ("redis-sentinel", harness.REFERENCE_BIN))
    }
    conns = []
    try:
        print(f"{args.connections} idle TLS clients (handshake done, one PING each); resident memory in KB")
        print("| sentinel | before | after | per connection |")
        print("|---|---|---|---|")
        context = files.context()
        for name, sentinel in sentinels.items():
            before = rss_kb(sentinel.pid)
            for _ in range(args.connections):
                conn = tls_support.TLSConn(sentinel.port, context)
                assert conn.call("PING") == "PONG"
                conns.append(conn)
            after = rss_kb(sentinel.pid)
            print(f"| {name} | {before:,} | {after:,} | {(after - before) * 1024 / args.connections:,.0f} bytes |")
    finally:
        for conn in conns:
            conn.close()
        for s in sentinels.values():
            s.stop()
        master.stop()


if __name__ == "__main__":
    main()
