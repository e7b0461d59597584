"""Nothing stranded: dead letters, dead instances, history purge, and forget in the task hub."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

import function_app
from agent_memory.durable.deadletters import dead_letter_entity, dead_letter_shard
from agent_memory.durable.host import forget, sweeper, trigger
from agent_memory.durable.names import DEAD_LETTER_ENTITY, FORGET_FUNCTION, TRIGGER_FUNCTION
from agent_memory.durable.timing import HISTORY_RETENTION
from tests.durable.replay import COMPLETED, FAILED, HostClient, indexed
from tests.durable.rig import DurableRig, documents
from tests.support.openai_server import FakeOpenAIServer
from tests.test_durable_trigger import invocation
from tests.test_pipeline import CONVERSATION, answer

pytestmark = pytest.mark.filterwarnings(
    "ignore:azure.functions df_loads was called without expected_type:DeprecationWarning"
)


class RefusingClient(HostClient):
    """A task hub that refuses to start orchestrations while ``refusing``."""

    refusing = True

    async def start_new(
        self,
        orchestration_function_name: str,
        instance_id: str | None = None,
        client_input: Any | None = None,
    ) -> str:
        if self.refusing:
            raise RuntimeError("503: the task hub is throttling")
        return await super().start_new(orchestration_function_name, instance_id, client_input)


@pytest.fixture
async def rig(openai_server: FakeOpenAIServer, db_path: Path) -> AsyncIterator[DurableRig]:
    openai_server.script(answer)
    opened = DurableRig(openai_server, db_path)
    yield opened
    await opened.close()


def registered(name: str) -> Any:
    (function,) = [f for f in indexed(function_app.app) if f.get_function_name() == name]
    return function.get_user_function().client_function


async def test_a_batch_refused_on_the_last_retry_is_dead_lettered_then_replayed(
    rig: DurableRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMORY_PROCESSOR_OWNER", "durable")
    turns = await rig.add("kitchen", CONVERSATION[:2])
    feed = func.DocumentList([func.Document.from_dict(d) for d in documents(turns)])
    client = RefusingClient(rig.host)
    body = registered(TRIGGER_FUNCTION)
    with pytest.raises(RuntimeError, match="throttling"):  # retried by the retry policy
        await body(documents=feed, client=client, context=invocation(retry_count=4))
    await body(documents=feed, client=client, context=invocation(retry_count=5))  # last one
    await rig.host.drain()
    shard = dead_letter_shard("dana")
    letters = rig.host.entities.state(DEAD_LETTER_ENTITY, shard)
    assert [r["input"]["user_id"] for r in letters["requests"]] == ["dana"]
    assert rig.counter() is None

    still_refused = await sweeper.sweep(client, rig.host.now)  # kept for the next run
    assert (still_refused.replayed, still_refused.deferred) == ([], 1)
    client.refusing = False
    report = await sweeper.sweep(client, rig.host.now)
    assert report.replayed == [r["instance_id"] for r in letters["requests"]]
    await rig.host.drain()
    assert rig.counter()["user_turns"] == 2
    assert rig.host.entities.state(DEAD_LETTER_ENTITY, shard)["requests"] == []
    assert (await sweeper.sweep(client, rig.host.now)).replayed == []


async def test_dead_instances_are_run_again_a_bounded_number_of_times(rig: DurableRig) -> None:
    turns = await rig.add("kitchen", CONVERSATION[:2])
    (instance_id,) = await trigger.on_change_feed(rig.starter, documents(turns), rig.settings)
    await rig.starter.terminate(instance_id, "the worker was recycled")
    report = await sweeper.sweep(rig.starter, rig.host.now)
    assert report.rerun == [instance_id]
    await rig.host.drain()
    assert rig.host.instances[instance_id].status == COMPLETED
    assert rig.counter()["user_turns"] == 2
    for attempt in range(sweeper.MAX_RERUNS + 1):
        rig.host.instances[instance_id].status = FAILED  # as if it had failed again
        report = await sweeper.sweep(rig.starter, rig.host.now)
        assert report.rerun == ([instance_id] if attempt < sweeper.MAX_RERUNS - 1 else [])
        await rig.host.drain()
    assert rig.counter()["user_turns"] == 2  # re-runs count nothing twice


async def test_finished_history_is_purged_after_the_retention(rig: DurableRig) -> None:
    turns = await rig.add("kitchen", CONVERSATION[:2])
    (run,) = await rig.deliver(documents(turns))
    assert (await sweeper.sweep(rig.starter, rig.host.now)).purged == 0
    rig.host.advance((HISTORY_RETENTION + timedelta(hours=1)).total_seconds())
    assert (await sweeper.sweep(rig.starter, rig.host.now)).purged == 1
    assert run.instance_id not in rig.host.instances


async def test_forget_reaches_the_task_hub_and_the_store(rig: DurableRig) -> None:
    done = await rig.add("kitchen", CONVERSATION[:2])
    await rig.deliver(documents(done))
    waiting = await rig.add("garden", CONVERSATION[2:4])
    (pending_id,) = await trigger.on_change_feed(rig.starter, documents(waiting), rig.settings)
    await rig.starter.signal_entity(
        dead_letter_entity(dead_letter_shard("dana")),
        "put",
        trigger.plan(documents(waiting[:1]), thresholds=rig.settings.thresholds)[0].model_dump(
            mode="json"
        ),
    )
    assert await rig.client.get_memories("dana")

    removed = await forget.forget_user(rig.starter, "dana", rig.host.now)
    await rig.host.drain()
    assert removed["task_hub"] == {"user_id": "dana", "terminated": 1, "purged": 2}
    assert rig.counter() is None
    assert rig.host.instances == {}
    letters = rig.host.entities.state(DEAD_LETTER_ENTITY, dead_letter_shard("dana"))
    assert letters["requests"] == []
    assert await rig.client.get_memories("dana") == []
    report = await sweeper.sweep(rig.starter, rig.host.now)
    assert report.rerun == [] and report.replayed == []
    assert pending_id not in rig.host.instances


async def test_the_forget_endpoint_rejects_a_bad_user_id_before_touching_anything(
    rig: DurableRig,
) -> None:
    body = registered(FORGET_FUNCTION)
    request = func.HttpRequest(
        "POST", "/api/users/a%2Fb/forget", body=b"", route_params={"user_id": "a/b"}
    )
    response = await body(req=request, client=rig.starter)
    assert response.status_code == 400 and "user_id" in json.loads(response.get_body())["error"]
    rig.host.now = datetime.now(UTC)  # the endpoint reads the wall clock
    turns = await rig.add("kitchen", CONVERSATION[:1])
    await rig.deliver(documents(turns))
    ok = await body(
        req=func.HttpRequest("POST", "/x", body=b"", route_params={"user_id": "dana"}),
        client=rig.starter,
    )
    assert ok.status_code == 200 and json.loads(ok.get_body())["task_hub"]["purged"] == 1
