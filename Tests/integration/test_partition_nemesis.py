"""Random cuts and heals, one after another (opt-in: WARDEN_NEMESIS_ROUNDS=N).

Each round cuts one random host off, both ways or one way, for a random time, then heals
and waits until the set has converged (one master, named by every sentinel, the others
replicating from it). All along, two safety rules are checked from the events and the
sentinels' replies: no sentinel votes for two candidates in one epoch, and two sentinels
that report the same config epoch name the same master (GET-MASTER-ADDR-BY-NAME, which
names the promoted replica from the moment the leader bumps the config epoch). The seed is printed
(WARDEN_NEMESIS_SEED=N repeats a run's choices; the timing of the processes is not
repeatable).
"""

from __future__ import annotations

import os
import random
import time

import pytest

import netns
from test_partition import HOSTS, Spread, wait_converged

ROUNDS = int(os.environ.get("WARDEN_NEMESIS_ROUNDS") or 0)

pytestmark = [
    netns.requires_netns("partition nemesis"),
    pytest.mark.skipif(ROUNDS <= 0, reason="opt-in: set WARDEN_NEMESIS_ROUNDS=N to run N random cuts"),
]

lab = netns.lab_fixture(hosts=len(HOSTS))


def check_safety(spread: Spread, since: float) -> None:
    votes: dict[tuple[int, int], str] = {}
    for event in spread.events.events("+vote-for-leader"):
        candidate, epoch = event.data.split()[:2]
        previous = votes.setdefault((event.port, int(epoch)), candidate)
        assert previous == candidate, (f"sentinel {event.port} voted for {previous} and {candidate} "
                                       f"in epoch {epoch}\n" + spread.describe(since))
    by_epoch: dict[str, tuple[str, int]] = {}
    for sentinel in spread.sentinels.values():
        try:
            before = sentinel.master_address()
            epoch = sentinel.master()["config-epoch"]
            after = sentinel.master_address()
        except Exception:  # noqa: BLE001 - a reply lost to a cut is not a violation
            sentinel.close_conn()
            continue
        if before != after:
            continue  # switched between the two reads
        seen = by_epoch.setdefault(epoch, after)
        assert seen == after, f"config epoch {epoch} names {seen} and {after}\n" + spread.describe(since)


@pytest.mark.timeout(3600)
def test_random_cuts_keep_one_master(lab, resources) -> None:
    seed = int(os.environ.get("WARDEN_NEMESIS_SEED") or random.randrange(2**32))
    print(f"\nWARDEN_NEMESIS_SEED={seed}")
    rng = random.Random(seed)
    spread = resources.add(Spread(lab, quorum=2)).start()
    started = time.monotonic()
    try:
        for round_number in range(ROUNDS):
            host = rng.choice(HOSTS)
            outgoing, incoming = rng.choice([(True, True), (True, False), (False, True)])
            seconds = rng.uniform(0.3, 8.0)
            since = time.monotonic()
            lab.cut(host, outgoing=outgoing, incoming=incoming)
            end = since + seconds
            while time.monotonic() < end:
                check_safety(spread, started)
                time.sleep(0.1)
            lab.heal()
            master = wait_converged(spread, started, timeout=90)
            check_safety(spread, started)
            print(f"round {round_number + 1}: host {host} out={outgoing} in={incoming} for {seconds:.1f} s; "
                  f"master {master[0]}:{master[1]} after {time.monotonic() - since:.1f} s")
            if os.environ.get("WARDEN_NEMESIS_VERBOSE"):
                print(spread.events.describe(since))
    finally:
        lab.heal()
