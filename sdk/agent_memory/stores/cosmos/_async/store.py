"""The Azure Cosmos DB store (async source; the sync one is generated).

Item layout, turn sequence numbers and the usage ledger are described in
:mod:`agent_memory.stores.cosmos.documents`; every query is built by
:mod:`agent_memory.stores.cosmos.queries`; containers come from ``containers.json`` (package
data of :mod:`agent_memory.stores.cosmos`).

The store is composed by concern, one module each beside this one: ``connection`` (client,
containers, item helpers, request charges, the embedding model, forget epochs), ``turns``,
``memories``, ``search``, ``state`` (summaries, usage ledger, counters, watermarks) and
``forget``.
"""

from __future__ import annotations

from typing import Any

from agent_memory.core.errors import ConfigurationError
from agent_memory.settings import Settings
from agent_memory.stores.cosmos._async.forget import AsyncCosmosForget
from agent_memory.stores.cosmos._async.memories import AsyncCosmosMemories
from agent_memory.stores.cosmos._async.search import AsyncCosmosSearch
from agent_memory.stores.cosmos._async.state import AsyncCosmosState
from agent_memory.stores.cosmos._async.turns import AsyncCosmosTurns


class AsyncCosmosStore(
    AsyncCosmosTurns, AsyncCosmosMemories, AsyncCosmosSearch, AsyncCosmosState, AsyncCosmosForget
):
    """:class:`~agent_memory.aio.MemoryStore` on Azure Cosmos DB (``azure-cosmos``).

    Authenticates with ``key`` when given, else ``credential``, else
    ``DefaultAzureCredential`` (a user-assigned identity through ``client_id``). Nothing is
    sent until the first operation (or :meth:`connect`), which creates the database and the
    containers of ``stores/cosmos/containers.json`` if they are missing. Throttled requests
    (429) are retried by the SDK after the ``retry-after`` the service sends.
    """

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> AsyncCosmosStore:
        """The store ``settings`` describe (``COSMOS_DB_*``, ``EMBEDDING_DIMENSIONS``)."""
        if not settings.cosmos_endpoint:
            raise ConfigurationError("COSMOS_DB_ENDPOINT is not set")
        return cls(
            settings.cosmos_endpoint,
            key=settings.cosmos_key,
            client_id=settings.azure_client_id,
            database=settings.cosmos_database,
            dimensions=settings.embedding_dimensions,
            vector_index=settings.cosmos_vector_index,
            turns_ttl=settings.cosmos_turns_ttl,
            counters_ttl=settings.cosmos_counters_ttl,
            verify_tls=settings.cosmos_verify_tls,
            **options,
        )

    async def __aenter__(self) -> AsyncCosmosStore:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
