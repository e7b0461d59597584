"""What each Functions worker builds once: the store and the model client, from app settings."""

from __future__ import annotations

import asyncio

from agent_memory.core.errors import ConfigurationError
from agent_memory.embeddings._async.embedder import AsyncEmbedder
from agent_memory.model._async.client import AsyncModelClient
from agent_memory.model._async.connect import build_embedder, build_model_client
from agent_memory.settings import Settings
from agent_memory.stores._async.factory import build_store
from agent_memory.stores._async.protocol import AsyncMemoryStore


class Worker:
    """A store and a model client shared by every activity this worker runs."""

    def __init__(
        self,
        store: AsyncMemoryStore,
        ai: AsyncModelClient | None,
        embedder: AsyncEmbedder,
        settings: Settings,
    ) -> None:
        self.store = store
        self.ai = ai
        self.embedder = embedder
        self.settings = settings

    @classmethod
    async def open(cls, settings: Settings) -> Worker:
        """Build from settings: Cosmos DB or SQLite store, Azure OpenAI or OpenAI model."""
        embedder = build_embedder(settings)
        store = build_store(settings)
        await store.ensure_embedding_model(embedder.model, embedder.dimensions)
        return cls(store, build_model_client(settings, embedder, store), embedder, settings)

    def model(self) -> AsyncModelClient:
        """The model client; ``ConfigurationError`` naming the settings when none is set."""
        if self.ai is None:
            raise ConfigurationError(
                "no model is configured for the Function app: set AI_FOUNDRY_ENDPOINT and "
                "AI_FOUNDRY_CHAT_DEPLOYMENT_NAME (or OPENAI_API_KEY / OPENAI_BASE_URL)"
            )
        return self.ai

    async def close(self) -> None:
        """Close the model client, the store and the embedder."""
        if self.ai is not None:
            await self.ai.close()
        await self.store.close()
        await self.embedder.close()


_current: Worker | None = None
_lock: asyncio.Lock | None = None


async def get_worker() -> Worker:
    """This worker's singleton, built on first use from the environment's settings."""
    global _current, _lock
    if _current is not None:
        return _current
    if _lock is None:
        _lock = asyncio.Lock()
    async with _lock:
        if _current is None:
            _current = await Worker.open(Settings.from_env())
        return _current


def use_worker(worker: Worker | None) -> None:
    """Install ``worker`` as the singleton (None forgets it): for tests and custom hosts."""
    global _current, _lock
    _current, _lock = worker, None
