"""Two runs of one extraction step (at-least-once delivery) count every turn once.

Both runs pass every watermark check before either writes; the compare-and-set on the
watermark lets exactly one of them move it and count the batch."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent_memory import Memory
from agent_memory.aio import MemoryClient as AsyncMemoryClient
from agent_memory.core.query import Vector
from agent_memory.core.requests import ThreadRequest
from agent_memory.core.steps import EXTRACT_STEP
from agent_memory.pipeline._async.activities import extract_memories
from agent_memory.settings import Settings
from agent_memory.stores.sqlite.async_store import AsyncSqliteStore
from tests.support.openai_server import FakeOpenAIServer
from tests.test_forget import env_for
from tests.test_pipeline import CONVERSATION, answer

RUNS = 2


class WritesTogether(AsyncSqliteStore):
    """Holds the first memory write of each run until every run reached its own."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.barrier = asyncio.Barrier(RUNS)
        self.held = 0

    async def create_memory(
        self, memory: Memory, embedding: Vector | None, *, epoch: str | None = None
    ) -> bool:
        if self.held < RUNS:
            self.held += 1
            await asyncio.wait_for(self.barrier.wait(), 30)
        return await super().create_memory(memory, embedding, epoch=epoch)


async def test_two_runs_past_every_check_count_each_turn_once(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    openai_server.script(answer)
    path = tmp_path / "race.db"
    store = WritesTogether(path)
    async with AsyncMemoryClient(
        store=store, settings=Settings.from_env(env_for(openai_server, path))
    ) as memory:
        turns = [
            await memory.add("dana", "kitchen", role, content) for role, content in CONVERSATION
        ]
        assert memory.ai is not None
        request = ThreadRequest(user_id="dana", thread_id="kitchen")
        results = await asyncio.gather(
            *(extract_memories(store, memory.ai, request) for _ in range(RUNS))
        )
        loser, winner = sorted(results, key=lambda r: r.turns)
        watermark = await store.get_watermark("dana", "kitchen", EXTRACT_STEP)
        stored = await memory.get_memories("dana", include_superseded=True)

    assert store.held == RUNS  # both runs were about to write before either moved the watermark
    assert winner.turns == len(turns) and winner.covered == 0
    assert (loser.turns, loser.batches, loser.covered) == (0, 0, 1)
    assert sum(r.turns for r in results) == len(turns)  # every turn counted once
    assert watermark == turns[-1].seq == winner.watermark == loser.watermark
    assert sum(r.created for r in results) == len(stored) > 0  # each memory written once
    assert len({m.id for m in stored}) == len(stored)
    await store.close()
