"""The change-feed trigger: batches become one orchestration request per user, with stable ids."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import azure.functions as func
import pytest

import function_app
from agent_memory.core.due import HIGH_VOLUME, Thresholds
from agent_memory.durable.host import trigger
from agent_memory.durable.names import TRIGGER_FUNCTION
from agent_memory.settings import Settings
from tests.durable.replay import HostClient, ReplayHost, indexed

DURABLE = Settings(processor_owner="durable", thresholds=HIGH_VOLUME)


def doc(user: str, thread: str, turn: str, lsn: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": turn,
        "user_id": user,
        "thread_id": thread,
        "role": "user",
        "content": f"secret text of {turn}",
        "_lsn": lsn,
        "_ts": 1767225600,
        **extra,
    }


def new_client() -> HostClient:
    """The orchestration client of a fresh test host."""
    return ReplayHost(function_app.app).client


BATCH = [
    doc("dana", "kitchen", "t1", 11),
    doc("lee", "work", "t2", 12),
    doc("dana", "garden", "t3", 13),
    doc("dana", "kitchen", "t4", 14),
    {"id": "meta", "user_id": "dana", "thread_id": "kitchen", "_lsn": 15},  # not a turn
    doc("bad/user", "kitchen", "t5", 16),  # an id that fails validation
    doc("lee", "work", "t2", 12),  # the same change twice
]


def test_a_batch_becomes_one_request_per_user_with_ids_and_lsn_only() -> None:
    requests = trigger.plan(BATCH, thresholds=HIGH_VOLUME)
    assert [r.input.user_id for r in requests] == ["dana", "lee"]
    dana, lee = requests
    assert [(t.thread_id, t.turn_id, t.lsn) for t in dana.input.turns] == [
        ("kitchen", "t1", 11),
        ("garden", "t3", 13),
        ("kitchen", "t4", 14),
    ]
    assert [t.turn_id for t in lee.input.turns] == ["t2"]
    assert dana.input.thresholds == HIGH_VOLUME and dana.input.owner == "durable"
    payload = json.dumps(dana.input.model_dump(mode="json"))
    assert "secret" not in payload and "content" not in payload
    for request in requests:
        assert re.fullmatch(r"memory-[0-9a-f]{12}-[0-9a-f]{32}", request.instance_id)


def test_redelivery_gives_the_same_ids_and_other_batches_other_ids() -> None:
    first = {r.input.user_id: r.instance_id for r in trigger.plan(BATCH, thresholds=Thresholds())}
    again = {
        r.input.user_id: r.instance_id
        for r in trigger.plan(list(reversed(BATCH)), thresholds=HIGH_VOLUME)
    }
    assert again == first
    regrouped = trigger.plan(BATCH[1:], thresholds=Thresholds())
    assert {r.input.user_id: r.instance_id for r in regrouped}["lee"] == first["lee"]
    assert {r.input.user_id: r.instance_id for r in regrouped}["dana"] != first["dana"]
    same_turn_other_lsn = trigger.plan([doc("lee", "work", "t2", 99)], thresholds=Thresholds())
    assert same_turn_other_lsn[0].instance_id != first["lee"]


async def test_each_user_is_started_once_however_often_the_batch_comes() -> None:
    starter = new_client()
    started = await trigger.on_change_feed(starter, BATCH, DURABLE)
    assert len(started) == 2 and set(started) == set(starter.started)
    assert await trigger.on_change_feed(starter, BATCH, DURABLE) == []
    assert starter.start_calls == 2
    assert {p["user_id"] for p in starter.started.values()} == {"dana", "lee"}


async def test_the_in_process_owner_skips_the_batch(caplog: pytest.LogCaptureFixture) -> None:
    starter = new_client()
    with caplog.at_level(logging.INFO, logger="agent_memory.durable"):
        assert await trigger.on_change_feed(starter, BATCH, Settings()) == []
    assert starter.start_calls == 0
    assert (
        "MEMORY_PROCESSOR_OWNER=inprocess" in caplog.text and "7 change(s) skipped" in caplog.text
    )


class RacingStarter(HostClient):
    """``start_new`` fails; with ``racing`` a concurrent delivery started the instance first."""

    def __init__(self, racing: bool) -> None:
        super().__init__(ReplayHost(function_app.app))
        self.racing = racing

    async def start_new(
        self,
        orchestration_function_name: str,
        instance_id: str | None = None,
        client_input: Any | None = None,
    ) -> str:
        if self.racing and instance_id:
            await super().start_new(orchestration_function_name, instance_id, client_input)
            return await super().start_new(orchestration_function_name, instance_id, client_input)
        raise RuntimeError("the task hub is unreachable")


async def test_a_start_that_loses_a_race_is_not_an_error_but_other_failures_are() -> None:
    one = [doc("dana", "kitchen", "t1", 1)]
    assert await trigger.on_change_feed(RacingStarter(racing=True), one, DURABLE) == []
    with pytest.raises(RuntimeError, match="unreachable"):
        await trigger.on_change_feed(RacingStarter(racing=False), one, DURABLE)


async def test_the_registered_trigger_starts_orchestrations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (function,) = [
        f for f in indexed(function_app.app) if f.get_function_name() == TRIGGER_FUNCTION
    ]
    body = function.get_user_function().client_function  # the code under the client binding
    feed = func.DocumentList([func.Document.from_dict(d) for d in BATCH])
    starter = new_client()
    monkeypatch.setenv("MEMORY_PROCESSOR_OWNER", "durable")
    await body(documents=feed, client=starter, context=invocation(retry_count=0))
    assert len(starter.started) == 2
    monkeypatch.setenv("MEMORY_PROCESSOR_OWNER", "inprocess")
    one = func.DocumentList([func.Document.from_dict(BATCH[0])])
    await body(documents=one, client=starter, context=invocation(retry_count=0))
    assert len(starter.started) == 2


def invocation(retry_count: int, max_retry_count: int = 5) -> Any:
    """The invocation context the Functions worker passes (its own ``Context`` class)."""
    runtime = pytest.importorskip("azure_functions_runtime.bindings.context")
    from azure_functions_runtime.bindings.retrycontext import RetryContext
    from azure_functions_runtime.bindings.tracecontext import TraceContext

    return runtime.Context(
        TRIGGER_FUNCTION,
        ".",
        "invocation-1",
        runtime._invocation_id_local,
        TraceContext("", "", {}),
        RetryContext(retry_count, max_retry_count, None),
    )
