"""Pytest wiring for the integration suite: time limits, fixtures, logs on failure."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from typing import Any, Callable, Iterator

import pytest

import harness
from harness import ALL_PROCESSES, PhaseTimeout, RedisServer, Resources, Sentinel, Topology, base_dir

#: Time limits per phase of a test, in seconds. The body's can be changed with
#: @pytest.mark.timeout(seconds). Setup includes module fixtures (topology start-up).
SETUP_LIMIT = 90
CALL_LIMIT = 60
TEARDOWN_LIMIT = 60


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "timeout(seconds): time limit for the test body (default 60)")
    if not (os.path.isfile(harness.WARDEN_BIN) and os.access(harness.WARDEN_BIN, os.X_OK)):
        raise pytest.UsageError(
            f"WARDEN_BIN={harness.WARDEN_BIN} is not an executable file; "
            "build it with `swift build` or point WARDEN_BIN at a sentinel binary"
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"sentinel under test: {harness.WARDEN_BIN}",
        f"reference sentinel: {harness.REFERENCE_BIN}",
        f"logs and configs: {base_dir()} (kept only with WARDEN_KEEP_TMP=1)",
    ]


@contextlib.contextmanager
def _time_limit(seconds: float, what: str) -> Iterator[None]:
    def expire(_signum: int, _frame: Any) -> None:
        raise PhaseTimeout(f"{what} took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_started_key = pytest.StashKey[float]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    item.stash[_started_key] = time.monotonic()
    with _time_limit(SETUP_LIMIT, f"setup of {item.nodeid}"):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    marker = item.get_closest_marker("timeout")
    limit = marker.args[0] if marker else CALL_LIMIT
    with _time_limit(limit, item.nodeid):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    with _time_limit(TEARDOWN_LIMIT, f"teardown of {item.nodeid}"):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    """On failure, attach the log tail of every sentinel that was running during the test."""
    report = yield
    if not report.failed:
        return report
    started = item.stash.get(_started_key, 0.0)
    relevant = [
        p for p in ALL_PROCESSES
        if isinstance(p, Sentinel) and p.process is not None
        and (p.alive() or (p.stopped_at or 0.0) >= started or p.started_at >= started)
    ]
    if relevant:
        text = "\n\n".join(p.diagnostics(30) for p in relevant)
        report.sections.append((f"sentinel logs ({report.when})", text))
    return report


@pytest.fixture
def resources() -> Iterator[Resources]:
    """Things to stop when the test ends."""
    owned = Resources()
    yield owned
    owned.close()


@pytest.fixture(scope="module")
def module_resources() -> Iterator[Resources]:
    """Things to stop when the module ends."""
    owned = Resources()
    yield owned
    owned.close()


@pytest.fixture(scope="module")
def topology(module_resources: Resources) -> Topology:
    """Master + 2 replicas + 3 sentinels under test (down-after 5000 ms), fully discovered."""
    topo = module_resources.add(Topology())
    topo.start()
    topo.wait_discovered(timeout=15)
    return topo


@pytest.fixture
def make_redis(resources: Resources) -> Callable[..., RedisServer]:
    """Start a redis-server that is stopped at the end of the test."""
    def make(**kwargs: Any) -> RedisServer:
        server = resources.add(RedisServer(**kwargs))
        server.start()
        return server
    return make


@pytest.fixture
def make_sentinel(resources: Resources) -> Callable[..., Sentinel]:
    """Start a sentinel (under test unless binary= says otherwise), stopped at test end.
    `before_start(sentinel)` runs first (to put files in its directory)."""
    def make(before_start: Callable[[Sentinel], None] | None = None, **kwargs: Any) -> Sentinel:
        sentinel = resources.add(Sentinel(**kwargs))
        if before_start is not None:
            before_start(sentinel)
        sentinel.start()
        return sentinel
    return make
