"""The Azure Cosmos DB store's shared, I/O-free parts.

The store itself is ``agent_memory.stores.cosmos._async.store.AsyncCosmosStore`` (generated sync
twin: ``agent_memory.stores.cosmos._sync.store.CosmosStore``); both are importable from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_memory.core.lazy import lazy_exports

if TYPE_CHECKING:
    from agent_memory.stores.cosmos._async.store import AsyncCosmosStore
    from agent_memory.stores.cosmos._sync.store import CosmosStore

__all__ = ["AsyncCosmosStore", "CosmosStore"]

__getattr__ = lazy_exports(
    __name__,
    {
        "CosmosStore": "agent_memory.stores.cosmos._sync.store",
        "AsyncCosmosStore": "agent_memory.stores.cosmos._async.store",
    },
    globals(),
)
