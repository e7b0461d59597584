"""The Function app wired to an embedded store and the local model server, without a host."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import function_app
from agent_memory import Turn
from agent_memory.aio import MemoryClient as AsyncMemoryClient
from agent_memory.durable.host import trigger
from agent_memory.durable.host.worker import Worker, use_worker
from agent_memory.durable.names import COUNTER_ENTITY
from agent_memory.settings import Settings
from tests.durable.replay import OrchestrationRun, ReplayHost
from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import env_for


def documents(turns: Iterable[Turn]) -> list[dict[str, Any]]:
    """Change-feed documents of stored turns (the embedded store's ``seq`` as ``_lsn``)."""
    return [{**t.model_dump(mode="json"), "_lsn": t.seq} for t in turns]


class DurableRig:
    """An async client that only stores turns, plus the app's trigger, host and worker."""

    def __init__(
        self,
        server: FakeOpenAIServer,
        db_path: Path,
        *,
        rng: random.Random | None = None,
        fail_rate: float = 0.0,
        duplicate_rate: float = 0.0,
        **env: str,
    ) -> None:
        self.settings = Settings.from_env(
            env_for(server, db_path, MEMORY_PROCESSOR_OWNER="durable", **env)
        )
        self.client = AsyncMemoryClient(settings=self.settings)
        self.host = ReplayHost(
            function_app.app, rng=rng, fail_rate=fail_rate, duplicate_rate=duplicate_rate
        )
        self.starter = self.host.client
        use_worker(Worker(self.client.store, self.client.ai, self.client.embedder, self.settings))

    async def add(
        self, thread_id: str, turns: Sequence[tuple[str, str]], *, user_id: str = "dana"
    ) -> list[Turn]:
        return await self.client.add_turns(
            user_id, thread_id, [{"role": role, "content": text} for role, text in turns]
        )

    async def deliver(self, batch: Sequence[Mapping[str, Any]]) -> list[OrchestrationRun]:
        """One change-feed batch: the trigger starts orchestrations, the host runs everything."""
        started = await trigger.on_change_feed(self.starter, batch, self.settings)
        await self.host.drain()
        return [self.host.instances[instance_id].run() for instance_id in started]

    def counter(self, user_id: str = "dana") -> Any:
        return self.host.entities.state(COUNTER_ENTITY, user_id)

    async def close(self) -> None:
        use_worker(None)
        await self.client.close()
