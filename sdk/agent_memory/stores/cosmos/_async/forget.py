"""Deleting a user's (or one thread's) items (async source; the sync one is generated)."""

from __future__ import annotations

import uuid
from typing import Any

from azure.cosmos.aio import ContainerProxy
from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosHttpResponseError

from agent_memory.core.models import (
    COUNTERS_CONTAINER,
    MEMORIES_CONTAINER,
    SUMMARIES_CONTAINER,
    TURNS_CONTAINER,
)
from agent_memory.core.validation import check_identifier
from agent_memory.stores.cosmos import documents as docs
from agent_memory.stores.cosmos import queries
from agent_memory.stores.cosmos._async.connection import AsyncCosmosConnection
from agent_memory.stores.cosmos.errors import NOT_FOUND, guarded, is_status


class AsyncCosmosForget(AsyncCosmosConnection):
    """``forget``: every item of a user, or of one thread, in every container."""

    async def forget(self, user_id: str, *, thread_id: str | None = None) -> dict[str, int]:
        """Delete every item of the user (or one thread) in every container; counts per container.

        ``memories_turns`` counts turns (a thread's head item goes too, uncounted);
        ``memories_counters`` counts counters and watermarks; the usage ledger is deleted with
        the user but not counted (as in the embedded store).
        """
        check_identifier(user_id, "user_id")
        if thread_id is not None:
            check_identifier(thread_id, "thread_id")
        counts: dict[str, int] = {}
        with guarded(self.charges, "forget", user_id):
            for name in (TURNS_CONTAINER, MEMORIES_CONTAINER, SUMMARIES_CONTAINER):
                container = await self._container(name)
                rows = await self._forget_rows(container, name, user_id, thread_id)
                deleted = await self._delete(container, user_id, rows)
                counts[name] = sum(1 for r in deleted if not docs.is_head(r))
            container = await self._container(COUNTERS_CONTAINER)
            rows = await self._forget_rows(container, COUNTERS_CONTAINER, user_id, thread_id)
            deleted = await self._delete(container, user_id, rows)
            counts[COUNTERS_CONTAINER] = sum(1 for r in deleted if r.get("kind") in docs.COUNTED)
            if thread_id is not None:  # steps in flight for the user start again
                await container.upsert_item(docs.epoch_doc(user_id, uuid.uuid4().hex))
        return counts

    async def _forget_rows(
        self, container: ContainerProxy, name: str, user_id: str, thread_id: str | None
    ) -> list[dict[str, Any]]:
        if thread_id is None:
            return await self._query(container, queries.items_of(user_id), [user_id])
        if name == MEMORIES_CONTAINER:
            query = queries.memories_from_thread(user_id, thread_id)
            return await self._query(container, query, docs.user_partition(user_id))
        query = queries.items_of(user_id, thread_id)
        return await self._query(container, query, [user_id, thread_id])

    async def _delete(
        self, container: ContainerProxy, user_id: str, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Delete ``rows`` (one transactional batch per partition and 100 items); the deleted."""
        deleted: list[dict[str, Any]] = []
        for thread, group in docs.by_partition(rows):
            partition = [user_id, thread]
            for batch in docs.batches(group):
                try:
                    await container.execute_item_batch(
                        [("delete", (row["id"],)) for row in batch], partition_key=partition
                    )
                    deleted.extend(batch)
                except CosmosBatchOperationError as exc:
                    if not is_status(exc, NOT_FOUND):
                        raise
                    for row in batch:
                        try:
                            await container.delete_item(row["id"], partition_key=partition)
                            deleted.append(row)
                        except CosmosHttpResponseError as missing:
                            if not is_status(missing, NOT_FOUND):
                                raise
        return deleted
