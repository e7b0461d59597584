"""The async API: the same names and signatures as :mod:`agent_memory`, as coroutines.

Every name loads its module on first use, so ``import agent_memory.aio`` loads no backend:
``CosmosStore`` needs ``azure.cosmos.aio``, ``SqliteStore`` ``sqlite3`` and NumPy.
"""

from typing import TYPE_CHECKING

from agent_memory.core.lazy import Exports, lazy_exports

#: Public name -> defining module, or (module, name there) for the unprefixed aliases.
_EXPORTS: Exports = {
    "AsyncMemoryClient": "agent_memory.client._async.client",
    "AsyncEmbedder": "agent_memory.embeddings._async.embedder",
    "AsyncOpenAIEmbedder": "agent_memory.embeddings._async.embedder",
    "AsyncLocalEmbedder": "agent_memory.embeddings.local",
    "AsyncMemoryStore": "agent_memory.stores._async.protocol",
    "AsyncSqliteStore": "agent_memory.stores.sqlite",
    "AsyncCosmosStore": "agent_memory.stores.cosmos._async.store",
    "MemoryClient": ("agent_memory.client._async.client", "AsyncMemoryClient"),
    "MemoryStore": ("agent_memory.stores._async.protocol", "AsyncMemoryStore"),
    "Embedder": ("agent_memory.embeddings._async.embedder", "AsyncEmbedder"),
    "OpenAIEmbedder": ("agent_memory.embeddings._async.embedder", "AsyncOpenAIEmbedder"),
    "LocalEmbedder": ("agent_memory.embeddings.local", "AsyncLocalEmbedder"),
    "SqliteStore": ("agent_memory.stores.sqlite", "AsyncSqliteStore"),
    "CosmosStore": ("agent_memory.stores.cosmos._async.store", "AsyncCosmosStore"),
}

if TYPE_CHECKING:
    from agent_memory.client._async.client import AsyncMemoryClient
    from agent_memory.client._async.client import AsyncMemoryClient as MemoryClient
    from agent_memory.embeddings._async.embedder import AsyncEmbedder, AsyncOpenAIEmbedder
    from agent_memory.embeddings._async.embedder import AsyncEmbedder as Embedder
    from agent_memory.embeddings._async.embedder import AsyncOpenAIEmbedder as OpenAIEmbedder
    from agent_memory.embeddings.local import AsyncLocalEmbedder
    from agent_memory.embeddings.local import AsyncLocalEmbedder as LocalEmbedder
    from agent_memory.stores._async.protocol import AsyncMemoryStore
    from agent_memory.stores._async.protocol import AsyncMemoryStore as MemoryStore
    from agent_memory.stores.cosmos._async.store import AsyncCosmosStore
    from agent_memory.stores.cosmos._async.store import AsyncCosmosStore as CosmosStore
    from agent_memory.stores.sqlite import AsyncSqliteStore
    from agent_memory.stores.sqlite import AsyncSqliteStore as SqliteStore


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


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
