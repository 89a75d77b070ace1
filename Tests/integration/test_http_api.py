"""The HTTP API with real processes: three wardens with `http-port`, a master and a replica.

Every endpoint is exercised with Python's HTTP client (and raw sockets where the exchange
itself is the point): the masters, the probes, recent events and their Server-Sent Events
stream, /metrics (parsed with prometheus_client), the bearer token (401, 403, token reads
switched on at run time), 404 / 405 / 400 / 413, idle and slow connections cut off, 1,000
connections at once, a failover requested over HTTP, and `schemathesis` running
docs/openapi.yaml against a live warden.

Warden only: redis-sentinel has no HTTP API.
"""

from __future__ import annotations

import errno
import json
import re
import resource
import selectors
import socket
import subprocess
import sys
import time
from typing import Any, Callable

import pytest

from harness import HOST, REPO_ROOT, Monitor, RedisServer, Resources, read_until_closed, wait_until, warden_only
from http_support import TOKEN, HTTPSentinel, HTTPTopology, read_sse, request

pytestmark = warden_only


@pytest.fixture(scope="module")
def topo(module_resources: Resources) -> HTTPTopology:
    topology = module_resources.add(HTTPTopology(replicas=1, down_after_ms=2000, failover_timeout_ms=5000,
                                                 http_lines=["http-idle-timeout 1000", "http-request-timeout 1000"]))
    topology.start()
    topology.wait_discovered(timeout=15)
    topology.wait_linked(timeout=10)
    for s in topology.sentinels:
        wait_until(lambda: s.api("/v1/masters/mymaster/primary").status == 200, 10, message="/primary answers 200")
    return topology


def first(topo: HTTPTopology) -> HTTPSentinel:
    return topo.sentinels[0]  # type: ignore[return-value]


def test_masters(topo: HTTPTopology) -> None:
    s = first(topo)
    listing = s.api("/v1/masters")
    assert listing.status == 200 and listing.headers["content-type"] == "application/json"
    assert [m["name"] for m in listing.json["masters"]] == ["mymaster"]
    master = s.api("/v1/masters/mymaster").json
    assert master["address"] == {"host": HOST, "port": topo.master.port}
    assert master["status"] == "ok" and master["flags"] == ["master"] and master["quorum"] == 2
    assert master["failover"] == {"state": "none", "epoch": 0, "in_progress": False}
    assert master["settings"]["down_after_ms"] == 2000
    assert master["replication_offset"] is not None
    [replica] = master["replicas"]
    assert replica["address"] == {"host": HOST, "port": topo.replicas[0].port}
    assert replica["master_link"] == "up" and replica["role_reported"] == "slave"
    assert replica["lag_bytes"] is not None and replica["lag_bytes"] >= 0 and replica["offset"] >= 0
    assert sorted(p["run_id"] for p in master["sentinels"]) == sorted(o.myid() for o in topo.sentinels[1:])
    assert all(p["status"] == "ok" for p in master["sentinels"])
    assert master["last_failover"] is None
    # The same facts as SENTINEL MASTER.
    assert master["run_id"] == s.master()["runid"]
    # A name is one path segment, percent-decoded.
    assert s.api("/v1/masters/my%2Fmaster").status == 404
    assert s.api("/v1/masters/%ZZ").status == 400


def test_probes(topo: HTTPTopology) -> None:
    s = first(topo)
    primary = s.api("/v1/masters/mymaster/primary")
    assert primary.status == 200, primary
    assert primary.json == {"name": "mymaster", "address": {"host": HOST, "port": topo.master.port},
                            "config_epoch": 0, "healthy": True, "reasons": []}
    assert s.api(f"/v1/masters/mymaster/primary?address={HOST}:{topo.master.port}").status == 200
    wrong = s.api(f"/v1/masters/mymaster/primary?address={HOST}:{topo.replicas[0].port}")
    assert wrong.status == 503 and wrong.json["reasons"] == ["not_the_primary"]
    assert s.api("/v1/masters/mymaster/primary?address=nohost").status == 400
    assert s.api("/v1/masters/nosuch/primary").status == 404
    replica = s.api("/v1/masters/mymaster/replica?lag=100000000")
    assert replica.status == 200 and replica.json["replicas"][0]["address"]["port"] == topo.replicas[0].port
    assert s.api(f"/v1/masters/mymaster/replica?address={HOST}:{topo.master.port}").status == 503
    assert s.api("/v1/masters/mymaster/replica?lag=-1").status == 400
    assert s.api("/v1/masters/mymaster/replica?color=blue").status == 400
    assert s.api("/v1/health").json == {"status": "ok", "tilt": False, "masters": [{"name": "mymaster", "status": "ok"}]}
    assert s.api("/v1/liveness").json == {"status": "alive"}
    ready = s.api("/v1/readiness")
    assert ready.status == 200 and ready.json == {"status": "ready", "reasons": []}
    # HEAD answers as GET without a body (HAProxy's default check).
    head = s.api("/v1/masters/mymaster/primary", method="HEAD")
    assert head.status == 200 and head.text == ""


def test_events_and_their_stream(topo: HTTPTopology) -> None:
    s = first(topo)
    with socket.create_connection((HOST, s.http_port), timeout=5) as stream:
        stream.sendall(b"GET /v1/events?events=%2Bset HTTP/1.0\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += stream.recv(1)
        assert head.startswith(b"HTTP/1.1 200 ") and b"Content-Type: text/event-stream" in head, head
        assert s.cmd("SENTINEL", "SET", "mymaster", "quorum", "2") == "OK"
        events = read_sse(stream, lambda got: any(e.get("event") == "+set" for e in got), timeout=5)
    event = next(e for e in events if e.get("event") == "+set")
    data = json.loads(event["data"])
    assert data["event"] == "+set" and data["master"] == "mymaster" and data["text"].endswith("quorum 2")
    listing = s.api("/v1/events?events=%2Bset&limit=1").json
    assert listing["events"][-1]["seq"] == int(event["id"]) == data["seq"]
    assert listing["last_seq"] >= data["seq"]
    everything = s.api("/v1/events?limit=1000").json["events"]
    assert any(e["event"] == "+monitor" for e in everything)
    assert s.api(f"/v1/events?since={data['seq']}&events=%2Bset").json["events"] == []
    assert s.api("/v1/events?limit=0").status == 400
    assert s.api("/v1/events?since=x").status == 400


def test_metrics(topo: HTTPTopology) -> None:
    s = first(topo)
    metrics = s.metrics()
    labels = {"master_name": "mymaster", "master_address": f"{HOST}:{topo.master.port}"}
    assert metrics.value("redis_sentinel_masters") == 1
    assert metrics.value("redis_sentinel_tilt") == 0
    assert metrics.value("redis_sentinel_running_scripts") == 0
    assert metrics.value("redis_sentinel_scripts_queue_length") == 0
    assert metrics.value("redis_sentinel_simulate_failure_flags") == 0
    assert metrics.value("redis_sentinel_master_status", master_status="ok", **labels) == 1
    assert metrics.value("redis_sentinel_master_slaves", **labels) == 1
    assert metrics.value("redis_sentinel_master_ok_slaves", **labels) == 1
    assert metrics.value("redis_sentinel_master_sentinels", **labels) == 3
    assert metrics.value("redis_sentinel_master_ok_sentinels", **labels) == 3
    assert metrics.value("redis_sentinel_master_ckquorum_status", master_name="mymaster",
                         message="OK 3 usable Sentinels. Quorum and failover authorization can be reached") == 1
    assert metrics.value("redis_sentinel_master_setting_ckquorum", **labels) == 2
    assert metrics.value("redis_sentinel_master_setting_down_after_milliseconds", **labels) == 2000
    assert metrics.value("redis_sentinel_master_setting_failover_timeout", **labels) == 5000
    assert metrics.value("redis_sentinel_master_setting_parallel_syncs", **labels) == 1
    assert metrics.value("redis_sentinel_master_config_epoch", **labels) == 0
    assert metrics.value("redis_sentinel_master_last_ok_ping_reply_seconds", **labels) < 2
    assert metrics.value("warden_current_epoch") == 0
    assert metrics.value("warden_links", state="connected") >= 4
    assert metrics.value("warden_events_total", event="+monitor") == 1
    assert metrics.families["warden_failover_duration_seconds"].type == "histogram"
    assert metrics.families["warden_failovers"].type == "counter"
    # Every metric the Grafana dashboard charts exists.
    dashboard = json.loads((REPO_ROOT / "deploy/grafana/warden.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [a["expr"] for a in dashboard["annotations"]["list"]]
    charted = set(re.findall(r"\b((?:redis_sentinel|warden)_[a-z_]+)", " ".join(exprs)))
    known = set(metrics.families) | metrics.names()
    missing = {name for name in charted
               if name not in known and re.sub(r"_(bucket|sum|count|total)$", "", name) not in known}
    assert charted and not missing, missing


def test_tokens_and_errors(topo: HTTPTopology) -> None:
    s = first(topo)
    missing = s.api("/v1/masters/mymaster/failover", method="POST")
    assert missing.status == 401 and missing.headers["www-authenticate"] == 'Bearer realm="warden"'
    assert missing.json["error"]["status"] == 401
    assert s.api("/v1/masters/mymaster/failover", method="POST", token="wrong-token-0123456789").status == 401
    assert s.api("/v1/masters/nosuch/failover", method="POST", token=TOKEN).json == {
        "error": {"status": 404, "message": "ERR No such master with that name"}}
    not_allowed = s.api("/v1/masters/mymaster/failover")
    assert not_allowed.status == 405 and not_allowed.headers["allow"] == "POST"
    assert s.api("/v1/nothing").status == 404
    assert s.api("/v1/masters", method="DELETE").status == 405
    big = s.api("/v1/masters/mymaster/failover", method="POST", token=TOKEN, body=b"x" * 100_000,
                headers={"Content-Type": "application/json"})
    assert big.status == 413 and big.json["error"]["message"] == "body larger than 65536 bytes"
    bad = s.api("/v1/masters/mymaster/failover", method="POST", token=TOKEN, body=b"[1]",
                headers={"Content-Type": "application/json"})
    assert bad.status == 400
    # Token reads, switched on at run time: every request needs the token, /metrics too.
    assert s.cmd("SENTINEL", "CONFIG", "SET", "http-token-reads", "yes") == "OK"
    try:
        assert s.api("/v1/masters").status == 401
        assert s.api("/metrics").status == 401
        assert s.api("/v1/masters", token=TOKEN).status == 200
    finally:
        assert s.cmd("SENTINEL", "CONFIG", "SET", "http-token-reads", "no") == "OK"
    assert s.api("/v1/masters").status == 200
    # Never logged.
    assert TOKEN not in s.log(1000) and "wrong-token" not in s.log(1000)
    assert TOKEN not in str(s.cmd("SENTINEL", "CONFIG", "GET", "http-token"))


def test_post_is_refused_without_a_token(make_redis: Callable[..., RedisServer], resources: Resources) -> None:
    master = make_redis()
    s = resources.add(HTTPSentinel(masters=[Monitor(port=master.port, quorum=1)], token=None)).start()
    refused = s.api("/v1/masters/mymaster/failover", method="POST", token=TOKEN)
    assert refused.status == 403 and "http-token" in refused.json["error"]["message"]
    assert s.api("/v1/masters").status == 200


def test_idle_and_slow_connections_are_cut_off(topo: HTTPTopology) -> None:
    s = first(topo)
    # Silent: closed when the request timeout (1 s) passes.
    with socket.create_connection((HOST, s.http_port), timeout=5) as silent:
        started = time.monotonic()
        assert read_until_closed(silent, timeout=5) == b""
        assert 0.8 <= time.monotonic() - started < 4
    # Kept alive after one request, then idle: closed after the idle timeout (1 s).
    with socket.create_connection((HOST, s.http_port), timeout=5) as idle:
        idle.sendall(b"GET /v1/liveness HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        answer = read_until_closed(idle, timeout=5)
        assert answer.startswith(b"HTTP/1.1 200 ") and b'{"status":"alive"}' in answer
        assert 0.8 <= time.monotonic() - started < 4
    # Slow: half a request head, then nothing: 408 and closed.
    with socket.create_connection((HOST, s.http_port), timeout=5) as slow:
        slow.sendall(b"GET /v1/liveness HTTP/1.1\r\nHost: x\r\n")
        answer = read_until_closed(slow, timeout=5)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
    metrics = s.metrics()
    assert metrics.value("warden_http_timeouts_total", cause="request") >= 2
    assert metrics.value("warden_http_timeouts_total", cause="idle") >= 1


@pytest.mark.timeout(90)
def test_a_thousand_connections(topo: HTTPTopology) -> None:
    s = first(topo)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1200
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"needs {wanted} descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    selector = selectors.DefaultSelector()
    request_bytes = b"GET /v1/liveness HTTP/1.1\r\nHost: x\r\n\r\n"
    sockets: list[socket.socket] = []
    answers: dict[int, bytes] = {}
    outcomes = {"200": 0, "503": 0, "reset": 0}
    try:
        for _ in range(1000):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            code = sock.connect_ex((HOST, s.http_port))
            assert code in (0, errno.EINPROGRESS), errno.errorcode.get(code)
            sockets.append(sock)
            selector.register(sock, selectors.EVENT_WRITE)
        deadline = time.monotonic() + 30
        pending = len(sockets)
        while pending and time.monotonic() < deadline:
            for key, events in selector.select(timeout=1):
                sock = key.fileobj
                try:
                    if events & selectors.EVENT_WRITE:
                        sock.send(request_bytes)
                        selector.modify(sock, selectors.EVENT_READ)
                        continue
                    data = sock.recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    data = b""
                buffer = answers.get(sock.fileno(), b"") + data
                answers[sock.fileno()] = buffer
                if not data or b"\r\n\r\n" in buffer and buffer.split(b"\r\n\r\n", 1)[1].endswith(b"}\n"):
                    status = buffer[9:12].decode() if buffer.startswith(b"HTTP/1.1 ") else "reset"
                    outcomes[status if status in outcomes else "reset"] += 1
                    selector.unregister(sock)
                    pending -= 1
        assert pending == 0, f"{pending} connections without an answer; {outcomes}"
    finally:
        for sock in sockets:
            sock.close()
        selector.close()
    # At most http-max-connections (256) at once; the rest are refused with 503, none hangs.
    assert sum(outcomes.values()) == 1000, outcomes
    assert 1 <= outcomes["200"] <= 1000 and outcomes["503"] >= 1, outcomes
    assert s.alive()
    assert s.api("/v1/liveness").status == 200
    assert s.metrics().value("warden_http_connections_rejected_total") >= outcomes["503"]


@pytest.mark.timeout(180)
def test_schemathesis(make_redis: Callable[..., RedisServer], resources: Resources) -> None:
    """docs/openapi.yaml against a live warden (its own: the fuzzer may fail the master over)."""
    master = make_redis()
    make_redis(replicaof=master.port)
    s = resources.add(HTTPSentinel(masters=[Monitor(port=master.port, quorum=1, down_after_ms=1000)])).start()
    wait_until(lambda: s.api("/v1/masters/mymaster/replica").status == 200, 15, message="the replica seen")
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(REPO_ROOT / "Tests/integration/schemathesis.toml"), "run",
               str(REPO_ROOT / "docs/openapi.yaml"), "--url", f"http://{HOST}:{s.http_port}",
               "-H", f"Authorization: Bearer {TOKEN}", "--checks", "all", "--max-examples", "30", "--seed", "1",
               "--workers", "1", "--request-timeout", "10", "--no-color"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=170, cwd=s.dir)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout, result.stdout[-3000:]
    assert s.alive()


@pytest.mark.timeout(60)
def test_failover_over_http(topo: HTTPTopology) -> None:
    """Last in the module: it changes the topology for good."""
    s = first(topo)
    accepted = s.api("/v1/masters/mymaster/failover", method="POST", token=TOKEN)
    assert accepted.status == 202 and accepted.json == {"name": "mymaster", "accepted": True}
    new_port = topo.replicas[0].port
    for other in topo.sentinels:
        wait_until(lambda: (r := other.api("/v1/masters/mymaster/primary")).status == 200
                   and r.json["address"]["port"] == new_port, 20, message="every sentinel names the new master")
    last = s.api("/v1/masters/mymaster").json["last_failover"]
    assert last["led_by_this_sentinel"] and last["new_address"]["port"] == new_port
    assert "HTTP: failover of mymaster requested" in s.log(200)
