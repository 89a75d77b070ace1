"""kill -9 of a sentinel while it rewrites its config, 50 times over.

A client sends SENTINEL SET in a loop (each one makes the sentinel rewrite and fsync its
file); the sentinel is killed at a random moment among them. After every kill the file
must still be a valid config, the sentinel must start again from it, and every SET that
was acknowledged must be in it: the value in the file is the last acknowledged one or
the one in flight when the kill came, never an older one. The two options of one SET
land together or not at all. Runs against redis-sentinel too (without --test-config,
which redis-sentinel 7.0 does not have). The seed is printed (WARDEN_CRASH_SEED=N
repeats a run).
"""

from __future__ import annotations

import os
import random
import re
import threading
import time

import pytest

from harness import ConnectionClosed, Monitor, Sentinel, WARDEN_BIN, is_reference, run_to_exit, wait_until

KILLS = 50


class Writer(threading.Thread):
    """SENTINEL SET down-after-milliseconds v failover-timeout v+1, v = start, start+1, ..."""

    def __init__(self, sentinel: Sentinel, start: int) -> None:
        super().__init__(daemon=True)
        self.conn = sentinel.conn()
        self.next = start
        self.acknowledged = start - 1   # the last v answered +OK
        self.sent = start - 1           # the last v sent
        self.error = None

    def run(self) -> None:
        try:
            while True:
                value = self.next
                self.sent = value
                reply = self.conn.call("SENTINEL", "SET", "mymaster", "down-after-milliseconds", value,
                                       "failover-timeout", value + 1)
                if reply != "OK":
                    self.error = f"SENTINEL SET answered {reply!r}"
                    return
                self.acknowledged = value
                self.next = value + 1
        except (OSError, ConnectionClosed, ValueError):
            return  # killed
        finally:
            self.conn.close()


def values_in(text: str) -> tuple[int, int]:
    down_after = re.findall(r"^sentinel down-after-milliseconds mymaster (\d+)$", text, re.M)
    failover_timeout = re.findall(r"^sentinel failover-timeout mymaster (\d+)$", text, re.M)
    assert len(down_after) == 1 and len(failover_timeout) == 1, f"one line each expected:\n{text}"
    return int(down_after[0]), int(failover_timeout[0])


@pytest.mark.timeout(120)
def test_kill9_during_config_rewrites_loses_nothing_acknowledged(make_redis, make_sentinel) -> None:
    seed = int(os.environ.get("WARDEN_CRASH_SEED") or random.randrange(2**32))
    print(f"\nWARDEN_CRASH_SEED={seed}")
    rng = random.Random(seed)
    master = make_redis()
    sentinel = make_sentinel(masters=[Monitor(port=master.port, quorum=1, down_after_ms=60_000)])
    value = 100_000
    sets_acknowledged = 0
    in_flight_on_disk = 0
    started = time.monotonic()
    for kill in range(KILLS):
        writer = Writer(sentinel, value)
        writer.start()
        wait_until(lambda: writer.acknowledged >= value or not writer.is_alive(), 10,
                   message="a first SENTINEL SET acknowledged")
        time.sleep(rng.uniform(0, 0.03))
        sentinel.kill9()
        writer.join(timeout=10)
        assert not writer.is_alive() and writer.error is None, writer.error
        acknowledged, sent = writer.acknowledged, writer.sent
        sets_acknowledged += acknowledged - value + 1

        text = sentinel.conf_text()
        down_after, failover_timeout = values_in(text)
        context = f"kill {kill + 1} (seed {seed}): acknowledged {acknowledged}, sent {sent}, file {down_after}"
        assert acknowledged <= down_after <= sent, "an acknowledged SET was lost: " + context
        assert failover_timeout == down_after + 1, "half a SET was written: " + context
        in_flight_on_disk += down_after == sent > acknowledged
        if not is_reference(WARDEN_BIN):
            checked = run_to_exit([WARDEN_BIN, str(sentinel.conf_path), "--test-config"])
            assert checked.returncode == 0, f"{context}\n{checked.stdout}{checked.stderr}"

        sentinel.start()
        master_view = sentinel.master()
        assert int(master_view["down-after-milliseconds"]) == down_after, context
        assert int(master_view["failover-timeout"]) == failover_timeout, context
        value = sent + 1

    leftovers = [p.name for p in sentinel.dir.iterdir() if p.name.startswith("sentinel.conf") and p.name != "sentinel.conf"]
    print(f"{KILLS} kills, {sets_acknowledged} SETs acknowledged, {time.monotonic() - started:.1f} s; "
          f"killed after writing but before answering: {in_flight_on_disk}; "
          f"temporary files left by the kills: {len(leftovers)}")
