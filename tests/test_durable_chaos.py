"""Chaos, CI-sized: redelivered, regrouped, reordered batches; failing and duplicated activity
attempts; a poison thread; overlapping and crashed orchestrations. The full size runs in
``bench/durable_chaos.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.durable.chaos import comparable, run_chaos
from tests.support.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.filterwarnings(
    "ignore:azure.functions df_loads was called without expected_type:DeprecationWarning"
)

USERS, THREADS, TURNS = 5, 20, 20
#: The entity state bound the design states: 2 KB plus 400 bytes per tracked thread.
STATE_BOUND = 2_048 + 400 * THREADS


async def test_chaos_counts_every_turn_once_and_matches_the_in_process_run(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    report, durable, in_process = await run_chaos(
        openai_server, tmp_path, users=USERS, threads=THREADS, turns=TURNS
    )
    print(report.figures())
    assert report.redelivered and report.regrouped and report.max_running_per_user >= 2
    assert report.activity_failures > 0
    # every turn counted once, per user and per thread
    assert report.counted == {f"user-{u}": THREADS * TURNS for u in range(USERS)}
    for state in report.states.values():
        assert {t: c["turns"] for t, c in state["threads"].items()} == {
            f"thread-{t}": TURNS for t in range(THREADS)
        }
    # nothing pending or claimed; only the poison thread's extraction is quarantined
    for user, state in report.states.items():
        assert state["pending"] == [] and state["in_flight"] == {} and state["drainer"] is None
        quarantined = {k for k, h in state["health"].items() if h["quarantined"]}
        assert set(state["health"]) == quarantined
        assert quarantined == ({"extract_memories/thread-1"} if user == "user-0" else set())
    assert report.backlog == ["user-0/thread-1"]
    # the same memories as the in-process run of the same conversation, none twice
    for user in in_process:
        assert comparable(durable[user]) == comparable(in_process[user])
        live = [m.content_hash for m in durable[user] if m.superseded_by is None]
        assert len(live) == len(set(live))
    assert report.max_state_bytes <= STATE_BOUND
