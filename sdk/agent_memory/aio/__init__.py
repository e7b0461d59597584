"""The async API: the same names and signatures as :mod:`agent_memory`, as coroutines."""

from agent_memory._async.client import AsyncMemoryClient
from agent_memory._async.embedder import AsyncEmbedder, AsyncOpenAIEmbedder
from agent_memory._async.store import AsyncMemoryStore
from agent_memory.embeddings.local import AsyncLocalEmbedder
from agent_memory.stores.sqlite import AsyncSqliteStore

MemoryClient = AsyncMemoryClient
MemoryStore = AsyncMemoryStore
Embedder = AsyncEmbedder
OpenAIEmbedder = AsyncOpenAIEmbedder
LocalEmbedder = AsyncLocalEmbedder
SqliteStore = AsyncSqliteStore

__all__ = [
    "AsyncEmbedder",
    "AsyncLocalEmbedder",
    "AsyncMemoryClient",
    "AsyncMemoryStore",
    "AsyncOpenAIEmbedder",
    "AsyncSqliteStore",
    "Embedder",
    "LocalEmbedder",
    "MemoryClient",
    "MemoryStore",
    "OpenAIEmbedder",
    "SqliteStore",
]
