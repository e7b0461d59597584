"""Memories of the Cosmos DB store (async source; the sync one is generated)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from azure.core import MatchConditions
from azure.cosmos.aio import ContainerProxy
from azure.cosmos.exceptions import CosmosHttpResponseError

from agent_memory.core.errors import ConflictError
from agent_memory.core.models import (
    MEMORIES_CONTAINER,
    Memory,
    MemoryType,
    SupersedeReason,
    check_supersede_reason,
)
from agent_memory.core.query import Vector
from agent_memory.core.validation import check_identifier
from agent_memory.stores.cosmos import documents as docs
from agent_memory.stores.cosmos import queries
from agent_memory.stores.cosmos._async.connection import AsyncCosmosConnection
from agent_memory.stores.cosmos.errors import (
    NOT_FOUND,
    PRECONDITION_FAILED,
    WRITE_ATTEMPTS,
    guarded,
    is_status,
)


class AsyncCosmosMemories(AsyncCosmosConnection):
    """Creating, reading, listing and superseding a user's memories."""

    async def create_memory(
        self, memory: Memory, embedding: Vector | None, *, epoch: str | None = None
    ) -> bool:
        """Create ``memory`` unless an active one with its id exists; True when written.

        A superseded or expired (not yet purged) item with the same id is replaced, on the
        condition that it is unchanged since it was read (``If-Match`` on its ETag).
        """
        docs.check_vector(embedding, self.dimensions)
        now = self._now()
        body = docs.memory_doc(memory, embedding, now)
        partition = docs.user_partition(memory.user_id)
        await self._check_epoch(memory.user_id, epoch)
        await self._ensure_epoch(memory.user_id)
        with guarded(self.charges, "create_memory", memory.user_id):
            container = await self._container(MEMORIES_CONTAINER)
            for _ in range(WRITE_ATTEMPTS):
                if await self._create(container, body):
                    return True
                found = await self._read(container, memory.id, partition)
                if found is None:
                    continue  # purged since the create was refused
                if not docs.expired(found, now) and not isinstance(found.get("superseded_by"), str):
                    return False
                if await self._replace_unchanged(container, found, body):
                    return True
        raise ConflictError(f"memory {memory.id!r} of {memory.user_id!r} kept conflicting")

    async def _replace_unchanged(
        self, container: ContainerProxy, found: dict[str, Any], body: dict[str, Any]
    ) -> bool:
        """Replace ``found`` by ``body`` unless it changed since read; False when it did."""
        try:
            await container.replace_item(
                found["id"],
                body,
                etag=found["_etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except CosmosHttpResponseError as exc:
            if is_status(exc, NOT_FOUND, PRECONDITION_FAILED):
                return False
            raise
        return True

    async def get_memory(self, user_id: str, memory_id: str) -> Memory | None:
        """One unexpired memory of the user (superseded or not), or None."""
        check_identifier(user_id, "user_id")
        if not memory_id or docs.has_forbidden(memory_id):
            return None
        with guarded(self.charges, "get_memory", user_id):
            container = await self._container(MEMORIES_CONTAINER)
            found = await self._read(container, memory_id, docs.user_partition(user_id))
        if found is None or docs.expired(found, self._now()):
            return None
        return docs.memory_from_doc(found)

    async def list_memories(
        self,
        user_id: str,
        *,
        memory_types: Sequence[MemoryType] | None = None,
        thread_id: str | None = None,
        min_confidence: float | None = None,
        include_superseded: bool = False,
        limit: int | None = None,
    ) -> list[Memory]:
        """The user's unexpired memories, newest first."""
        query = queries.list_memories(
            user_id,
            self._now().timestamp(),
            memory_types=memory_types,
            thread_id=thread_id,
            min_confidence=min_confidence,
            include_superseded=include_superseded,
            limit=limit,
        )
        with guarded(self.charges, "list_memories", user_id):
            container = await self._container(MEMORIES_CONTAINER)
            rows = await self._query(container, query, docs.user_partition(user_id))
        return [docs.memory_from_doc(r) for r in rows]

    async def supersede(
        self,
        user_id: str,
        memory_id: str,
        *,
        by: str,
        reason: SupersedeReason,
        epoch: str | None = None,
    ) -> bool:
        """Mark an active memory superseded (a patch conditioned on it being active).

        Any write restarts a Cosmos DB item's TTL, so a memory that expires (``expires_at``)
        gets a second patch setting its ``ttl`` to the seconds it had left: superseding never
        extends a memory's life.
        """
        check_supersede_reason(reason)
        check_identifier(user_id, "user_id")
        if not memory_id or docs.has_forbidden(memory_id):
            return False
        await self._check_epoch(user_id, epoch)
        moment = self._now()
        now = docs.timestamp(moment)
        operations = docs.supersede_operations(by, reason, now)
        partition = docs.user_partition(user_id)
        with guarded(self.charges, "supersede", user_id):
            container = await self._container(MEMORIES_CONTAINER)
            condition = queries.active_memory_condition(moment.timestamp())
            patched = await self._patch(container, memory_id, partition, operations, condition)
            if patched is None:
                return False
            remaining = docs.remaining_ttl(patched, moment)
            if remaining is not None:
                ttl = [{"op": "set", "path": "/ttl", "value": remaining}]
                await self._patch(container, memory_id, partition, ttl)
        return True
