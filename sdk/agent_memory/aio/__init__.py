"""The async API: the same names and signatures as :mod:`agent_memory`, as coroutines."""

from agent_memory.client._async.client import AsyncMemoryClient
from agent_memory.embeddings._async.embedder import AsyncEmbedder, AsyncOpenAIEmbedder
from agent_memory.embeddings.local import AsyncLocalEmbedder
from agent_memory.stores._async.protocol import AsyncMemoryStore
from agent_memory.stores.sqlite import AsyncSqliteStore

MemoryClient = AsyncMemoryClient
MemoryStore = AsyncMemoryStore
Embedder = AsyncEmbedder
OpenAIEmbedder = AsyncOpenAIEmbedder
LocalEmbedder = AsyncLocalEmbedder
SqliteStore = AsyncSqliteStore


def __getattr__(name: str) -> object:
    """``CosmosStore`` (async) loads ``azure.cosmos.aio`` only when asked for."""
    if name in ("CosmosStore", "AsyncCosmosStore"):
        from agent_memory.stores.cosmos._async.store import AsyncCosmosStore

        return AsyncCosmosStore
    raise AttributeError(f"module 'agent_memory.aio' has no attribute {name!r}")


__all__ = [
    "AsyncCosmosStore",
    "AsyncEmbedder",
    "AsyncLocalEmbedder",
    "AsyncMemoryClient",
    "AsyncMemoryStore",
    "AsyncOpenAIEmbedder",
    "AsyncSqliteStore",
    "CosmosStore",
    "Embedder",
    "LocalEmbedder",
    "MemoryClient",
    "MemoryStore",
    "OpenAIEmbedder",
    "SqliteStore",
]
