# Generated from agent_memory/stores/cosmos/_async/store.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""The Azure Cosmos DB store (sync, generated).

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
from agent_memory.stores.cosmos._sync.forget import CosmosForget
from agent_memory.stores.cosmos._sync.memories import CosmosMemories
from agent_memory.stores.cosmos._sync.search import CosmosSearch
from agent_memory.stores.cosmos._sync.state import CosmosState
from agent_memory.stores.cosmos._sync.turns import CosmosTurns


class CosmosStore(CosmosTurns, CosmosMemories, CosmosSearch, CosmosState, CosmosForget):
    """:class:`~agent_memory.aio.MemoryStore` on Azure Cosmos DB (``azure-cosmos``).

    Authenticates with ``key`` when given, else ``credential``, else
    ``DefaultAzureCredential`` (a user-assigned identity through ``client_id``). Nothing is
    sent until the first operation (or :meth:`connect`), which creates the database and the
    containers of ``stores/cosmos/containers.json`` if they are missing. Throttled requests
    (429) are retried by the SDK after the ``retry-after`` the service sends.
    """

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> CosmosStore:
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

    def __enter__(self) -> CosmosStore:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
