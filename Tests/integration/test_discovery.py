"""Sentinels find the replicas and each other, persist what they found, and reload it."""

from __future__ import annotations

import re
import time
from typing import Iterator

import pytest

from harness import HEX40, Resources, Topology, info_sections, wait_until


@pytest.fixture(scope="module")
def fresh(module_resources: Resources) -> Iterator[Topology]:
    """A topology whose discovery has not been waited for yet."""
    topo = module_resources.add(Topology())
    topo.start()
    yield topo


def test_every_sentinel_discovers_replicas_and_peers(fresh: Topology) -> None:
    started = time.monotonic()
    fresh.wait_discovered(timeout=15)
    for sentinel in fresh.sentinels:
        master = sentinel.master()
        assert master["num-slaves"] == "2", sentinel.view()
        assert master["num-other-sentinels"] == "2", sentinel.view()
        assert master["ip"] == "127.0.0.1" and master["port"] == str(fresh.master.port)
        assert master["flags"] == "master", sentinel.view()
    print(f"discovered in {time.monotonic() - started:.1f} s")


def test_replica_and_sentinel_lists(fresh: Topology) -> None:
    fresh.wait_discovered(timeout=15)
    # A newly found instance is flagged "disconnected" until its link is up, and its
    # master-host is "?" until its first INFO reply (the look after the link is up).
    wait_until(
        lambda: all(r["flags"] == "slave" and r["master-host"] != "?" for s in fresh.sentinels for r in s.replicas())
        and all(p["flags"] == "sentinel" for s in fresh.sentinels for p in s.sentinels()),
        10, message=lambda: "links to every replica and sentinel:\n"
        + "\n".join(f"  {s.port}: {[r['flags'] for r in s.replicas()]} {[p['flags'] for p in s.sentinels()]}"
                    for s in fresh.sentinels),
    )
    replica_ports = sorted(str(r.port) for r in fresh.replicas)
    ids = {s.port: s.myid() for s in fresh.sentinels}
    for sentinel in fresh.sentinels:
        replicas = sentinel.replicas()
        assert sorted(r["port"] for r in replicas) == replica_ports
        for replica in replicas:
            assert replica["name"] == f"127.0.0.1:{replica['port']}"
            assert replica["master-host"] == "127.0.0.1"
            assert replica["master-port"] == str(fresh.master.port)
            assert replica["master-link-status"] == "ok"
        peers = sentinel.sentinels()
        expected_ports = sorted(str(s.port) for s in fresh.sentinels if s is not sentinel)
        assert sorted(p["port"] for p in peers) == expected_ports
        for peer in peers:
            assert peer["name"] == peer["runid"] == ids[int(peer["port"])]


def test_info_sentinel_section(fresh: Topology) -> None:
    fresh.wait_discovered(timeout=15)
    for sentinel in fresh.sentinels:
        section = dict(info_sections(sentinel.cmd("INFO", "sentinel"))["Sentinel"])
        assert section["sentinel_masters"] == "1"
        assert section["master0"] == (
            f"name=mymaster,status=ok,address=127.0.0.1:{fresh.master.port},slaves=2,sentinels=3"
        )


def _persisted(text: str) -> bool:
    return (
        len(re.findall(r"^sentinel known-replica ", text, re.M)) == 2
        and len(re.findall(r"^sentinel known-sentinel ", text, re.M)) == 2
        and re.search(r"^sentinel myid [0-9a-f]{40}$", text, re.M) is not None
    )


def test_config_files_hold_discovered_state(fresh: Topology) -> None:
    fresh.wait_discovered(timeout=15)
    for sentinel in fresh.sentinels:
        text = wait_until(
            lambda: (lambda t: t if _persisted(t) else None)(sentinel.conf_text()),
            5, message=lambda: f"{sentinel.conf_path} to list 2 replicas, 2 sentinels and myid:\n"
                               + sentinel.conf_text(),
        )
        assert f"sentinel myid {sentinel.myid()}" in text
        replica_lines = re.findall(r"^sentinel known-replica mymaster 127\.0\.0\.1 (\d+)$", text, re.M)
        assert sorted(replica_lines) == sorted(str(r.port) for r in fresh.replicas), text
        sentinel_lines = re.findall(r"^sentinel known-sentinel mymaster 127\.0\.0\.1 (\d+) ([0-9a-f]{40})$", text, re.M)
        expected = sorted((str(s.port), s.myid()) for s in fresh.sentinels if s is not sentinel)
        assert sorted(sentinel_lines) == expected, text


def test_restart_reloads_state_from_the_file(fresh: Topology) -> None:
    fresh.wait_discovered(timeout=15)
    sentinel = fresh.sentinels[0]
    wait_until(lambda: _persisted(sentinel.conf_text()), 5, message="state persisted before restart")
    myid = sentinel.myid()
    assert HEX40.match(myid)

    exit_status = sentinel.stop()
    assert exit_status == 0, f"SIGTERM should end the sentinel cleanly\n{sentinel.diagnostics()}"

    sentinel.start()
    # Asked right after PING answers: before any hello can have arrived, the replicas
    # and sentinels can only come from the config file.
    master = sentinel.master()
    assert master["num-slaves"] == "2", f"right after restart: {master}"
    assert master["num-other-sentinels"] == "2", f"right after restart: {master}"
    assert sentinel.myid() == myid

    fresh.wait_discovered(timeout=15)
    for other in fresh.sentinels[1:]:
        ports = [p["port"] for p in other.sentinels()]
        assert str(sentinel.port) in ports
