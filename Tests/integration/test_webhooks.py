"""Webhooks with real processes: wardens, redis-servers and a receiver started by the test.

Deliveries are checked as a receiver sees them: Standard Webhooks headers (the signature
verified by the `standardwebhooks` package), CloudEvents bodies, retries with one
webhook-id, a receiver that is down, a delivery pending across a restart, 410, a full
queue, HTTPS with the system CA store, and SENTINEL CONFIG SET at run time. The failover
test has three wardens and checks the webhook, the /primary probe and /metrics together.

Warden only: redis-sentinel has no webhooks.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable

import pytest

from harness import HOST, EventLog, Monitor, RedisServer, Resources, Sentinel, wait_until, warden_only
from http_support import SECRET, TOKEN, HTTPSentinel, HTTPTopology, Metrics, Receiver, tls_context, verify_signature
from tls_support import make_certificates

pytestmark = warden_only


@pytest.fixture
def receivers(resources: Resources) -> Callable[..., Receiver]:
    """Receivers stopped at the end of the test (started unless `start=False`)."""
    def make(start: bool = True, **kwargs: Any) -> Receiver:
        receiver = resources.add(Receiver(**kwargs))
        return receiver.start() if start else receiver
    return make


@pytest.fixture
def warden(resources: Resources, make_redis: Callable[..., RedisServer]) -> Callable[..., HTTPSentinel]:
    """One warden watching one redis-server, with the given extra lines (webhooks)."""
    master = make_redis()

    def make(*lines: str, start: bool = True) -> HTTPSentinel:
        sentinel = resources.add(HTTPSentinel(masters=[Monitor(port=master.port, quorum=1, down_after_ms=1000)],
                                              http_lines=lines))
        return sentinel.start() if start else sentinel
    return make


def hook(receiver: Receiver, name: str = "rx", events: str = "+set", extra: str = "") -> str:
    return f"webhook {name} {receiver.url()} secret {SECRET} events {events} {extra}".strip()


def set_event(sentinel: Sentinel, value: int) -> None:
    """A +set event (SENTINEL SET emits one per option)."""
    assert sentinel.cmd("SENTINEL", "SET", "mymaster", "down-after-milliseconds", str(value)) == "OK"


def deliveries(metrics: Metrics, endpoint: str, outcome: str) -> float:
    return metrics.value("warden_webhook_deliveries_total", 0, endpoint=endpoint, outcome=outcome)


def test_retries_on_500_with_one_webhook_id(warden: Callable[..., HTTPSentinel], receivers: Callable[..., Receiver]) -> None:
    receiver = receivers(statuses=[500, 500])
    sentinel = warden(hook(receiver))
    set_event(sentinel, 1500)
    got = receiver.wait_for(3, timeout=15)
    assert len({r.webhook_id for r in got}) == 1, [r.webhook_id for r in got]
    for delivery in got:
        payload = verify_signature(delivery)
        assert payload["specversion"] == "1.0" and payload["type"] == "io.warden.+set"
        assert payload["id"] == delivery.webhook_id
        assert delivery.headers["content-type"].startswith("application/cloudevents+json")
    data = got[-1].json["data"]
    assert data["master"] == "mymaster" and data["text"].endswith("down-after-milliseconds 1500"), data
    assert data["sentinel"]["id"] == sentinel.myid()
    # Delivered: nothing more comes.
    wait_until(lambda: deliveries(sentinel.metrics(), "rx", "delivered") == 1, 5, message="delivered counted")
    time.sleep(1.5)
    assert len(receiver.received()) == 3
    metrics = sentinel.metrics()
    assert metrics.value("warden_webhook_attempts_total", endpoint="rx", result="5xx") == 2
    assert metrics.value("warden_webhook_attempts_total", endpoint="rx", result="2xx") == 1
    assert metrics.value("warden_webhook_queue_depth", endpoint="rx") == 0


@pytest.mark.timeout(90)
def test_receiver_down_for_ten_seconds(warden: Callable[..., HTTPSentinel], receivers: Callable[..., Receiver]) -> None:
    receiver = receivers(start=False)
    sentinel = warden(hook(receiver))
    set_event(sentinel, 1500)
    down_since = time.monotonic()
    wait_until(lambda: sentinel.metrics().value("warden_webhook_attempts_total", 0, endpoint="rx",
                                                result="connection_error") >= 2, 10, message="failed attempts")
    # The receiver stays down for 10 s (the scenario itself, not a wait for a condition).
    time.sleep(max(0.0, 10 - (time.monotonic() - down_since)))
    receiver.start()
    got = receiver.wait_for(1, timeout=40)
    assert got[0].json["data"]["text"].endswith("down-after-milliseconds 1500")
    verify_signature(got[0])
    wait_until(lambda: deliveries(sentinel.metrics(), "rx", "delivered") == 1, 5, message="delivered counted")


def test_pending_delivery_survives_a_restart(warden: Callable[..., HTTPSentinel], receivers: Callable[..., Receiver]) -> None:
    receiver = receivers(default=503)
    sentinel = warden(hook(receiver))
    set_event(sentinel, 1500)
    first = receiver.wait_for(1, timeout=10)[0]
    queue = sentinel.dir / f"warden-{sentinel.port}-webhooks.queue"
    wait_until(lambda: queue.exists() and first.webhook_id in queue.read_text(), 5, message="the queue file holds it")
    # Not even a clean stop: the file is written when the queue changes.
    sentinel.kill9()
    receiver.default = 200
    restarted = time.monotonic()
    sentinel.start()
    again = wait_until(lambda: [r for r in receiver.received() if r.at > restarted], 40,
                       message="the delivery after the restart")
    assert again[0].webhook_id == first.webhook_id
    verify_signature(again[0])
    assert "pending deliveries restored" in sentinel.log(200)
    wait_until(lambda: first.webhook_id not in queue.read_text(), 5, message="the queue file emptied")


def test_410_disables_the_endpoint(warden: Callable[..., HTTPSentinel], receivers: Callable[..., Receiver]) -> None:
    receiver = receivers(default=410)
    sentinel = warden(hook(receiver))
    set_event(sentinel, 1500)
    receiver.wait_for(1, timeout=10)
    wait_until(lambda: sentinel.metrics().value("warden_webhook_endpoint_disabled", endpoint="rx") == 1, 5,
               message="the endpoint disabled")
    # The delivery that got the 410 counts as dropped, and so does every later one.
    assert deliveries(sentinel.metrics(), "rx", "dropped_disabled") == 1
    set_event(sentinel, 1600)
    assert deliveries(sentinel.metrics(), "rx", "dropped_disabled") == 2
    assert len(receiver.received()) == 1
    assert "disabled by 410 Gone" in sentinel.log(50)


def test_full_queue_drops_the_oldest(warden: Callable[..., HTTPSentinel], receivers: Callable[..., Receiver]) -> None:
    receiver = receivers(start=False)
    sentinel = warden(hook(receiver), "webhook-queue-limit 3")
    for value in range(1501, 1507):
        set_event(sentinel, value)
    metrics = sentinel.metrics()
    assert deliveries(metrics, "rx", "dropped_queue_full") == 3, metrics.families.get("warden_webhook_deliveries")
    assert metrics.value("warden_webhook_queue_depth", endpoint="rx") == 3
    receiver.start()
    got = receiver.wait_for(3, timeout=40)
    values = sorted(int(r.json["data"]["text"].rsplit(" ", 1)[1]) for r in got)
    assert len(values) == 3 and {1505, 1506} <= set(values), values
    assert "queue full, dropped the oldest delivery" in sentinel.log(50)


def test_https_endpoint_uses_the_system_store_and_checks_the_name(
        warden: Callable[..., HTTPSentinel], receivers: Callable[..., Receiver], resources: Resources,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    files = make_certificates(tmp_path, name="hooks", san="DNS:localhost")
    secure = receivers(tls=tls_context(files.cert, files.key))
    # OpenSSL's default CA store is replaced by the test CA for this process only.
    monkeypatch.setenv("SSL_CERT_FILE", str(files.ca))
    sentinel = warden(f"webhook good https://localhost:{secure.port}/hook secret {SECRET} events +set",
                      f"webhook wrongname https://127.0.0.1:{secure.port}/hook events +set timeout 2000")
    set_event(sentinel, 1500)
    got = secure.wait_for(1, timeout=10)
    verify_signature(got[0])
    # The certificate names localhost, not 127.0.0.1: that endpoint never gets through.
    wait_until(lambda: sentinel.metrics().value("warden_webhook_attempts_total", 0, endpoint="wrongname",
                                                result="connection_error") >= 1, 10, message="the refused handshake")
    assert len(secure.received()) == 1
    assert "certificate verify failed" in sentinel.log(100)


def test_config_set_webhook_at_run_time(warden: Callable[..., HTTPSentinel], receivers: Callable[..., Receiver]) -> None:
    receiver = receivers()
    denied = warden()
    reply = denied.cmd("SENTINEL", "CONFIG", "SET", "webhook.rx", f"{receiver.url()} events +set")
    assert str(reply).startswith("ERR Reconfiguration of webhooks is denied"), reply
    denied.stop()

    sentinel = warden("sentinel deny-scripts-reconfig no")
    assert sentinel.cmd("SENTINEL", "CONFIG", "SET", "webhook.rx", f"{receiver.url()} secret {SECRET} events +set") == "OK"
    assert sentinel.cmd("SENTINEL", "CONFIG", "GET", "webhook.rx") == [
        "webhook.rx", f"{receiver.url()} secret whsec_****** events +set"]
    set_event(sentinel, 1500)
    verify_signature(receiver.wait_for(1, timeout=10)[0])
    assert f"webhook rx {receiver.url()} secret {SECRET} events +set" in sentinel.conf_text()
    # Kept by the rewrite: still there after a restart.
    sentinel.restart()
    set_event(sentinel, 1600)
    receiver.wait_for(2, timeout=10)
    assert sentinel.cmd("SENTINEL", "CONFIG", "SET", "webhook.rx", "") == "OK"
    assert "webhook rx" not in sentinel.conf_text()
    set_event(sentinel, 1700)
    time.sleep(0.5)
    assert len(receiver.received()) == 2


# --------------------------------------------------------------------------------------
# A failover: three wardens, a master killed with kill -9


class PrimaryPoller:
    """Asks one sentinel's /primary every 20 ms, recording (sent, answered, status, port)."""

    def __init__(self, sentinel: HTTPSentinel) -> None:
        self.sentinel = sentinel
        self.samples: list[tuple[float, float, int, int]] = []
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while self.running:
            sent = time.monotonic()
            try:
                response = self.sentinel.api("/v1/masters/mymaster/primary", timeout=2)
                self.samples.append((sent, time.monotonic(), response.status, response.json["address"]["port"]))
            except OSError:
                pass
            time.sleep(0.02)

    def stop(self) -> None:
        self.running = False
        self.thread.join(timeout=5)


@pytest.mark.timeout(120)
def test_failover_webhook_probe_and_metrics(resources: Resources, receivers: Callable[..., Receiver]) -> None:
    receiver = receivers()
    topo = resources.add(HTTPTopology(down_after_ms=1000, failover_timeout_ms=3000,
                                      http_lines=[hook(receiver, events="+switch-master,+failover-end,+odown")]))
    topo.start()
    topo.wait_discovered(timeout=15)
    topo.wait_linked(timeout=10)
    sentinels: list[HTTPSentinel] = topo.sentinels  # type: ignore[assignment]
    old_port = topo.master.port
    for s in sentinels:
        wait_until(lambda: s.api("/v1/masters/mymaster/primary").status == 200, 10, message="/primary 200 before the kill")
    before = {s.port: s.metrics().value("warden_failovers_total", 0, master_name="mymaster", result="ok") for s in sentinels}
    events = resources.add(EventLog(sentinels))
    pollers = [PrimaryPoller(s) for s in sentinels]
    try:
        time.sleep(0.2)
        # Taken before the kill: kill9() returns once the process is reaped, by which
        # time a sentinel may already have answered 503 (disconnected) to a poll.
        killed = time.monotonic()
        topo.master.kill9()
        for s in sentinels:
            events.wait_for("+switch-master", timeout=20, port=s.port, since=killed)
        new_port = int(events.wait_for("+switch-master", timeout=1, since=killed).data.split()[4])
        for s in sentinels:
            wait_until(lambda: (r := s.api("/v1/masters/mymaster/primary")).status == 200
                       and r.json["address"]["port"] == new_port, 15, message="/primary 200 with the new master")
        time.sleep(0.1)
    finally:
        for poller in pollers:
            poller.stop()

    # /primary: 200 before the kill; 503 from this sentinel's +sdown until its +switch-master;
    # then the new master. (A sentinel may learn of the switch before its own down-after
    # runs out: then it never reports SDOWN, and never answers 200 for the old master after
    # the others did.)
    saw_sdown = 0
    for s, poller in zip(sentinels, pollers):
        switch = events.wait_for("+switch-master", timeout=1, port=s.port, since=killed).at
        sdowns = [e.at for e in events.events("+sdown", port=s.port, since=killed)
                  if e.data.startswith("master mymaster") and e.at <= switch]
        before_kill = [x for x in poller.samples if x[1] < killed]
        assert before_kill and all(x[2] == 200 and x[3] == old_port for x in before_kill), before_kill[-5:]
        if sdowns:
            saw_sdown += 1
            between = [x for x in poller.samples if x[0] > sdowns[0] and x[1] < switch]
            assert all(x[2] == 503 for x in between), [x for x in between if x[2] != 503]
            assert all(not (x[2] == 200 and x[3] == old_port) for x in poller.samples if x[0] > sdowns[0])
        after = [x for x in poller.samples if x[0] > switch and x[2] == 200]
        assert after and all(x[3] == new_port for x in after)
    assert saw_sdown >= 2, "a quorum (2) of sentinels saw the master down"

    # The webhook: within 1 s of the first +switch-master, signed, one id from every sentinel.
    first_switch = min(e.at for e in events.events("+switch-master", since=killed))
    got = receiver.wait_for(3, timeout=10, event="+switch-master")
    assert got[0].at - first_switch <= 1.0, f"{got[0].at - first_switch:.3f} s after the first +switch-master"
    assert len({r.webhook_id for r in got}) == 1, [r.webhook_id for r in got]
    senders = {r.json["data"]["sentinel"]["id"] for r in got}
    assert senders == {s.myid() for s in sentinels}
    for delivery in got:
        payload = verify_signature(delivery)
        assert payload["data"]["new_address"]["port"] == new_port and payload["data"]["old_address"]["port"] == old_port

    # /metrics: the leader's failover counter went up by exactly one, the others' not at all.
    # (The leader is the one that ended the failover: under load an election may be lost and retried.)
    leader_port = events.wait_for("+failover-end", timeout=10, since=killed).port
    for s in sentinels:
        wait_until(lambda: s.metrics().value("warden_switch_master_total", 0, master_name="mymaster") == 1, 5,
                   message="+switch-master counted")
        metrics = s.metrics()
        ok = metrics.value("warden_failovers_total", 0, master_name="mymaster", result="ok")
        assert ok - before[s.port] == (1 if s.port == leader_port else 0), (s.port, leader_port, ok)
        master = s.api("/v1/masters/mymaster").json
        last = master["last_failover"]
        assert last["result"] == "ok" if s.port == leader_port else last["result"] in ("observed", "not_elected"), last
        assert last["new_address"]["port"] == new_port
        assert any(e["event"] == "+switch-master" for e in last["timeline"])
    leader = next(s for s in sentinels if s.port == leader_port)
    assert leader.metrics().value("warden_failover_duration_seconds_count", master_name="mymaster") == 1
