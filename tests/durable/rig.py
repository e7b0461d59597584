"""The Function app wired to an embedded store and the local model server, without a host."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import function_app
from agent_memory import Turn
from agent_memory.aio import MemoryClient as AsyncMemoryClient
from agent_memory.durable import trigger
from agent_memory.durable.names import COUNTER_ENTITY, ORCHESTRATOR
from agent_memory.durable.worker import Worker, use_worker
from agent_memory.settings import Settings
from tests.durable.replay import OrchestrationRun, ReplayHost
from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import env_for


def documents(turns: Iterable[Turn]) -> list[dict[str, Any]]:
    """Change-feed documents of stored turns (the embedded store's ``seq`` as ``_lsn``)."""
    return [{**t.model_dump(mode="json"), "_lsn": t.seq} for t in turns]


class FakeStarter:
    """The orchestration client the trigger sees: remembers what it started."""

    def __init__(self) -> None:
        self.started: dict[str, Any] = {}
        self.start_calls = 0

    async def get_status(self, instance_id: str) -> Any:
        status = "Completed" if instance_id in self.started else None
        return SimpleNamespace(runtime_status=status)

    async def start_new(
        self,
        orchestration_function_name: str,
        instance_id: str | None = None,
        client_input: Any | None = None,
    ) -> str:
        assert orchestration_function_name == ORCHESTRATOR and instance_id
        self.start_calls += 1
        self.started[instance_id] = client_input
        return instance_id


class DurableRig:
    """An async client that only stores turns, plus the app's trigger, host and worker."""

    def __init__(self, server: FakeOpenAIServer, db_path: Path, **env: str) -> None:
        self.settings = Settings.from_env(
            env_for(server, db_path, MEMORY_PROCESSOR_OWNER="durable", **env)
        )
        self.client = AsyncMemoryClient(settings=self.settings)
        self.host = ReplayHost(function_app.app)
        self.starter = FakeStarter()
        use_worker(Worker(self.client.store, self.client.ai, self.client.embedder, self.settings))

    async def add(
        self, thread_id: str, turns: Sequence[tuple[str, str]], *, user_id: str = "dana"
    ) -> list[Turn]:
        return await self.client.add_turns(
            user_id, thread_id, [{"role": role, "content": text} for role, text in turns]
        )

    async def deliver(self, batch: Sequence[Mapping[str, Any]]) -> list[OrchestrationRun]:
        """One change-feed batch: the trigger starts orchestrations, the host runs them."""
        started = await trigger.on_change_feed(self.starter, batch, self.settings)
        return [
            await self.host.run(ORCHESTRATOR, instance_id, self.starter.started[instance_id])
            for instance_id in started
        ]

    def counter(self, user_id: str = "dana") -> Any:
        return self.host.entities.state(COUNTER_ENTITY, user_id)

    async def close(self) -> None:
        use_worker(None)
        await self.client.close()
