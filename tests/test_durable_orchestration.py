"""The orchestrator replayed through the real azure-functions-durable code, activities for real."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent_memory.durable import orchestration
from agent_memory.durable.names import ORCHESTRATOR
from agent_memory.durable.timing import HOLD_OFF, MAX_ATTEMPTS, QUARANTINE_AFTER
from tests.durable.replay import (
    CALL_ACTIVITY_WITH_RETRY,
    CALL_ENTITY,
    EVENT_RAISED,
    EVENT_SENT,
    TASK_COMPLETED,
    TASK_FAILED,
    TASK_SCHEDULED,
    TIMER_CREATED,
    TIMER_FIRED,
    OrchestrationRun,
)
from tests.durable.rig import DurableRig, documents
from tests.support.openai_server import FakeOpenAIServer, Fault
from tests.test_pipeline import CONVERSATION, RULES, answer

pytestmark = pytest.mark.filterwarnings(
    # The durable SDK decodes the results of retried activities without their expected type.
    "ignore:azure.functions df_loads was called without expected_type:DeprecationWarning"
)

ONLY_EXTRACTION = {"THREAD_SUMMARY_EVERY_N": "0", "USER_SUMMARY_EVERY_N": "0", "DEDUP_EVERY_N": "0"}
ONE_ATTEMPT_FAILS = [Fault.server_error(500, retry_after=0.01)] * 3  # the openai client retries 2x


def replays_identically(rig: DurableRig, run: OrchestrationRun) -> bool:
    return rig.host.replay_final(ORCHESTRATOR, run, rig.starter.started[run.instance_id]) == (
        run.state
    )


@pytest.fixture
async def rig(openai_server: FakeOpenAIServer, db_path: Path) -> AsyncIterator[DurableRig]:
    openai_server.script(answer)
    opened = DurableRig(openai_server, db_path, DEDUP_EVERY_N="1", USER_SUMMARY_EVERY_N="10")
    yield opened
    await opened.close()


@pytest.fixture
async def backlog_rig(openai_server: FakeOpenAIServer, db_path: Path) -> AsyncIterator[DurableRig]:
    """Extraction every 10 turns; ``add_backlog`` writes 10 turns of one model batch each."""
    openai_server.script(answer)
    opened = DurableRig(openai_server, db_path, FACT_EXTRACTION_EVERY_N="10", **ONLY_EXTRACTION)
    yield opened
    await opened.close()


async def add_backlog(rig: DurableRig) -> list[Any]:
    """Ten long turns in ``kitchen``: ten model batches for one extraction step."""
    long = [("user", f"Note {i}: " + "the garden needs water. " * 400) for i in range(10)]
    return await rig.add("kitchen", long)


@pytest.fixture
async def extraction_rig(
    openai_server: FakeOpenAIServer, db_path: Path
) -> AsyncIterator[DurableRig]:
    openai_server.script(answer)
    opened = DurableRig(openai_server, db_path, **ONLY_EXTRACTION)
    yield opened
    await opened.close()


async def test_a_batch_becomes_memories_summaries_and_watermarks(rig: DurableRig) -> None:
    turns = await rig.add("kitchen", CONVERSATION)
    (run,) = await rig.deliver(documents(turns))

    assert run.done and run.output["counted"] == len(CONVERSATION) and run.output["failed"] == []
    assert [s["step"] for s in run.output["done"]] == [
        "extract_memories",
        "reconcile",
        "summarize_thread",
        "summarize_user",
    ]
    client, last = rig.client, turns[-1].seq
    memories = {m.content: m for m in await client.get_memories("dana", include_superseded=True)}
    assert set(memories) == {rule[2] for rule in RULES}
    steak = memories["Dana ordered a ribeye steak and loved it."]
    assert memories["Dana is vegetarian."].superseded_by == steak.id
    assert await client.store.get_watermark("dana", "kitchen", "extract_memories") == last
    thread = await client.get_thread_summary("dana", "kitchen")
    assert thread is not None and thread.covers_up_to == last
    assert (await client.get_user_summary("dana")) is not None
    counter = rig.counter()
    assert counter["user_turns"] == 10 and counter["in_flight"] == {} and counter["pending"] == []

    # The history is the host's: entity call and answer, every activity scheduled and done.
    assert len(run.events(EVENT_SENT)) == len(run.events(EVENT_RAISED)) == 2
    assert len(run.events(TASK_SCHEDULED)) == len(run.events(TASK_COMPLETED)) == 4
    retried = [a for a in run.actions if a["actionType"] == CALL_ACTIVITY_WITH_RETRY]
    assert {a["functionName"] for a in retried} == {
        "extract_memories",
        "reconcile",
        "summarize_thread",
        "summarize_user",
    }
    assert retried[0]["retryOptions"]["maxNumberOfAttempts"] == MAX_ATTEMPTS
    assert retried[0]["retryOptions"]["backoffCoefficient"] > 1
    assert [a["operation"] for a in run.actions if a["actionType"] == CALL_ENTITY] == [
        "record",
        "complete",
    ]
    small = [json.loads(a["input"]) for a in run.actions]
    assert all("content" not in json.dumps(i) and len(json.dumps(i)) < 2_000 for i in small)


async def test_replaying_the_final_history_gives_the_same_actions(rig: DurableRig) -> None:
    turns = await rig.add("kitchen", CONVERSATION)
    (run,) = await rig.deliver(documents(turns))
    payload = rig.starter.started[run.instance_id]
    calls = len(rig.host.calls)
    again = rig.host.replay_final(ORCHESTRATOR, run, payload)
    assert again == run.state
    assert len(rig.host.calls) == calls  # replay runs no activity


async def test_threads_of_a_batch_are_extracted_in_parallel(extraction_rig: DurableRig) -> None:
    kitchen = await extraction_rig.add("kitchen", CONVERSATION[:3])
    garden = await extraction_rig.add("garden", CONVERSATION[3:6])
    (run,) = await extraction_rig.deliver(documents([*kitchen, *garden]))
    extractions = [a for a in run.actions if a["actionType"] == CALL_ACTIVITY_WITH_RETRY]
    assert [json.loads(a["input"])["thread_id"] for a in extractions] == ["kitchen", "garden"]
    # Both were scheduled in one episode (one task_all), before either completed.
    scheduled = [i for i, e in enumerate(run.history) if e["EventType"] == TASK_SCHEDULED]
    completed = [i for i, e in enumerate(run.history) if e["EventType"] == TASK_COMPLETED]
    assert max(scheduled) < min(completed)
    store = extraction_rig.client.store
    for thread, turns in (("kitchen", kitchen), ("garden", garden)):
        assert await store.get_watermark("dana", thread, "extract_memories") == turns[-1].seq


async def test_a_failed_attempt_is_retried_and_then_succeeds(
    extraction_rig: DurableRig, openai_server: FakeOpenAIServer
) -> None:
    openai_server.queue(*ONE_ATTEMPT_FAILS)
    turns = await extraction_rig.add("kitchen", CONVERSATION[:1])
    (run,) = await extraction_rig.deliver(documents(turns))

    assert [c.ok for c in extraction_rig.host.calls] == [False, True]
    assert [e["EventType"] for e in run.history if e["EventType"] in (4, 5, 6, 10, 11)] == [
        TASK_SCHEDULED,
        TASK_FAILED,
        TIMER_CREATED,
        TIMER_FIRED,
        TASK_SCHEDULED,
        TASK_COMPLETED,
    ]
    assert "ModelError" in run.events(TASK_FAILED)[0]["Reason"]
    assert run.output["failed"] == [] and run.output["done"][0]["step"] == "extract_memories"
    memories = await extraction_rig.client.get_memories("dana")
    assert [m.content for m in memories] == ["Dana is vegetarian."]
    assert replays_identically(extraction_rig, run)


async def test_a_step_failing_every_attempt_is_held_off_then_run_by_the_same_orchestration(
    extraction_rig: DurableRig, openai_server: FakeOpenAIServer
) -> None:
    openai_server.queue(*ONE_ATTEMPT_FAILS * MAX_ATTEMPTS)
    first = await extraction_rig.add("kitchen", CONVERSATION[:1])
    started = extraction_rig.host.now
    (run,) = await extraction_rig.deliver(documents(first))

    assert run.done and run.output["waits"] == 1 and run.output["rounds"] == 2
    assert [f["step"]["step"] for f in run.output["failed"]] == ["extract_memories"]
    assert [d["step"] for d in run.output["done"]] == ["extract_memories"]
    assert len(run.events(TASK_FAILED)) == MAX_ATTEMPTS
    # the SDK waits one more retry timer, then the hold-off timer
    assert len(run.events(TIMER_FIRED)) == MAX_ATTEMPTS + 1
    assert extraction_rig.host.now - started >= HOLD_OFF
    client = extraction_rig.client
    assert await client.store.get_watermark("dana", "kitchen", "extract_memories") == first[0].seq
    assert [m.content for m in await client.get_memories("dana")] == ["Dana is vegetarian."]
    counter = extraction_rig.counter()
    assert counter["pending"] == [] and counter["health"] == {} and counter["drainer"] is None
    assert replays_identically(extraction_rig, run)


async def test_a_redelivered_batch_starts_nothing_and_a_regrouped_one_counts_nothing_twice(
    extraction_rig: DurableRig,
) -> None:
    turns = await extraction_rig.add("kitchen", CONVERSATION[:6])
    feed = documents(turns)
    (first,) = await extraction_rig.deliver(feed[:4])
    assert await extraction_rig.deliver(feed[:4]) == []  # same ids: not started again
    (regrouped,) = await extraction_rig.deliver(feed[2:])
    assert regrouped.instance_id != first.instance_id
    assert (first.output["counted"], regrouped.output["counted"]) == (4, 2)
    assert extraction_rig.counter()["threads"]["kitchen"]["turns"] == 6
    extract_calls = [c for c in extraction_rig.host.calls if c.name == "extract_memories"]
    assert len(extract_calls) == 2


async def test_a_poison_thread_is_quarantined_without_blocking_reconcile_or_other_threads(
    openai_server: FakeOpenAIServer, db_path: Path
) -> None:
    def kitchen_fails(body: dict[str, Any]) -> Any:
        if "vegetarian" in body["messages"][-1]["content"]:
            return Fault.server_error(400)  # e.g. a content filter: fails every time
        return answer(body)

    rig = DurableRig(openai_server, db_path, DEDUP_EVERY_N="1", USER_SUMMARY_EVERY_N="0")
    openai_server.script(kitchen_fails)
    try:
        kitchen = await rig.add("kitchen", CONVERSATION[:1])
        garden = await rig.add("garden", CONVERSATION[2:3])
        (run,) = await rig.deliver(documents([*kitchen, *garden]))
        assert run.done
        failed = [(f["step"]["step"], f["step"]["thread_id"]) for f in run.output["failed"]]
        assert failed == [("extract_memories", "kitchen")] * QUARANTINE_AFTER
        done = {(s["step"], s["thread_id"]) for s in run.output["done"]}
        assert done == {("extract_memories", "garden"), ("reconcile", None)}
        memories = await rig.client.get_memories("dana")
        assert [m.content for m in memories] == ["Answer Dana in bullet points."]
        assert replays_identically(rig, run)
        counter = rig.counter()
        poison = counter["health"]["extract_memories/kitchen"]
        assert poison["quarantined"] and poison["failures"] == QUARANTINE_AFTER
        assert "400" in poison["error"]
        assert run.output["quarantined"] == ["extract_memories/kitchen"]
        assert run.state["customStatus"] == {"quarantined": ["extract_memories/kitchen"]}
        assert counter["pending"] == [] and counter["in_flight"] == {}
    finally:
        await rig.close()


async def test_extraction_runs_in_bounded_activities_until_nothing_is_left(
    backlog_rig: DurableRig,
) -> None:
    turns = await add_backlog(backlog_rig)
    (run,) = await backlog_rig.deliver(documents(turns))
    extractions = [c for c in backlog_rig.host.calls if c.name == "extract_memories"]
    assert [c.result["batches"] for c in extractions] == [4, 4, 2]
    assert [c.result["remaining"] for c in extractions] == [6, 2, 0]
    assert run.output["rounds"] == 3 and run.output["failed"] == []
    watermark = await backlog_rig.client.store.get_watermark("dana", "kitchen", "extract_memories")
    assert watermark == turns[-1].seq
    assert backlog_rig.counter()["pending"] == [] and backlog_rig.counter()["in_flight"] == {}


async def test_a_duplicate_run_of_an_extraction_writes_nothing(
    extraction_rig: DurableRig, openai_server: FakeOpenAIServer
) -> None:
    turns = await extraction_rig.add("kitchen", CONVERSATION[:1])
    extractions = 0

    def slow_second_opinion(body: dict[str, Any]) -> Any:
        nonlocal extractions
        reply = answer(body)
        if body["messages"][0]["content"].startswith("You extract"):
            extractions += 1
            if extractions == 2:  # the duplicate run: slower, and the model changed its mind
                time.sleep(0.5)
                for item in reply["items"]:
                    item["content"] = item["content"].replace("vegetarian", "vegan")
        return reply

    openai_server.script(slow_second_opinion)
    request = {"user_id": "dana", "thread_id": "kitchen", "max_batches": 4}
    run = extraction_rig.host.activities["extract_memories"]
    runs = await asyncio.gather(run(request), run(request))  # at-least-once delivery
    again, first = sorted(runs, key=lambda r: r["created"])

    assert extractions == 2
    assert first["created"] == 1 and first["watermark"] == turns[-1].seq
    assert (again["created"], again["covered"], again["watermark"]) == (0, 1, turns[-1].seq)
    memories = await extraction_rig.client.get_memories("dana")
    assert [m.content for m in memories] == ["Dana is vegetarian."]


async def test_a_long_drain_continues_as_new_with_a_fresh_history(
    backlog_rig: DurableRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orchestration, "MAX_ROUNDS", 1)
    turns = await add_backlog(backlog_rig)
    (run,) = await backlog_rig.deliver(documents(turns))
    instance = backlog_rig.host.instances[run.instance_id]
    assert instance.generations == 2  # three executions of one round each
    assert run.done and run.output["rounds"] == 1 and run.output["counted"] == 0
    assert json.loads(instance.input_json)["generation"] == 2
    assert json.loads(instance.input_json)["turns"] == []
    watermark = await backlog_rig.client.store.get_watermark("dana", "kitchen", "extract_memories")
    assert watermark == turns[-1].seq
    assert backlog_rig.counter()["pending"] == [] and backlog_rig.counter()["in_flight"] == {}


async def test_the_last_execution_returns_its_claims_for_the_next_orchestration(
    backlog_rig: DurableRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orchestration, "MAX_ROUNDS", 1)
    monkeypatch.setattr(orchestration, "MAX_GENERATIONS", 2)
    turns = await add_backlog(backlog_rig)
    (run,) = await backlog_rig.deliver(documents(turns))
    assert run.done and backlog_rig.host.instances[run.instance_id].generations == 1
    counter = backlog_rig.counter()
    assert counter["in_flight"] == {}
    assert counter["pending"] == [{"step": "extract_memories", "thread_id": "kitchen"}]
    more = await backlog_rig.add("kitchen", [("user", "one more")])
    (later,) = await backlog_rig.deliver(documents(more))  # the next batch takes the rest
    watermark = await backlog_rig.client.store.get_watermark("dana", "kitchen", "extract_memories")
    assert later.done and watermark == more[-1].seq
