"""Forget sticks for counting too: a user forgotten after their turns were appended gets no
counter rows back, neither from the in-process driver nor from the durable extract activity."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from agent_memory import MemoryClient, SqliteStore, Turn
from agent_memory.aio import MemoryClient as AsyncMemoryClient
from agent_memory.core.models import AppendResult
from agent_memory.core.query import Vector
from agent_memory.durable.host import activities
from agent_memory.durable.host.worker import Worker, use_worker
from agent_memory.settings import Settings
from agent_memory.stores.sqlite.async_store import AsyncSqliteStore
from tests.support.openai_server import FakeOpenAIServer
from tests.test_forget import OTHER, USER, env_for, rows_of
from tests.test_pipeline import answer
from tests.test_pipeline import env_for as pipeline_env


class ForgetsAfterAppend(SqliteStore):
    """A store on which ``forget(USER)`` lands at a chosen point after an append of USER's."""

    def __init__(self, path: Path, when: str) -> None:
        super().__init__(path)
        self.when = when
        self.armed = False

    def append_turns(
        self, user_id: str, thread_id: str, turns: Sequence[Turn], embeddings: Vector | None
    ) -> AppendResult:
        appended = super().append_turns(user_id, thread_id, turns, embeddings)
        if user_id == USER and self.when == "before counting":
            self.forget(user_id)
        self.armed = user_id == USER and self.when == "after the epoch is read"
        return appended

    def user_epoch(self, user_id: str) -> str:
        epoch = super().user_epoch(user_id)
        if self.armed:
            self.armed = False
            self.forget(user_id)
        return epoch


@pytest.mark.parametrize("when", ["before counting", "after the epoch is read"])
def test_counting_writes_nothing_of_a_user_forgotten_after_the_append(
    openai_server: FakeOpenAIServer, tmp_path: Path, when: str
) -> None:
    openai_server.script(answer)
    path = tmp_path / "m.db"
    store = ForgetsAfterAppend(path, when)
    settings = Settings.from_env(env_for(openai_server, path))
    with MemoryClient(store=store, settings=settings) as memory:
        memory.add(OTHER, "kitchen", "user", "I keep bees.")
        memory.add(USER, "kitchen", "user", "I bake sourdough every Sunday.")
        assert memory.get_turns(USER, "kitchen") == []
        assert memory.pipeline_status.failures == []
    assert rows_of(path, USER) == {}, f"written after forget ({when})"
    assert rows_of(path, OTHER)["counters"] == 3  # the thread's and the user's turns, extractions
    store.close()


class ForgetsOnEpochRead(AsyncSqliteStore):
    """An async store on which ``forget`` lands right after the activity reads the epoch."""

    armed = False

    async def user_epoch(self, user_id: str) -> str:
        epoch = await super().user_epoch(user_id)
        if self.armed:
            self.armed = False
            await self.forget(user_id)
        return epoch


@pytest.mark.parametrize("when", ["before the activity", "after the epoch is read"])
async def test_the_durable_extract_activity_marks_no_counter_of_a_forgotten_user(
    openai_server: FakeOpenAIServer, tmp_path: Path, when: str
) -> None:
    openai_server.script(answer)
    path = tmp_path / "durable.db"
    settings = Settings.from_env(
        pipeline_env(openai_server, path, MEMORY_PROCESSOR_OWNER="durable")
    )
    store = ForgetsOnEpochRead(path)
    async with AsyncMemoryClient(store=store, settings=settings) as memory:
        await memory.add(USER, "kitchen", "user", "I bake sourdough every Sunday.")
        use_worker(Worker(store, memory.ai, memory.embedder, settings))
        try:
            if when == "before the activity":
                await memory.forget(USER)
            else:
                store.armed = True
            result = await activities.extract_memories({"user_id": USER, "thread_id": "kitchen"})
        finally:
            use_worker(None)
    assert result["forgotten"] is True and result["created"] == 0
    assert rows_of(path, USER) == {}, f"written after forget ({when})"
    await store.close()
