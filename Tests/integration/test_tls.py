"""TLS with real processes: the sentinel port over TLS, client certificates, links to
redis-servers and peers over TLS (`tls-replication yes`), failures that close one
connection, start-up errors, and certificate reload.

Certificates are made by the test with the `openssl` command line. Everything but the
reload (redis-sentinel 7.0 has no CONFIG command) runs against both binaries.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import redis
import redis.sentinel

from harness import (
    HOST, WARDEN_BIN, Error, EventLog, Monitor, RedisServer, Resources, base_dir, free_port, info_sections,
    ping, read_until_closed, run_to_exit, wait_until, warden_only,
)
from tls_support import TLSConn, TLSFiles, TLSSentinel, TLSTopology, make_certificates, tls_ping

@pytest.fixture(scope="module")
def files() -> TLSFiles:
    return make_certificates(base_dir() / "tls-ca1", "ca1")


@pytest.fixture(scope="module")
def other_files() -> TLSFiles:
    """A second, unrelated CA and its certificates."""
    return make_certificates(base_dir() / "tls-ca2", "ca2")


@pytest.fixture
def make_tls_sentinel(resources: Resources, make_redis: Callable[..., RedisServer],
                      files: TLSFiles) -> Callable[..., TLSSentinel]:
    """A TLS sentinel (port 0 unless plain_port=...) monitoring a fresh plain redis-server."""
    def make(**kwargs: Any) -> TLSSentinel:
        master = make_redis()
        kwargs.setdefault("replication", False)
        sentinel = resources.add(TLSSentinel(kwargs.pop("files", files),
                                             masters=[Monitor(port=master.port, quorum=1)], **kwargs))
        sentinel.start()
        sentinel.master_port = master.port
        return sentinel
    return make


def redis_cli(files: TLSFiles, port: int, *args: str, tls_args: list[str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["redis-cli", *(files.cli_args() if tls_args is None else tls_args),
                           "-h", HOST, "-p", str(port), *args],
                          capture_output=True, text=True, timeout=10)


# --------------------------------------------------------------------------------------
# The sentinel port over TLS


def test_redis_cli_tls_gets_the_master(make_tls_sentinel: Callable[..., TLSSentinel], files: TLSFiles) -> None:
    sentinel = make_tls_sentinel()
    result = redis_cli(files, sentinel.port, "SENTINEL", "get-master-addr-by-name", "mymaster")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [HOST, str(sentinel.master_port)]
    # Without --tls, the TLS port gives redis-cli nothing.
    plain = redis_cli(files, sentinel.port, "PING", tls_args=[])
    assert "PONG" not in plain.stdout
    # INFO reports the TLS port when there is no plain one, as redis-server does.
    info = info_sections(checked_text(sentinel.cmd("INFO", "server")))
    assert dict(info["Server"])["tcp_port"] == str(sentinel.port)


def checked_text(reply: Any) -> str:
    assert isinstance(reply, str) and not isinstance(reply, Error), reply
    return reply


def test_redis_py_ssl_gets_the_master(make_tls_sentinel: Callable[..., TLSSentinel], files: TLSFiles) -> None:
    sentinel = make_tls_sentinel()
    with redis.Redis(host=HOST, port=sentinel.port, decode_responses=True, socket_timeout=5,
                     **files.redis_kwargs()) as client:
        assert client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster") == [
            HOST, str(sentinel.master_port)]
    discovery = redis.sentinel.Sentinel([(HOST, sentinel.port)], socket_timeout=5,
                                        sentinel_kwargs=dict(socket_timeout=5, **files.redis_kwargs()))
    assert discovery.discover_master("mymaster") == (HOST, sentinel.master_port)
    # RESP3 over TLS too.
    with sentinel.client(protocol=3) as client:
        assert client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster") == [
            HOST, str(sentinel.master_port)]


def test_tls_port_next_to_the_plain_port(make_tls_sentinel: Callable[..., TLSSentinel], files: TLSFiles) -> None:
    plain = free_port()
    sentinel = make_tls_sentinel(plain_port=plain)
    assert tls_ping(sentinel.port, files.context())
    assert ping(plain)
    info = dict(info_sections(checked_text(sentinel.cmd("INFO", "server")))["Server"])
    assert info["tcp_port"] == str(plain)


@pytest.mark.parametrize("auth_clients", ["yes", "optional", "no"])
def test_tls_auth_clients(make_tls_sentinel: Callable[..., TLSSentinel], files: TLSFiles,
                          other_files: TLSFiles, auth_clients: str) -> None:
    sentinel = make_tls_sentinel(extra=[f"tls-auth-clients {auth_clients}"])
    assert tls_ping(sentinel.port, files.context(client_cert=True))
    # No certificate at all: refused only with `yes`.
    assert tls_ping(sentinel.port, files.context(client_cert=False)) == (auth_clients != "yes")
    # A certificate from a CA the sentinel does not trust: refused unless certificates are ignored.
    stranger = other_files.context(ca=files.ca)
    assert tls_ping(sentinel.port, stranger) == (auth_clients == "no")


def test_tls_protocols(make_tls_sentinel: Callable[..., TLSSentinel], files: TLSFiles) -> None:
    sentinel = make_tls_sentinel(extra=["tls-protocols TLSv1.2"])

    def context(version: ssl.TLSVersion) -> ssl.SSLContext:
        ctx = files.context()
        ctx.minimum_version = ctx.maximum_version = version
        return ctx

    assert tls_ping(sentinel.port, context(ssl.TLSVersion.TLSv1_2))
    assert not tls_ping(sentinel.port, context(ssl.TLSVersion.TLSv1_3))
    with TLSConn(sentinel.port, files.context()) as conn:
        assert conn.sock.version() == "TLSv1.2"


def test_encrypted_key_with_its_password(make_tls_sentinel: Callable[..., TLSSentinel], files: TLSFiles) -> None:
    encrypted = files.key.with_name(f"encrypted-{free_port()}.key")
    subprocess.run(["openssl", "pkey", "-in", str(files.key), "-aes256", "-passout", "pass:key pass",
                    "-out", str(encrypted)], check=True, capture_output=True, timeout=30)
    sentinel = make_tls_sentinel(extra=[f"tls-key-file {encrypted}", 'tls-key-file-pass "key pass"'])
    assert tls_ping(sentinel.port, files.context())
    assert "key pass" not in sentinel.log(200)


def test_untrusted_server_certificate_is_refused_by_the_client(
        make_tls_sentinel: Callable[..., TLSSentinel], files: TLSFiles, other_files: TLSFiles) -> None:
    sentinel = make_tls_sentinel()
    with pytest.raises(ssl.SSLCertVerificationError):
        TLSConn(sentinel.port, files.context(ca=other_files.ca))
    assert tls_ping(sentinel.port, files.context())


def test_bad_handshakes_close_only_their_connection(make_tls_sentinel: Callable[..., TLSSentinel],
                                                    files: TLSFiles) -> None:
    sentinel = make_tls_sentinel()
    with TLSConn(sentinel.port, files.context()) as established:
        assert established.call("PING") == "PONG"
        # A client that connects and never starts its handshake...
        stalled = socket.create_connection((HOST, sentinel.port), timeout=5)
        try:
            # ...one that speaks plain RESP to the TLS port (closed without an answer)...
            with socket.create_connection((HOST, sentinel.port), timeout=5) as plain:
                plain.sendall(b"PING\r\n")
                assert b"PONG" not in read_until_closed(plain, timeout=5)
            # ...and one whose certificate is refused...
            assert not tls_ping(sentinel.port, files.context(client_cert=False))
            # ...do not disturb the others, old and new.
            assert established.call("PING") == "PONG"
            assert tls_ping(sentinel.port, files.context())
        finally:
            stalled.close()
    # Both binaries log the failures the same way.
    wait_until(lambda: sentinel.log(200).count("Error accepting a client connection") >= 2, 5,
               message=lambda: "two handshake failures in the log:\n" + sentinel.log(20))


# --------------------------------------------------------------------------------------
# Start-up errors


@pytest.mark.parametrize("lines, expected", [
    (["tls-port {port}"], "No tls-cert-file configured!"),
    (["tls-port {port}", "tls-cert-file {cert}"], "No tls-key-file configured!"),
    (["tls-port {port}", "tls-cert-file {cert}", "tls-key-file {key}"],
     "Either tls-ca-cert-file or tls-ca-cert-dir must be specified"),
    (["tls-replication yes", "tls-cert-file {cert}", "tls-key-file {key}", "tls-auth-clients no"],
     "Either tls-ca-cert-file or tls-ca-cert-dir must be specified"),
    (["tls-port {port}", "tls-cert-file /nonexistent/cert.pem", "tls-key-file {key}", "tls-ca-cert-file {ca}"],
     "Failed to load certificate: /nonexistent/cert.pem"),
    (["tls-port {port}", "tls-cert-file {cert}", "tls-key-file {other_key}", "tls-ca-cert-file {ca}"],
     "Failed to load private key"),
    (["port 0"], "Configured to not listen anywhere, exiting."),
])
def test_tls_start_up_errors(files: TLSFiles, other_files: TLSFiles, lines: list[str], expected: str) -> None:
    directory = base_dir() / f"tls-startup-{free_port()}"
    directory.mkdir()
    log = directory / "sentinel.log"
    text = [f"port {free_port()}", f"bind {HOST}", f"logfile {log}"] + [
        line.format(port=free_port(), cert=files.cert, key=files.key, ca=files.ca, other_key=other_files.key)
        for line in lines]
    conf = directory / "sentinel.conf"
    conf.write_text("\n".join(text) + "\n")
    result = run_to_exit([WARDEN_BIN, str(conf)])
    assert result.returncode != 0
    logged = log.read_text() if log.exists() else ""
    assert expected in logged + result.stderr, f"log:\n{logged}\nstderr:\n{result.stderr}"


# --------------------------------------------------------------------------------------
# A topology on TLS only fails over


@pytest.mark.timeout(120)
def test_tls_only_topology_fails_over(resources: Resources, files: TLSFiles) -> None:
    """Every redis-server listens on TLS only and replicates over TLS; the sentinels too
    (port 0, tls-replication yes): discovery, the election and the failover all run over TLS."""
    topo = resources.add(TLSTopology(files, down_after_ms=1000, failover_timeout_ms=3000))
    topo.start()
    topo.wait_discovered(timeout=30)
    topo.wait_linked(timeout=15)
    # Peers found each other through hellos announcing their TLS ports.
    for sentinel in topo.sentinels:
        ports = sorted(int(p["port"]) for p in sentinel.sentinels())
        assert ports == sorted(s.port for s in topo.sentinels if s is not sentinel)

    events = resources.add(EventLog(topo.sentinels))
    old = topo.master
    killed_at = time.monotonic()
    old.kill9()
    for sentinel in topo.sentinels:
        events.wait_for("+switch-master", 30, port=sentinel.port, since=killed_at)
    new_ports = {int(s.cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")[1]) for s in topo.sentinels}
    assert len(new_ports) == 1
    new_port = new_ports.pop()
    assert new_port in {r.port for r in topo.replicas}
    new_master = next(r for r in topo.replicas if r.port == new_port)
    other = next(r for r in topo.replicas if r.port != new_port)
    wait_until(lambda: new_master.info("replication")["role"] == "master", 10, message="the promoted replica is a master")
    wait_until(lambda: (lambda i: i["role"] == "slave" and int(i["master_port"]) == new_port
                        and i["master_link_status"] == "up")(other.info("replication")),
               20, message="the other replica replicates from the new master over TLS")
    # A redis-py client finds and writes to the new master, over TLS all the way.
    discovery = redis.sentinel.Sentinel(
        [(HOST, s.port) for s in topo.sentinels], socket_timeout=5,
        sentinel_kwargs=dict(socket_timeout=5, **files.redis_kwargs()), **files.redis_kwargs())
    assert discovery.discover_master("mymaster") == (HOST, new_port)
    master = discovery.master_for("mymaster", socket_timeout=5, decode_responses=True)
    master.set("written-after-failover", "yes")
    assert master.get("written-after-failover") == "yes"


# --------------------------------------------------------------------------------------
# Certificate reload (CONFIG SET tls-*; redis-sentinel 7.0 has no CONFIG command)


def peer_certificate(port: int, context: ssl.SSLContext) -> bytes:
    with socket.create_connection((HOST, port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=HOST) as tls:
            return tls.getpeercert(binary_form=True)


def der(path: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(path.read_text())


@warden_only
def test_certificate_reload(make_tls_sentinel: Callable[..., TLSSentinel], files: TLSFiles,
                            other_files: TLSFiles) -> None:
    sentinel = make_tls_sentinel()
    both_cas = base_dir() / f"tls-both-{sentinel.port}.crt"
    both_cas.write_text(files.ca.read_text() + other_files.ca.read_text())
    trust_both = files.context(ca=both_cas)
    sentinel.trusted_ca = both_cas
    assert peer_certificate(sentinel.port, trust_both) == der(files.cert)

    with TLSConn(sentinel.port, files.context()) as before:
        assert before.call("PING") == "PONG"
        # A failed reload changes nothing.
        reply = sentinel.cmd("CONFIG", "SET", "tls-cert-file", "/nonexistent/cert.pem")
        assert reply == Error("ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - "
                              "Unable to update TLS configuration. Check server logs.")
        assert "Failed to load certificate: /nonexistent/cert.pem" in sentinel.log(20)
        assert sentinel.cmd("CONFIG", "GET", "tls-cert-file") == ["tls-cert-file", str(files.cert)]
        assert peer_certificate(sentinel.port, trust_both) == der(files.cert)

        # The new certificate and key together, and a CA file that trusts both client CAs.
        assert sentinel.cmd("CONFIG", "SET", "tls-cert-file", str(other_files.cert),
                            "tls-key-file", str(other_files.key), "tls-ca-cert-file", str(both_cas)) == "OK"
        assert peer_certificate(sentinel.port, trust_both) == der(other_files.cert)
        with pytest.raises(ssl.SSLCertVerificationError):
            TLSConn(sentinel.port, files.context())
        assert tls_ping(sentinel.port, other_files.context())
        # The connection made before the reload goes on with its session.
        assert before.call("PING") == "PONG"

    # Persisted with the usual rewrite, and used after a restart.
    text = sentinel.conf_text()
    assert f"tls-cert-file {other_files.cert}\n" in text
    assert f"tls-key-file {other_files.key}\n" in text
    assert f"tls-ca-cert-file {both_cas}\n" in text
    sentinel.restart()
    assert peer_certificate(sentinel.port, trust_both) == der(other_files.cert)

    # The same path again reloads the file: certificates rotated in place.
    shutil.copy(files.cert, other_files.cert.with_name("rotated.crt"))
    shutil.copy(files.key, other_files.key.with_name("rotated.key"))
    rotated_cert, rotated_key = other_files.cert.with_name("rotated.crt"), other_files.key.with_name("rotated.key")
    assert sentinel.cmd("CONFIG", "SET", "tls-cert-file", str(rotated_cert), "tls-key-file", str(rotated_key)) == "OK"
    shutil.copy(other_files.cert, rotated_cert)
    shutil.copy(other_files.key, rotated_key)
    assert peer_certificate(sentinel.port, trust_both) == der(files.cert)
    assert sentinel.cmd("CONFIG", "SET", "tls-cert-file", str(rotated_cert)) == "OK"
    assert peer_certificate(sentinel.port, trust_both) == der(other_files.cert)

    # tls-auth-clients applies to new connections at once.
    assert not tls_ping(sentinel.port, other_files.context(client_cert=False, ca=both_cas))
    assert sentinel.cmd("CONFIG", "SET", "tls-auth-clients", "no") == "OK"
    assert tls_ping(sentinel.port, other_files.context(client_cert=False, ca=both_cas))


@warden_only
def test_config_set_checks_every_pair_first(make_tls_sentinel: Callable[..., TLSSentinel], files: TLSFiles) -> None:
    sentinel = make_tls_sentinel()
    before = sentinel.cmd("CONFIG", "GET", "tls-*")
    assert ["tls-auth-clients", "yes"] == before[before.index("tls-auth-clients"):before.index("tls-auth-clients") + 2]
    assert sentinel.cmd("CONFIG", "SET", "tls-auth-clients", "no", "maxclients", "10") == Error(
        "ERR Unknown option or number of arguments for CONFIG SET - 'maxclients'")
    assert sentinel.cmd("CONFIG", "SET", "tls-auth-clients", "no", "tls-session-cache-size", "-1") == Error(
        "ERR CONFIG SET failed (possibly related to argument 'tls-session-cache-size') - "
        "argument must be between 0 and 2147483647 inclusive")
    assert sentinel.cmd("CONFIG", "SET", "tls-auth-clients", "no", "tls-auth-clients", "yes") == Error(
        "ERR CONFIG SET failed (possibly related to argument 'tls-auth-clients') - duplicate parameter")
    assert sentinel.cmd("CONFIG", "SET", "tls-cert-file", "") == Error(
        "ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - "
        "Unable to update TLS configuration. Check server logs.")
    assert sentinel.cmd("CONFIG", "SET", "tls-auth-clients") == Error(
        "ERR wrong number of arguments for 'config|set' command")
    assert sentinel.cmd("CONFIG", "GET", "tls-*") == before
    assert sentinel.cmd("CONFIG", "GET", "maxclients") == []


@warden_only
def test_config_set_tls_port_moves_the_listener(make_tls_sentinel: Callable[..., TLSSentinel],
                                                files: TLSFiles) -> None:
    sentinel = make_tls_sentinel()
    old_port, new_port = sentinel.port, free_port()
    with TLSConn(old_port, files.context()) as conn:
        assert conn.call("CONFIG", "SET", "tls-port", str(new_port)) == "OK"
        assert conn.call("PING") == "PONG", "connections accepted on the old port stay"
    assert tls_ping(new_port, files.context())
    assert not tls_ping(old_port, files.context())
    sentinel.port = new_port
    sentinel.close_conn()
    assert f"tls-port {new_port}\n" in sentinel.conf_text()
    # Nothing left to listen on is refused.
    assert sentinel.cmd("CONFIG", "SET", "tls-port", "0") == Error(
        "ERR CONFIG SET failed (possibly related to argument 'tls-port') - Unable to listen on this port. "
        "Check server logs.")
