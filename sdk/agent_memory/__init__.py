"""agent-memory: long-term memory for AI agents on Azure Cosmos DB or an embedded store.

The sync API lives here; :mod:`agent_memory.aio` mirrors it with coroutines.
"""

import logging
from typing import TYPE_CHECKING

from agent_memory.core.lazy import lazy_exports

__version__ = "0.1.0"

#: The SDK logs under ``agent_memory.*`` and leaves handlers to the application.
logging.getLogger("agent_memory").addHandler(logging.NullHandler())

#: Public name -> module defining it. Modules load on first use, so ``import agent_memory``
#: (and the ``agent-memory`` command's start-up) costs nothing until a name is used.
_EXPORTS: dict[str, str] = {
    "MemoryClient": "agent_memory.client._sync.client",
    "Embedder": "agent_memory.embeddings._sync.embedder",
    "OpenAIEmbedder": "agent_memory.embeddings._sync.embedder",
    "MemoryStore": "agent_memory.stores._sync.protocol",
    "CosmosStore": "agent_memory.stores.cosmos._sync.store",
    "LocalEmbedder": "agent_memory.embeddings.local",
    "AgentMemoryError": "agent_memory.core.errors",
    "ConfigurationError": "agent_memory.core.errors",
    "ConflictError": "agent_memory.core.errors",
    "ForgottenError": "agent_memory.core.errors",
    "PartitionFullError": "agent_memory.core.errors",
    "InvalidInputError": "agent_memory.core.errors",
    "ModelError": "agent_memory.core.errors",
    "NotFoundError": "agent_memory.core.errors",
    "StoreError": "agent_memory.core.errors",
    "Memory": "agent_memory.core.models",
    "MemoryType": "agent_memory.core.models",
    "SearchHit": "agent_memory.core.models",
    "Summary": "agent_memory.core.models",
    "Turn": "agent_memory.core.models",
    "TurnInput": "agent_memory.core.models",
    "content_hash": "agent_memory.core.models",
    "memory_id": "agent_memory.core.models",
    "Settings": "agent_memory.settings",
    "Thresholds": "agent_memory.core.due",
    "HIGH_VOLUME": "agent_memory.core.due",
    "SearchQuery": "agent_memory.core.query",
    "SqliteStore": "agent_memory.stores.sqlite",
}

if TYPE_CHECKING:
    from agent_memory.client._sync.client import MemoryClient
    from agent_memory.core.due import HIGH_VOLUME, Thresholds
    from agent_memory.core.errors import (
        AgentMemoryError,
        ConfigurationError,
        ConflictError,
        ForgottenError,
        InvalidInputError,
        ModelError,
        NotFoundError,
        PartitionFullError,
        StoreError,
    )
    from agent_memory.core.models import (
        Memory,
        MemoryType,
        SearchHit,
        Summary,
        Turn,
        TurnInput,
        content_hash,
        memory_id,
    )
    from agent_memory.core.query import SearchQuery
    from agent_memory.embeddings._sync.embedder import Embedder, OpenAIEmbedder
    from agent_memory.embeddings.local import LocalEmbedder
    from agent_memory.settings import Settings
    from agent_memory.stores._sync.protocol import MemoryStore
    from agent_memory.stores.cosmos._sync.store import CosmosStore
    from agent_memory.stores.sqlite import SqliteStore


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


__all__ = [
    "HIGH_VOLUME",
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
    "PartitionFullError",
    "SearchHit",
    "SearchQuery",
    "Settings",
    "SqliteStore",
    "StoreError",
    "Summary",
    "Thresholds",
    "Turn",
    "TurnInput",
    "__version__",
    "content_hash",
    "memory_id",
]
