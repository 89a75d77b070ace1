"""Subjective down: a master that stops answering is +sdown after down-after, -sdown when back."""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from harness import Monitor, RedisServer, Sentinel, wait_until

DOWN_AFTER_MS = 1000


def _next_event(pubsub: Any, channel: str) -> Callable[[], Optional[dict]]:
    """A predicate for wait_until: the next message on `channel`, skipping others."""
    def poll() -> Optional[dict]:
        while True:
            message = pubsub.get_message(timeout=0.05)
            if message is None:
                return None
            if message["type"] == "pmessage" and message["channel"] == channel:
                return message
    return poll


def test_sdown_and_back(make_redis: Callable[..., RedisServer], make_sentinel: Callable[..., Sentinel]) -> None:
    master = make_redis()
    # Quorum 2 with a single sentinel: ODOWN, and so a failover, can never happen.
    sentinel = make_sentinel(masters=[Monitor(port=master.port, quorum=2, down_after_ms=DOWN_AFTER_MS)])
    wait_until(lambda: sentinel.master()["role-reported"] == "master"
               and int(sentinel.master()["last-ok-ping-reply"]) < DOWN_AFTER_MS,
               10, message=lambda: f"sentinel linked to the master: {sentinel.view()}")

    client = sentinel.client(protocol=2)
    pubsub = client.pubsub()
    pubsub.psubscribe("*")
    wait_until(lambda: (lambda m: m and m["type"] == "psubscribe")(pubsub.get_message(timeout=0.05)),
               5, message="psubscribe confirmation")

    master.pause()
    paused_at = time.monotonic()
    try:
        message = wait_until(_next_event(pubsub, "+sdown"), 10, interval=0,
                             message=lambda: f"+sdown after SIGSTOP: {sentinel.view()}")
        elapsed = time.monotonic() - paused_at
        assert message["pattern"] == "*"
        assert message["data"] == f"master mymaster 127.0.0.1 {master.port}"
        # Loosely: not before down-after (small allowance for a ping sent just before the
        # pause), and not absurdly late.
        assert elapsed >= DOWN_AFTER_MS / 1000 - 0.1, f"+sdown after only {elapsed:.3f} s"
        assert elapsed < DOWN_AFTER_MS / 1000 + 4, f"+sdown only after {elapsed:.3f} s"
        print(f"+sdown {elapsed:.2f} s after SIGSTOP")
        assert "s_down" in sentinel.master()["flags"].split(",")
        assert "o_down" not in sentinel.master()["flags"].split(",")
    finally:
        master.resume()

    message = wait_until(_next_event(pubsub, "-sdown"), 10, interval=0,
                         message=lambda: f"-sdown after SIGCONT: {sentinel.view()}")
    assert message["data"] == f"master mymaster 127.0.0.1 {master.port}"
    assert sentinel.master()["flags"] == "master"
    pubsub.close()
    client.close()
