"""Run by ``.ci/run`` in a virtualenv holding only ``pip install .``: the async Cosmos DB store
opens its client there (``azure.cosmos.aio`` needs an async transport, aiohttp, which the
``azure-cosmos[aio]`` requirement brings).

Nothing is sent: the client is built, its transport checked and closed.
"""

from __future__ import annotations

import asyncio

from azure.core.pipeline.transport import AioHttpTransport

from agent_memory.aio import AsyncCosmosStore


async def main() -> None:
    store = AsyncCosmosStore("https://127.0.0.1:9/", key="dGVzdC1rZXk=")
    client = store._open_client()
    transport = client.client_connection.pipeline_client._pipeline._transport
    assert isinstance(transport, AioHttpTransport), type(transport)
    await client.close()
    await store.close()
    print("base install: AsyncCosmosStore builds its client on", type(transport).__name__)


asyncio.run(main())
