"""The app under the protocol the Durable host negotiates: V3 actions, batched and reordered
completions, concurrent orchestrations of one user, and ``NonRunningStates`` instance ids."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import function_app
from agent_memory.durable.host import trigger
from agent_memory.durable.names import ORCHESTRATOR
from tests.durable.replay import (
    CALL_ACTIVITY_WITH_RETRY,
    CALL_ENTITY,
    COMPLETED,
    FAILED,
    ORCHESTRATOR_COMPLETED,
    ORCHESTRATOR_STARTED,
    TERMINATED,
    WHEN_ALL,
    ReplayHost,
    v3_actions,
)
from tests.durable.rig import DurableRig, documents
from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import CONVERSATION, answer

pytestmark = pytest.mark.filterwarnings(
    "ignore:azure.functions df_loads was called without expected_type:DeprecationWarning"
)

ONLY_EXTRACTION = {"THREAD_SUMMARY_EVERY_N": "0", "USER_SUMMARY_EVERY_N": "0", "DEDUP_EVERY_N": "0"}


@pytest.fixture
async def shuffled(openai_server: FakeOpenAIServer, db_path: Path) -> AsyncIterator[DurableRig]:
    openai_server.script(answer)
    opened = DurableRig(openai_server, db_path, rng=random.Random(7), **ONLY_EXTRACTION)
    yield opened
    await opened.close()


async def test_the_sdk_answers_in_the_v3_shape_with_when_all_compound_actions(
    shuffled: DurableRig,
) -> None:
    kitchen = await shuffled.add("kitchen", CONVERSATION[:2])
    garden = await shuffled.add("garden", CONVERSATION[2:4])
    (run,) = await shuffled.deliver(documents([*kitchen, *garden]))

    assert run.done and run.state["schemaVersion"] == 2
    top = v3_actions(run.state)
    assert top[0]["actionType"] == CALL_ENTITY
    # task_all of two retried calls: a WhenAll of two WhenAlls, each wrapping the retried call
    fan_out = next(a for a in top if a["actionType"] == WHEN_ALL)
    assert [c["actionType"] for c in fan_out["compoundActions"]] == [WHEN_ALL, WHEN_ALL]
    inner = [c["compoundActions"] for c in fan_out["compoundActions"]]
    assert [[a["actionType"] for a in group] for group in inner] == [
        [CALL_ACTIVITY_WITH_RETRY],
        [CALL_ACTIVITY_WITH_RETRY],
    ]
    final = shuffled.host.replay_final(ORCHESTRATOR, run, shuffled.starter.started[run.instance_id])
    assert final == run.state


async def test_completions_delivered_together_and_out_of_order_are_matched_by_id(
    shuffled: DurableRig,
) -> None:
    turns = []
    for thread in ("a", "b", "c", "d"):
        turns += await shuffled.add(thread, CONVERSATION[:2])
    (run,) = await shuffled.deliver(documents(turns))

    assert run.done and run.output["failed"] == []
    assert sorted(s["thread_id"] for s in run.output["done"]) == ["a", "b", "c", "d"]
    # some episode carried several events at once
    starts = [i for i, e in enumerate(run.history) if e["EventType"] == ORCHESTRATOR_STARTED]
    sizes = []
    for start in starts:
        events = 0
        for event in run.history[start + 1 :]:
            if event["EventType"] in (ORCHESTRATOR_STARTED, ORCHESTRATOR_COMPLETED):
                break
            events += event["EventId"] == -1  # delivered events carry no id of their own
        sizes.append(events)
    assert max(sizes) >= 2
    extracted = {
        c.input["thread_id"] for c in shuffled.host.calls if c.name == "extract_memories" and c.ok
    }
    assert extracted == {"a", "b", "c", "d"}


async def test_two_orchestrations_of_one_user_share_the_entity_without_doubling_work(
    shuffled: DurableRig,
) -> None:
    first = await shuffled.add("kitchen", CONVERSATION[:3])
    second = await shuffled.add("garden", CONVERSATION[3:6])
    started = await trigger.on_change_feed(shuffled.starter, documents(first), shuffled.settings)
    started += await trigger.on_change_feed(shuffled.starter, documents(second), shuffled.settings)
    assert len(started) == 2
    await shuffled.host.drain()

    runs = [shuffled.host.instances[i].run() for i in started]
    assert all(r.done for r in runs)
    assert sum(r.output["counted"] for r in runs) == 6
    counter = shuffled.counter()
    assert counter["in_flight"] == {} and counter["pending"] == []
    extracted = [c.input["thread_id"] for c in shuffled.host.calls if c.name == "extract_memories"]
    assert sorted(extracted) == ["garden", "kitchen"]


async def test_start_new_replaces_only_instances_that_are_not_running() -> None:
    host = ReplayHost(function_app.app)
    client = host.client
    payload = {"user_id": "dana", "turns": []}
    await client.start_new(ORCHESTRATOR, "memory-x", payload)
    with pytest.raises(Exception, match="already exists"):
        await client.start_new(ORCHESTRATOR, "memory-x", payload)  # Pending
    await host.drain()
    assert (await client.get_status("memory-x")).runtime_status.value == COMPLETED
    await client.start_new(ORCHESTRATOR, "memory-x", payload)  # Completed: replaced
    assert (await client.get_status("memory-x")).runtime_status.value == "Pending"
    await client.terminate("memory-x", "operator")
    assert (await client.get_status("memory-x")).runtime_status.value == TERMINATED
    await client.start_new(ORCHESTRATOR, "memory-x", payload)  # Terminated: replaced
    assert (await client.get_status("memory-y")).runtime_status is None


async def test_a_failed_or_terminated_batch_runs_again_when_it_comes_again(
    shuffled: DurableRig,
) -> None:
    turns = await shuffled.add("kitchen", CONVERSATION[:2])
    feed = documents(turns)
    (instance_id,) = await trigger.on_change_feed(shuffled.starter, feed, shuffled.settings)
    await shuffled.starter.terminate(instance_id, "the host was recycled")
    await shuffled.host.drain()
    assert shuffled.counter() is None  # terminated before it reached the entity

    assert await trigger.on_change_feed(shuffled.starter, feed, shuffled.settings) == [instance_id]
    await shuffled.host.drain()
    assert shuffled.host.instances[instance_id].status == COMPLETED
    assert shuffled.counter()["user_turns"] == 2
    assert await trigger.on_change_feed(shuffled.starter, feed, shuffled.settings) == []

    shuffled.host.instances[instance_id].status = FAILED  # as if its last attempt had failed
    assert await trigger.on_change_feed(shuffled.starter, feed, shuffled.settings) == [instance_id]
    await shuffled.host.drain()
    assert shuffled.counter()["user_turns"] == 2  # re-run: nothing counted twice
