"""agent-memory: long-term memory for AI agents on Azure Cosmos DB or an embedded store.

The sync API lives here; :mod:`agent_memory.aio` mirrors it with coroutines.
"""

import logging

from agent_memory._sync.client import MemoryClient
from agent_memory._sync.embedder import Embedder, OpenAIEmbedder
from agent_memory._sync.store import MemoryStore
from agent_memory.embeddings.local import LocalEmbedder
from agent_memory.errors import (
    AgentMemoryError,
    ConfigurationError,
    ConflictError,
    ForgottenError,
    InvalidInputError,
    ModelError,
    NotFoundError,
    StoreError,
)
from agent_memory.models import (
    Memory,
    MemoryType,
    SearchHit,
    Summary,
    Turn,
    TurnInput,
    content_hash,
    memory_id,
)
from agent_memory.settings import Settings
from agent_memory.stores.query import SearchQuery
from agent_memory.stores.sqlite import SqliteStore

__version__ = "0.1.0"

#: The SDK logs under ``agent_memory.*`` and leaves handlers to the application.
logging.getLogger("agent_memory").addHandler(logging.NullHandler())


def __getattr__(name: str) -> object:
    """``CosmosStore`` loads ``azure.cosmos`` only when asked for."""
    if name == "CosmosStore":
        from agent_memory._sync.cosmos_store import CosmosStore

        return CosmosStore
    raise AttributeError(f"module 'agent_memory' has no attribute {name!r}")


__all__ = [
    "AgentMemoryError",
    "ConfigurationError",
    "ConflictError",
    "CosmosStore",
    "Embedder",
    "ForgottenError",
    "InvalidInputError",
    "LocalEmbedder",
    "Memory",
    "MemoryClient",
    "MemoryStore",
    "MemoryType",
    "ModelError",
    "NotFoundError",
    "OpenAIEmbedder",
    "SearchHit",
    "SearchQuery",
    "Settings",
    "SqliteStore",
    "StoreError",
    "Summary",
    "Turn",
    "TurnInput",
    "__version__",
    "content_hash",
    "memory_id",
]
