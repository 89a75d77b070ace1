#!/usr/bin/env python3
"""Hostile flood: random and mutated requests on the sentinel port, random hellos on
the master's `__sentinel__:hello` channel, then a failover that must still work.

A master, two replicas and three sentinels (down-after 1000 ms) on loopback. Then:
  1. N requests to one sentinel, over a few connections: well-formed SENTINEL commands
     whose numbers come from the values that break naive code (0, -1, 2^63-1, 2^64-1,
     2^62+1, "abc", ...), the same frames mutated (bytes flipped, inserted, cut), and
     random bytes. A connection the sentinel closes (protocol error) is reopened.
  2. N random hellos PUBLISHed on the master (every sentinel receives each one).
  3. Every sentinel must still answer PING; settings changed by the flood are put back;
     the master is killed and every sentinel must name the same new master.
Prints the figures; exits non-zero if a sentinel died or the failover did not happen.

    python3 Tests/stress/hostile_flood.py [--requests 100000] [--hellos 100000] [--seed 1]

Runs the debug build of warden unless WARDEN_BIN is set (WARDEN_BIN=$(command -v
redis-sentinel) floods the reference instead).
"""
import argparse
import os
import random
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "integration"))

import harness  # noqa: E402

NUMBERS = ["0", "1", "-1", "2", "9223372036854775807", "-9223372036854775808", "18446744073709551615",
           "18446744073709551616", "4611686018427387904", "4611686018427387905", "65535", "65536",
           "2147483648", "abc", "", "00", "+1", " 1", "1e9", "-0", "99999999999999999999999"]
SET_OPTIONS = ["down-after-milliseconds", "failover-timeout", "parallel-syncs", "quorum",
               "master-reboot-down-after-period", "auth-user", "rename-command"]
DEBUG_NAMES = ["info-period", "ping-period", "ask-period", "publish-period", "default-down-after",
               "default-failover-timeout", "tilt-trigger", "tilt-period", "slave-reconf-timeout",
               "min-link-reconnect-period", "election-timeout", "script-max-runtime", "script-retry-delay"]


def encode(args: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


class Generator:
    def __init__(self, rng: random.Random, master_port: int, sentinels: list[tuple[int, str]]) -> None:
        self.r = rng
        self.master_port = master_port
        #: (port, runid) of the real sentinels.
        self.sentinels = sentinels

    def num(self) -> str:
        k = self.r.random()
        if k < 0.3:
            return str(self.r.randint(-2**63, 2**64))
        if k < 0.5:
            return str(self.r.randint(0, 100000))
        return self.r.choice(NUMBERS)

    def command(self) -> list[str]:
        """A well-formed command. The victim master takes the destructive ones, so that
        the flood cannot legitimately stop mymaster from failing over."""
        r, n = self.r, self.num
        name = r.choice(["mymaster", "victim", "nosuch"])
        victim = r.choice(["victim", "nosuch"])
        choices = [
            lambda: ["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", r.choice([str(self.master_port), n()]), n(),
                     r.choice(["*", "abc", "f" * 40])],
            lambda: ["SENTINEL", "SET", victim, r.choice(SET_OPTIONS), n()],
            lambda: ["SENTINEL", "SET", victim, r.choice(SET_OPTIONS), n(), r.choice(SET_OPTIONS), n()],
            lambda: ["SENTINEL", "DEBUG", r.choice(DEBUG_NAMES), n()],
            lambda: ["SENTINEL", "MONITOR", r.choice(["victim", "other"]), "127.0.0.1", n(), n()],
            lambda: ["SENTINEL", r.choice(["MASTER", "REPLICAS", "SLAVES", "SENTINELS", "CKQUORUM",
                                           "GET-MASTER-ADDR-BY-NAME", "INFO-CACHE"]), name],
            lambda: ["SENTINEL", r.choice(["MASTERS", "MYID", "PENDING-SCRIPTS", "FLUSHCONFIG", "HELP"])],
            lambda: ["SENTINEL", "CONFIG", "SET", r.choice(["announce-port", "loglevel", "resolve-hostnames"]), n()],
            lambda: ["SENTINEL", "CONFIG", "GET", r.choice(["*", "announce-*", n()])],
            lambda: ["SENTINEL", r.choice(["REMOVE", "RESET"]), r.choice(["other", "nosuch"])],
            lambda: ["PUBLISH", "__sentinel__:hello", self.hello()],
            lambda: ["HELLO", n()] + r.choice([[], ["AUTH", "default", n()], ["SETNAME", n()]]),
            lambda: ["AUTH", n()],
            lambda: ["CLIENT", r.choice(["KILL", "SETNAME", "SETINFO", "LIST", "ID"]), n(), n()][:r.randint(2, 4)],
            lambda: ["INFO", r.choice(["all", "sentinel", n()])],
            lambda: ["PING", n()],
            lambda: ["SUBSCRIBE", n()],
            lambda: ["UNSUBSCRIBE"],
            lambda: [n(), n()],
        ]
        return r.choice(choices)()

    def hello(self) -> str:
        """Hellos are unauthenticated: a forged one may legitimately add a sentinel to a
        master or move it (redis-sentinel alike). So the fully random ones are about
        other masters, and those about mymaster are a real sentinel's hello with random
        epochs: they exercise epoch adoption without redrawing the group."""
        r, n = self.r, self.num
        if r.random() < 0.3:
            port, runid = r.choice(self.sentinels)
            return ",".join(["127.0.0.1", str(port), runid, n(), "mymaster", "127.0.0.1",
                             str(self.master_port), n()])
        return ",".join([r.choice(["127.0.0.1", "", "::1", n()]), n(),
                         r.choice(["f" * 40, "e" * 40, n()]), n(), r.choice(["victim", "nosuch", n()]),
                         r.choice(["127.0.0.1", n()]), n(), n()][: r.choice([8, 8, 8, 7, 9])])

    def request(self) -> tuple[bytes, bool]:
        """One request and whether it is well-formed (mutated and random ones are not)."""
        frame = encode([a.encode() for a in self.command()])
        k = self.r.random()
        if k < 0.6:
            return frame, True
        data = bytearray(frame)
        if k < 0.85:
            for _ in range(self.r.randint(1, 4)):
                op = self.r.random()
                i = self.r.randrange(len(data))
                if op < 0.4:
                    data[i] = self.r.randrange(256)
                elif op < 0.7:
                    data.insert(i, self.r.choice(b"*$\r\n-:0123456789"))
                else:
                    del data[i]
            return bytes(data), False
        if k < 0.95:
            # An inline command, sometimes with unbalanced quotes.
            return (" ".join(self.command()) + self.r.choice(["", "\"", "'"]) + "\r\n").encode(), False
        return bytes(self.r.randrange(256) for _ in range(self.r.randint(1, 64))), False


def processed(sentinel: harness.Sentinel) -> int:
    stats = harness.info_sections(sentinel.cmd("INFO", "stats")).get("Stats", [])
    return int(dict(stats)["total_commands_processed"])


def close_gracefully(conn: socket.socket) -> None:
    """Half-close and read to the end, so the sentinel processes everything sent."""
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(5)
        while conn.recv(1 << 20):
            pass
    except OSError:
        pass
    conn.close()


def flood_requests(sentinel: harness.Sentinel, gen: Generator, count: int) -> dict:
    """Well-formed requests go pipelined on one connection (each is run); every
    malformed one goes on a connection of its own, half-closed after it, so that a
    protocol error cannot hide the requests behind it."""
    well_formed = malformed = 0
    started = time.monotonic()
    before = processed(sentinel)
    good = socket.create_connection((harness.HOST, sentinel.port), timeout=5)
    good.setblocking(False)
    batch: list[bytes] = []
    for _ in range(count):
        data, ok = gen.request()
        if ok:
            well_formed += 1
            batch.append(data)
            if len(batch) == 200:
                _send_all(good, b"".join(batch))
                batch = []
                _drain(good)
            continue
        malformed += 1
        bad = socket.create_connection((harness.HOST, sentinel.port), timeout=5)
        try:
            bad.sendall(data)
        except OSError:
            pass
        close_gracefully(bad)
        if not sentinel.alive():
            break
    if batch:
        _send_all(good, b"".join(batch))
    close_gracefully(good)
    sentinel.close_conn()
    return {"well-formed (pipelined)": well_formed, "malformed (one connection each)": malformed,
            "commands the sentinel ran": processed(sentinel) - before,
            "seconds": round(time.monotonic() - started, 1)}


def _send_all(conn: socket.socket, data: bytes) -> None:
    view = memoryview(data)
    deadline = time.monotonic() + 10
    while view:
        try:
            n = conn.send(view)
            view = view[n:]
        except BlockingIOError:
            _drain(conn)
            if time.monotonic() > deadline:
                raise ConnectionError("send stalled")
            time.sleep(0.001)


def _drain(conn: socket.socket) -> None:
    while True:
        try:
            data = conn.recv(1 << 20)
        except BlockingIOError:
            return
        if not data:
            raise ConnectionError("closed")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--hellos", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    gen_seed = random.Random(args.seed)

    topo = harness.Topology(down_after_ms=1000, failover_timeout_ms=3000)
    topo.start()
    try:
        topo.wait_discovered(timeout=20)
        target = topo.sentinels[0]
        target.cmd("SENTINEL", "MONITOR", "victim", harness.HOST, "1", "2")
        defaults = target.cmd("SENTINEL", "DEBUG")
        gen = Generator(gen_seed, topo.master.port, [(s.port, s.myid()) for s in topo.sentinels])

        stats = flood_requests(target, gen, args.requests)
        print(f"requests: {stats}")

        master = topo.master.client()
        started = time.monotonic()
        pipe = master.pipeline(transaction=False)
        for i in range(args.hellos):
            pipe.publish("__sentinel__:hello", gen.hello())
            if i % 1000 == 999:
                pipe.execute()
        pipe.execute()
        print(f"hellos: {args.hellos} published in {time.monotonic() - started:.1f} s")

        dead = [s.describe() for s in topo.sentinels if not s.alive()]
        if dead:
            print("DEAD:", dead)
            for s in topo.sentinels:
                print(s.diagnostics())
            return 1
        for s in topo.sentinels:
            assert s.cmd("PING") == harness.Simple("PONG"), s.describe()
        # Put back what the flood may have changed on the flooded sentinel.
        if isinstance(defaults, list):
            target.cmd("SENTINEL", "DEBUG", *[str(x) for x in defaults])
        target.cmd("SENTINEL", "SIMULATE-FAILURE", "help")
        epochs = {s.port: s.master()["config-epoch"] for s in topo.sentinels}
        print(f"alive: 3/3 sentinels; config epochs after the flood: {epochs}")

        old = f"{harness.HOST}:{topo.master.port}"
        topo.master.kill9()
        started = time.monotonic()
        def moved() -> bool:
            names = {":".join(s.cmd("SENTINEL", "get-master-addr-by-name", "mymaster")) for s in topo.sentinels}
            return len(names) == 1 and old not in names
        harness.wait_until(moved, 30, message=lambda: "a failover after the flood:\n" + topo.views())
        print(f"failover after the flood: every sentinel names the new master {time.monotonic() - started:.2f} s after kill -9")
        return 0
    finally:
        topo.stop()


if __name__ == "__main__":
    sys.exit(main())
