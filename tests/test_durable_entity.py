"""The counter entity, driven through the registered entity function with operation batches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import function_app
from agent_memory.core.due import Thresholds
from agent_memory.durable.entity import MAX_RANGES, CounterState, ThreadCounter, load_state
from agent_memory.durable.names import COMPLETE, COUNTER_ENTITY, FORGET, GET, RECORD, RELEASE
from agent_memory.durable.timing import (
    CLAIM_TIMEOUT,
    HOLD_OFF,
    IDLE_AFTER,
    MAX_HOLD_OFF,
    QUARANTINE_AFTER,
    SETTLE_AFTER,
)
from tests.durable.replay import EntityHost, ReplayHost

NOW = datetime(2026, 1, 1, tzinfo=UTC)
EVERY_TURN = Thresholds(
    fact_extraction_every_n=1, dedup_every_n=0, thread_summary_every_n=0, user_summary_every_n=0
)


@pytest.fixture
def entities() -> EntityHost:
    return ReplayHost(function_app.app).entities


def turns(thread: str, *lsns: int) -> list[dict[str, Any]]:
    return [{"thread_id": thread, "turn_id": f"{thread}-{lsn}", "lsn": lsn} for lsn in lsns]


def record(
    instance: str,
    batch: Sequence[dict[str, Any]],
    thresholds: Thresholds = EVERY_TURN,
    at: datetime = NOW,
) -> tuple[str, dict[str, Any]]:
    return RECORD, {
        "instance_id": instance,
        "now": at.isoformat(),
        "turns": list(batch),
        "thresholds": thresholds.model_dump(),
    }


def complete(
    instance: str,
    done: Sequence[dict[str, Any]] = (),
    failed: Sequence[dict[str, Any]] = (),
    at: datetime = NOW,
) -> tuple[str, dict[str, Any]]:
    return COMPLETE, {
        "instance_id": instance,
        "now": at.isoformat(),
        "done": list(done),
        "failed": list(failed),
    }


def call(entities: EntityHost, operation: tuple[str, dict[str, Any]], user: str = "dana") -> Any:
    return entities.call(COUNTER_ENTITY, user, *operation)


def keys(work: dict[str, Any]) -> list[str]:
    return [f"{s['step']}/{s['thread_id']}" if s["thread_id"] else s["step"] for s in work["steps"]]


def test_counts_per_thread_and_per_user_and_hands_out_due_steps(entities: EntityHost) -> None:
    thresholds = Thresholds(
        fact_extraction_every_n=2, dedup_every_n=2, thread_summary_every_n=3, user_summary_every_n=4
    )
    batch = [*turns("kitchen", 1, 2), *turns("garden", 3)]
    work = call(entities, record("a", batch, thresholds))
    assert work["counted"] == 3 and keys(work) == ["extract_memories/kitchen"]
    call(entities, complete("a", done=work["steps"]))

    work = call(entities, record("b", [*turns("garden", 4), *turns("kitchen", 5)], thresholds))
    assert keys(work) == [
        "extract_memories/garden",
        "reconcile",
        "summarize_user",
        "summarize_thread/kitchen",
    ]
    state = call(entities, (GET, {}))
    assert state["user_turns"] == 5 and state["extractions"] == 2
    assert {t: c["turns"] for t, c in state["threads"].items()} == {"kitchen": 3, "garden": 2}
    assert set(state["in_flight"]) == set(keys(work))
    assert state["last_owner"] == "durable"


def test_due_steps_fire_at_each_threshold_like_the_in_process_driver(
    entities: EntityHost,
) -> None:
    fired: dict[str, list[int]] = {}
    for lsn in range(1, 21):
        work = call(entities, record(f"i{lsn}", turns("kitchen", lsn), Thresholds()))
        for key in keys(work):
            fired.setdefault(key, []).append(lsn)
        call(entities, complete(f"i{lsn}", done=work["steps"]))
    assert fired == {
        "extract_memories/kitchen": list(range(1, 21)),
        "reconcile": [5, 10, 15, 20],
        "summarize_thread/kitchen": [10, 20],
        "summarize_user": [20],
    }


def test_a_repeated_or_regrouped_batch_is_counted_once(entities: EntityHost) -> None:
    feed = [*turns("kitchen", 1, 2, 3, 4, 5, 6)]
    assert call(entities, record("a", feed[:4]))["counted"] == 4
    call(entities, complete("a", done=[{"step": "extract_memories", "thread_id": "kitchen"}]))
    repeated = call(entities, record("a-again", feed[:4]))
    assert repeated == {
        "steps": [],
        "counted": 0,
        "previous_owner": "durable",
        "wake_at": None,
        "quarantined": [],
    }
    regrouped = call(entities, record("b", feed[2:]))
    assert regrouped["counted"] == 2
    call(entities, complete("b", done=regrouped["steps"]))
    assert call(entities, record("c", feed))["counted"] == 0
    assert call(entities, (GET, {}))["threads"]["kitchen"]["turns"] == 6


def test_batches_recorded_out_of_order_are_each_counted(entities: EntityHost) -> None:
    # Orchestrations of consecutive batches may reach the entity in either order.
    batches = [turns("kitchen", 10 * i + 1, 10 * i + 5) for i in range(MAX_RANGES)]
    for i, batch in enumerate(reversed(batches)):
        assert call(entities, record(f"o{i}", batch))["counted"] == 2
    assert call(entities, record("again", [t for b in batches for t in b]))["counted"] == 0
    thread = call(entities, (GET, {}))["threads"]["kitchen"]
    assert thread["turns"] == 2 * MAX_RANGES
    assert len(thread["ranges"]) <= MAX_RANGES


def test_contiguous_ranges_fold_into_the_floor() -> None:
    thread = ThreadCounter()
    thread.add_range(1, 3)
    thread.add_range(7, 9)
    assert (thread.floor, thread.ranges) == (3, [(7, 9)])
    thread.add_range(4, 6)
    assert (thread.floor, thread.ranges) == (9, [])
    for i in range(MAX_RANGES + 2):
        thread.add_range(20 + 10 * i, 22 + 10 * i)
    assert len(thread.ranges) == MAX_RANGES and thread.floor == 32
    assert thread.covers(31) and not thread.covers(33) and thread.covers(42)


def test_a_step_is_claimed_by_one_orchestration_at_a_time(entities: EntityHost) -> None:
    first = call(entities, record("a", turns("kitchen", 1)))
    assert keys(first) == ["extract_memories/kitchen"]
    second = call(entities, record("b", turns("kitchen", 2)))
    assert second["counted"] == 1 and second["steps"] == []  # queued: "a" holds it
    state = call(entities, (GET, {}))
    assert state["in_flight"]["extract_memories/kitchen"]["instance_id"] == "a"
    assert [s["step"] for s in state["pending"]] == ["extract_memories"]
    again = call(entities, complete("a", done=first["steps"]))
    assert keys(again) == ["extract_memories/kitchen"]  # what came due meanwhile goes to "a"
    assert call(entities, complete("a", done=again["steps"]))["steps"] == []
    state = call(entities, (GET, {}))
    assert state["in_flight"] == {} and state["pending"] == []


def test_a_failed_step_is_held_off_and_its_holder_told_when_to_come_back(
    entities: EntityHost,
) -> None:
    work = call(entities, record("a", turns("kitchen", 1)))
    finished = call(entities, complete("a", failed=work["steps"]))
    assert finished["steps"] == []
    assert finished["wake_at"] == (NOW + HOLD_OFF).isoformat().replace("+00:00", "Z")
    state = call(entities, (GET, {}))
    assert state["drainer"] == "a" and state["health"]["extract_memories/kitchen"]["failures"] == 1
    assert [s["step"] for s in state["pending"]] == ["extract_memories"]
    other = call(entities, record("b", turns("garden", 2), Thresholds(fact_extraction_every_n=5)))
    assert other["steps"] == [] and other["wake_at"] is None  # "a" drains, "b" may finish
    later = call(entities, record("c", turns("garden", 3), at=NOW + HOLD_OFF))
    assert keys(later) == ["extract_memories/kitchen", "extract_memories/garden"]
    call(entities, complete("c", done=later["steps"]))
    state = call(entities, (GET, {}))
    assert state["health"] == {} and state["pending"] == []


def test_a_poison_step_is_quarantined_and_never_blocks_other_steps(entities: EntityHost) -> None:
    at = NOW
    for n in range(1, QUARANTINE_AFTER + 1):
        work = call(entities, record(f"o{n}", turns("kitchen", n), at=at))
        assert keys(work) == ["extract_memories/kitchen"]
        call(entities, complete(f"o{n}", failed=work["steps"], at=at))
        hold = call(entities, (GET, {}))["health"]["extract_memories/kitchen"]
        assert hold["failures"] == n and hold["quarantined"] == (n == QUARANTINE_AFTER)
        at += MAX_HOLD_OFF
    state = call(entities, (GET, {}))
    assert state["pending"] == [] and state["drainer"] is None
    # the quarantined thread counts its turns but hands out nothing; other threads run
    work = call(entities, record("p", [*turns("kitchen", 99), *turns("garden", 1)], at=at))
    assert keys(work) == ["extract_memories/garden"] and work["counted"] == 2
    call(entities, complete("p", done=work["steps"], at=at))
    call(entities, (RELEASE, {"keys": ["extract_memories/kitchen"]}))
    assert keys(call(entities, record("q", turns("garden", 2), at=at))) == [
        "extract_memories/kitchen",
        "extract_memories/garden",
    ]


def test_a_claim_of_a_lost_orchestration_expires(entities: EntityHost) -> None:
    call(entities, record("lost", turns("kitchen", 1)))
    soon = NOW + CLAIM_TIMEOUT / 2
    assert call(entities, record("b", turns("kitchen", 2), at=soon))["steps"] == []
    late = NOW + CLAIM_TIMEOUT + timedelta(seconds=1)
    work = call(entities, record("c", turns("kitchen", 3), at=late))
    assert keys(work) == ["extract_memories/kitchen"]
    call(entities, complete("lost", done=[{"step": "extract_memories", "thread_id": "kitchen"}]))
    assert call(entities, (GET, {}))["in_flight"]["extract_memories/kitchen"]["instance_id"] == "c"


def test_state_round_trips_and_each_user_has_its_own_entity(entities: EntityHost) -> None:
    results = entities.run(
        COUNTER_ENTITY,
        "dana",
        [record("a", turns("kitchen", 1, 2)), complete("a"), (GET, {})],
    )
    assert [r["isError"] for r in results] == [False, False, False]
    state = entities.state(COUNTER_ENTITY, "dana")
    assert CounterState.model_validate(state).model_dump(mode="json") == state
    assert state["user_turns"] == 2 and state["pending"][0]["thread_id"] == "kitchen"
    assert entities.state(COUNTER_ENTITY, "lee") is None
    assert call(entities, record("x", turns("kitchen", 1)), user="lee")["counted"] == 1


def test_bad_operations_fail_without_touching_the_state(entities: EntityHost) -> None:
    call(entities, record("a", turns("kitchen", 1)))
    before = entities.state(COUNTER_ENTITY, "dana")
    (unknown,) = entities.run(COUNTER_ENTITY, "dana", [("explode", {})])
    assert unknown["isError"] and "unknown operation" in unknown["result"]
    with pytest.raises(RuntimeError, match="lsn"):
        call(entities, record("b", [{"thread_id": "kitchen", "turn_id": "t", "lsn": 0}]))
    assert entities.state(COUNTER_ENTITY, "dana") == before


def test_a_late_batch_below_many_counted_ones_still_counts() -> None:
    host = ReplayHost(function_app.app).entities
    kitchen_summary = Thresholds(
        fact_extraction_every_n=0,
        dedup_every_n=0,
        thread_summary_every_n=10,
        user_summary_every_n=0,
    )
    handed: list[str] = []
    for i, lsn in enumerate([*range(20, 101, 10), 10]):  # 20..100, then 10
        work = call(host, record(f"o{i}", turns("kitchen", lsn), kitchen_summary))
        assert work["counted"] == 1
        handed += keys(work)
    assert handed == ["summarize_thread/kitchen"]  # the 10th turn makes the summary due
    assert call(host, (GET, {}))["threads"]["kitchen"]["turns"] == 10


def test_the_same_turn_id_in_two_threads_counts_twice(entities: EntityHost) -> None:
    both = [
        {"thread_id": "kitchen", "turn_id": "1", "lsn": 5},
        {"thread_id": "garden", "turn_id": "1", "lsn": 5},
    ]
    assert call(entities, record("a", both))["counted"] == 2
    assert call(entities, record("b", both))["counted"] == 0


def test_turns_sharing_an_lsn_are_told_apart_by_their_seq(entities: EntityHost) -> None:
    # one transactional batch: three turns, one _lsn; the store's seq tells them apart
    batch = [
        {"thread_id": "kitchen", "turn_id": f"t{i}", "lsn": 40, "seq": 100 + i} for i in range(3)
    ]
    assert call(entities, record("a", batch[:2]))["counted"] == 2
    assert call(entities, record("b", batch[1:]))["counted"] == 1
    assert call(entities, (GET, {}))["threads"]["kitchen"]["turns"] == 3


def test_a_quiet_thread_settles_and_idle_threads_are_evicted(entities: EntityHost) -> None:
    call(entities, record("a", turns("kitchen", 1, 5)))
    call(entities, complete("a", done=[{"step": "extract_memories", "thread_id": "kitchen"}]))
    call(entities, record("b", turns("kitchen", 9)))
    assert call(entities, (GET, {}))["threads"]["kitchen"]["ranges"] == [[9, 9]]
    call(entities, complete("b", done=[{"step": "extract_memories", "thread_id": "kitchen"}]))
    later = NOW + SETTLE_AFTER
    call(entities, record("c", turns("garden", 1), at=later))
    kitchen = call(entities, (GET, {}))["threads"]["kitchen"]
    assert (kitchen["floor"], kitchen["ranges"]) == (9, [])
    call(entities, complete("c", done=[{"step": "extract_memories", "thread_id": "garden"}]))
    call(entities, record("d", turns("garden", 2), at=NOW + IDLE_AFTER))
    state = call(entities, (GET, {}))
    assert set(state["threads"]) == {"garden"} and state["evicted_threads"] == 1


def test_state_of_the_first_schema_is_upgraded() -> None:
    old = {
        "version": 1,
        "user_turns": 3,
        "extractions": 1,
        "threads": {"kitchen": {"turns": 3, "high_water": 30, "ranges": [[50, 60]]}},
        "pending": [],
        "in_flight": {},
        "last_owner": "durable",
    }
    state = load_state(old)
    assert state.version == 2 and state.threads["kitchen"].floor == 30
    assert state.threads["kitchen"].covers(55) and not state.threads["kitchen"].covers(40)
    with pytest.raises(ValueError, match="newer"):
        load_state({"version": 99})


def test_forget_deletes_the_entity(entities: EntityHost) -> None:
    call(entities, record("a", turns("kitchen", 1)))
    (result,) = entities.run(COUNTER_ENTITY, "dana", [(FORGET, None)])
    assert not result["isError"]
    assert entities.state(COUNTER_ENTITY, "dana") is None


def test_a_dropped_thread_redelivered_late_is_not_counted_twice(entities: EntityHost) -> None:
    def seq_turns(thread: str, *seqs: int) -> list[dict[str, Any]]:
        return [{"thread_id": thread, "turn_id": f"{thread}-{s}", "lsn": 1, "seq": s} for s in seqs]

    call(entities, record("a", seq_turns("kitchen", 10, 11)))
    call(entities, complete("a", done=[{"step": "extract_memories", "thread_id": "kitchen"}]))
    later = NOW + IDLE_AFTER
    call(entities, record("b", seq_turns("garden", 50), at=later))  # kitchen is dropped
    state = call(entities, (GET, {}))
    assert "kitchen" not in state["threads"] and state["evicted_seq"] == 11
    assert call(entities, record("c", seq_turns("kitchen", 10, 11), at=later))["counted"] == 0
    assert call(entities, record("d", seq_turns("kitchen", 5, 12), at=later))["counted"] == 1
