"""Clients with MEMORY_PROCESSOR_OWNER=durable, and process_now_and_wait on both owners."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

import pytest

from agent_memory import ConfigurationError, InvalidInputError, MemoryClient
from agent_memory.aio import MemoryClient as AsyncMemoryClient
from agent_memory.core.status import ProcessReport
from agent_memory.processor._sync.durable import DurableFunctionProcessor
from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import CONVERSATION, answer, env_for


def durable_env(server: FakeOpenAIServer, db_path: Path) -> dict[str, str]:
    return env_for(server, db_path, MEMORY_PROCESSOR_OWNER="durable")


def test_the_durable_owner_runs_nothing_in_process(
    openai_server: FakeOpenAIServer, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    openai_server.script(answer)
    with (
        caplog.at_level(logging.WARNING),
        MemoryClient.from_env(durable_env(openai_server, db_path)) as memory,
    ):
        assert isinstance(memory.processor, DurableFunctionProcessor)
        memory.add("dana", "kitchen", "user", CONVERSATION[0][1])
        assert memory.process_now("dana") == ProcessReport()
        assert memory.process_now("dana", "kitchen") == ProcessReport()
        assert memory.pipeline_status.completed == 0 and memory.get_memories("dana") == []
        memory.add_memory("dana", "kitchen", "Dana is vegetarian.")
        memory.add_memory("dana", "kitchen", "Dana likes hiking.")
        assert memory.reconcile("dana").considered == 2  # explicit: runs here
    assert openai_server.completed_chat_calls == 1
    assert caplog.text.count("use process_now_and_wait") == 1


def test_waiting_times_out_naming_what_is_pending(
    openai_server: FakeOpenAIServer, db_path: Path
) -> None:
    with MemoryClient.from_env(durable_env(openai_server, db_path)) as memory:
        memory.process_now_and_wait("dana", "empty", timeout=0)  # no turns: nothing to wait for
        turns = memory.add_turns("dana", "kitchen", [{"role": "user", "content": "hi"}] * 2)
        started = time.monotonic()
        with pytest.raises(TimeoutError) as caught:
            memory.process_now_and_wait("dana", "kitchen", timeout=0.3)
        assert 0.3 <= time.monotonic() - started < 2
    message = str(caught.value)
    assert "thread 'kitchen' of user 'dana': 2 turn(s) still pending extraction" in message
    assert f"latest turn {turns[-1].seq}" in message and "FACT_EXTRACTION_EVERY_N" in message


def test_waiting_returns_once_the_app_has_extracted_the_latest_turn(
    openai_server: FakeOpenAIServer, db_path: Path
) -> None:
    with MemoryClient.from_env(durable_env(openai_server, db_path)) as memory:
        first, second = memory.add_turns(
            "dana", "kitchen", [{"role": "user", "content": c} for c in ("one", "two")]
        )
        store = memory.store

        def app_catches_up() -> None:  # what the Function app's extraction does to the store
            time.sleep(0.1)
            store.advance_watermark("dana", "kitchen", "extract_memories", first.seq or 0)
            time.sleep(0.1)
            store.advance_watermark("dana", "kitchen", "extract_memories", second.seq or 0)

        app = threading.Thread(target=app_catches_up)
        app.start()
        memory.process_now_and_wait("dana", "kitchen", timeout=5)
        assert store.get_watermark("dana", "kitchen", "extract_memories") == second.seq
        app.join()


async def test_the_async_client_waits_without_blocking_the_loop(
    openai_server: FakeOpenAIServer, db_path: Path
) -> None:
    async with AsyncMemoryClient.from_env(durable_env(openai_server, db_path)) as memory:
        (turn,) = await memory.add_turns("dana", "kitchen", [{"role": "user", "content": "hi"}])

        async def app_catches_up() -> None:
            await asyncio.sleep(0.1)
            await memory.store.advance_watermark(
                "dana", "kitchen", "extract_memories", turn.seq or 0
            )

        await asyncio.gather(
            memory.process_now_and_wait("dana", "kitchen", timeout=5), app_catches_up()
        )
        with pytest.raises(InvalidInputError, match="timeout"):
            await memory.process_now_and_wait("dana", "kitchen", timeout=-1)
        with pytest.raises(InvalidInputError, match="thread_id"):
            await memory.process_now_and_wait("dana", "a/b")


def test_in_process_wait_runs_the_pending_steps_first(
    openai_server: FakeOpenAIServer, db_path: Path
) -> None:
    openai_server.script(answer)
    env = env_for(openai_server, db_path, FACT_EXTRACTION_EVERY_N="0")
    with MemoryClient.from_env(env) as memory:
        turns = memory.add_turns(
            "dana", "kitchen", [{"role": r, "content": c} for r, c in CONVERSATION[:3]]
        )
        assert memory.get_memories("dana") == []
        memory.process_now_and_wait("dana", "kitchen")
        assert memory.store.get_watermark("dana", "kitchen", "extract_memories") == turns[-1].seq
        assert len(memory.get_memories("dana")) == 2
    with MemoryClient(path=db_path) as no_model, pytest.raises(ConfigurationError):
        no_model.process_now_and_wait("dana", "kitchen")
