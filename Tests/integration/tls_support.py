"""TLS for the integration tests: certificates made with the `openssl` command line, and
redis-server / sentinel processes that listen on TLS only (`port 0`, `tls-port`).

The processes keep the harness's interface (`port`, `conn()`, `client()`, `cmd()`, ...),
so Topology helpers, EventLog and the sentinel views work unchanged; `port` is the TLS
port and every connection the test makes is a verified TLS connection.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

import redis

from harness import HOST, Conn, Error, Monitor, RedisServer, Sentinel, Topology, ping


@dataclass(frozen=True)
class TLSFiles:
    """A CA and the certificates it signed, all for 127.0.0.1."""

    ca: Path
    cert: Path          # server certificate (also what redis-server presents as a client)
    key: Path
    client_cert: Path
    client_key: Path

    def context(self, client_cert: bool = True, ca: Optional[Path] = None) -> ssl.SSLContext:
        """A client context that verifies the server against `ca` (default: ours)."""
        context = ssl.create_default_context(cafile=str(ca or self.ca))
        context.check_hostname = False
        if client_cert:
            context.load_cert_chain(str(self.client_cert), str(self.client_key))
        return context

    def redis_kwargs(self, client_cert: bool = True) -> dict[str, Any]:
        """redis-py's options for a TLS connection with these files."""
        options: dict[str, Any] = dict(ssl=True, ssl_ca_certs=str(self.ca), ssl_cert_reqs="required",
                                       ssl_check_hostname=False)
        if client_cert:
            options.update(ssl_certfile=str(self.client_cert), ssl_keyfile=str(self.client_key))
        return options

    def cli_args(self) -> list[str]:
        """redis-cli's options for a TLS connection with these files."""
        return ["--tls", "--cacert", str(self.ca), "--cert", str(self.client_cert), "--key", str(self.client_key)]

    def server_lines(self) -> list[str]:
        """The tls-* file directives for a server or sentinel config."""
        return [f"tls-cert-file {self.cert}", f"tls-key-file {self.key}", f"tls-ca-cert-file {self.ca}"]


def _openssl(directory: Path, *args: str) -> None:
    result = subprocess.run(["openssl", *args], cwd=directory, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{result.stderr}")


def make_certificates(directory: Path, name: str = "ca", rsa: bool = False, san: str = "IP:127.0.0.1") -> TLSFiles:
    """A new CA `name` in `directory` with a server and a client certificate (EC P-256 keys,
    or RSA 2048 with `rsa`) for the subject alternative names `san`."""
    directory.mkdir(parents=True, exist_ok=True)
    key_options = (["-newkey", "rsa:2048", "-nodes"] if rsa
                   else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
    _openssl(directory, "req", "-x509", *key_options, "-keyout", f"{name}.key", "-out", f"{name}.crt",
             "-days", "3", "-subj", f"/CN=Warden integration test {name}")
    for leaf in ("server", "client"):
        base = f"{name}-{leaf}"
        (directory / f"{base}.ext").write_text(f"subjectAltName={san}\n")
        _openssl(directory, "req", *key_options, "-keyout", f"{base}.key", "-out", f"{base}.csr",
                 "-subj", f"/CN={base}")
        _openssl(directory, "x509", "-req", "-in", f"{base}.csr", "-CA", f"{name}.crt", "-CAkey", f"{name}.key",
                 "-CAcreateserial", "-out", f"{base}.crt", "-days", "3", "-extfile", f"{base}.ext")
    return TLSFiles(ca=directory / f"{name}.crt",
                    cert=directory / f"{name}-server.crt", key=directory / f"{name}-server.key",
                    client_cert=directory / f"{name}-client.crt", client_key=directory / f"{name}-client.key")


class TLSConn(Conn):
    """A harness Conn over a verified TLS connection."""

    def __init__(self, port: int, context: ssl.SSLContext, host: str = HOST, timeout: float = 5.0) -> None:
        raw = socket.create_connection((host, port), timeout=timeout)
        try:
            self.sock = context.wrap_socket(raw, server_hostname=host)
        except BaseException:
            raw.close()
            raise
        self.buffer = b""


def tls_ping(port: int, context: ssl.SSLContext, accept_noauth: bool = False) -> bool:
    """True if the TLS port answers PING with PONG (or NOAUTH, if accepted)."""
    return ping(port, accept_noauth, connect=lambda: TLSConn(port, context, timeout=1.0))


class TLSRedisServer(RedisServer):
    """A redis-server on TLS only (`port 0`), replicating over TLS, requiring client certificates."""

    def __init__(self, files: TLSFiles, replicaof: Optional[int] = None, extra_args: Iterable[str] = ()) -> None:
        super().__init__(replicaof=replicaof, extra_args=extra_args)
        self.files = files

    def argv(self) -> list[str]:
        argv = super().argv()
        at = argv.index("--port")
        argv[at:at + 2] = ["--port", "0", "--tls-port", str(self.port)]
        return argv + [
            "--tls-cert-file", str(self.files.cert), "--tls-key-file", str(self.files.key),
            "--tls-ca-cert-file", str(self.files.ca), "--tls-replication", "yes", "--tls-auth-clients", "yes",
        ]

    def is_ready(self) -> bool:
        return tls_ping(self.port, self.files.context())

    def client(self, **kwargs: Any) -> redis.Redis:
        options = dict(host=HOST, port=self.port, decode_responses=True, socket_timeout=5,
                       **self.files.redis_kwargs())
        options.update(kwargs)
        return redis.Redis(**options)


class TLSSentinel(Sentinel):
    """A sentinel whose port (`self.port`) is its tls-port; `port 0` unless `plain_port`.

    `extra` lines come after the generated tls-* lines, so they can override them. The
    test's own connections present `files`' client certificate and trust `trusted_ca`
    (default: `files`' CA).
    """

    def __init__(self, files: TLSFiles, masters: Iterable[Monitor] = (), *, plain_port: Optional[int] = None,
                 replication: bool = True, extra: Iterable[str] = (), binary: Optional[str] = None,
                 conf_text: str = "") -> None:
        super().__init__(masters=masters, extra=extra, binary=binary, conf_text=conf_text)
        self.files = files
        self.plain_port = plain_port
        self.replication = replication
        self.trusted_ca: Optional[Path] = None

    def context(self) -> ssl.SSLContext:
        return self.files.context(ca=self.trusted_ca)

    def header_lines(self) -> list[str]:
        return [f"port {self.plain_port or 0}", f"tls-port {self.port}", f"bind {HOST}",
                f"logfile {self.log_path()}", *self.files.server_lines(),
                f"tls-replication {'yes' if self.replication else 'no'}"]

    def is_ready(self) -> bool:
        return tls_ping(self.port, self.context(), accept_noauth=True)

    def conn(self, protocol: int = 2) -> Conn:
        conn = TLSConn(self.port, self.context())
        if protocol == 3:
            reply = conn.call("HELLO", "3")
            assert not isinstance(reply, Error), f"HELLO 3 failed on {self.describe()}: {reply}"
        return conn

    def client(self, protocol: int = 2, **kwargs: Any) -> redis.Redis:
        options = dict(host=HOST, port=self.port, decode_responses=True, socket_timeout=5, protocol=protocol,
                       **self.files.redis_kwargs())
        if self.trusted_ca:
            options["ssl_ca_certs"] = str(self.trusted_ca)
        options.update(kwargs)
        return redis.Redis(**options)


class TLSTopology(Topology):
    """A Topology whose redis-servers and sentinels all listen on TLS only, with
    `tls-replication yes` everywhere: every link between them is TLS."""

    def __init__(self, files: TLSFiles, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.files = files

    def new_redis(self, replicaof: Optional[int] = None) -> RedisServer:
        return TLSRedisServer(self.files, replicaof=replicaof)

    def new_sentinel(self) -> Sentinel:
        return TLSSentinel(self.files, masters=[self.monitor()], extra=self.extra, binary=self.binary)
