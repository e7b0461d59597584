"""The Azure Cosmos DB store's shared, I/O-free parts.

The store itself is ``agent_memory.stores.cosmos._async.store.AsyncCosmosStore`` (generated sync
twin: ``agent_memory.stores.cosmos._sync.store.CosmosStore``); both are importable from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent_memory.stores.cosmos._async.store import AsyncCosmosStore
    from agent_memory.stores.cosmos._sync.store import CosmosStore

__all__ = ["AsyncCosmosStore", "CosmosStore"]


def __getattr__(name: str) -> Any:
    if name == "CosmosStore":
        from agent_memory.stores.cosmos._sync.store import CosmosStore

        return CosmosStore
    if name == "AsyncCosmosStore":
        from agent_memory.stores.cosmos._async.store import AsyncCosmosStore

        return AsyncCosmosStore
    raise AttributeError(name)
