# Generated from agent_memory/stores/cosmos/_async/turns.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""Turns and threads of the Cosmos DB store (sync, generated)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from azure.cosmos import ContainerProxy
from azure.cosmos.exceptions import CosmosBatchOperationError

from agent_memory.core.errors import ConflictError, InvalidInputError
from agent_memory.core.models import TURNS_CONTAINER, AppendResult, Turn
from agent_memory.core.query import Vector
from agent_memory.core.validation import check_identifier
from agent_memory.stores.cosmos import documents as docs
from agent_memory.stores.cosmos import queries
from agent_memory.stores.cosmos._sync.connection import CosmosConnection, PartitionValue
from agent_memory.stores.cosmos.errors import (
    CONFLICT,
    CONFLICT_ATTEMPTS,
    PRECONDITION_FAILED,
    conflict_backoff,
    guarded,
    is_status,
)


class CosmosTurns(CosmosConnection):
    """Appending and listing a thread's turns; listing a user's threads."""

    def append_turns(
        self, user_id: str, thread_id: str, turns: Sequence[Turn], embeddings: Vector | None
    ) -> AppendResult:
        """Append turns; a turn whose id exists in the thread is kept as stored.

        One query reads the thread's head item and which of the turns exist; the new turns get
        ``seq`` values after the head's ``last_seq`` (and not below the clock in µs) and are
        created in one transactional batch (per 99 turns) together with the head's
        replacement, conditioned on the ETag read. A concurrent append to the same thread
        makes that condition fail (412; 409 when both create the head); the append then starts
        over after a short jittered wait, at most 10 attempts (about 3 s of waiting) before
        ``ConflictError``. So appends to one thread commit one at a time and ``seq`` order is
        commit order: a reader that has seen ``seq`` *n* never later finds a new turn below *n*.
        ``InvalidInputError`` for a turn of another user or thread, or with the reserved id
        ``agent-memory-thread-head``.
        """
        check_identifier(user_id, "user_id")
        check_identifier(thread_id, "thread_id")
        if any(t.user_id != user_id or t.thread_id != thread_id for t in turns):
            raise InvalidInputError("every turn must belong to the given user and thread")
        if any(t.id == docs.HEAD_ID for t in turns):
            raise InvalidInputError(f"turn id {docs.HEAD_ID!r} is reserved by the Cosmos DB store")
        unique: dict[str, Turn] = {}
        vectors: dict[str, Vector | None] = {}
        for index, turn in enumerate(turns):
            vector = None if embeddings is None else embeddings[index]
            docs.check_vector(vector, self.dimensions)
            unique.setdefault(turn.id, turn)
            vectors.setdefault(turn.id, vector)
        if not turns:
            return AppendResult(turns=[], created=0)
        partition = [user_id, thread_id]
        stored: dict[str, Turn] = {}
        existing: set[str] = set()
        self._ensure_epoch(user_id)
        with guarded(self.charges, "append_turns", user_id):
            container = self._container(TURNS_CONTAINER)
            for attempt in range(CONFLICT_ATTEMPTS):
                if attempt:
                    self._pause.sleep(conflict_backoff(attempt - 1))
                pending = [t for t in unique.values() if t.id not in stored]
                query = queries.append_state(user_id, thread_id, [t.id for t in pending])
                head: dict[str, Any] | None = None
                for row in self._query(container, query, partition):
                    if docs.is_head(row):
                        head = row
                    else:
                        stored[row["id"]] = docs.turn_from_doc(row)
                        existing.add(row["id"])
                fresh = [t for t in pending if t.id not in stored]
                if not fresh:
                    break
                try:
                    self._commit_turns(container, partition, head, fresh, vectors, stored)
                    break
                except CosmosBatchOperationError as exc:
                    if not is_status(exc, CONFLICT, PRECONDITION_FAILED):
                        raise
            else:
                raise ConflictError(f"appending to thread {thread_id!r} kept conflicting")
        return AppendResult(
            turns=[stored[t.id] for t in turns], created=len(unique) - len(existing)
        )

    def _commit_turns(
        self,
        container: ContainerProxy,
        partition: PartitionValue,
        head: dict[str, Any] | None,
        fresh: list[Turn],
        vectors: dict[str, Vector | None],
        stored: dict[str, Turn],
    ) -> None:
        """Create ``fresh`` after ``head``, moving the head in each batch; each committed batch
        goes into ``stored`` (a later batch that loses a race leaves the earlier ones there)."""
        last = None if head is None else int(head["last_seq"])
        start = self._seq.reserve(len(fresh), after=last or 0)
        first = start if head is None else int(head["first_seq"])
        etag = None if head is None else str(head["_etag"])
        items = [docs.turn_doc(t, start + i, vectors[t.id]) for i, t in enumerate(fresh)]
        for batch in docs.batches(items, reserve=1):
            body = docs.head_doc(
                partition[0],
                partition[1],
                first_seq=first,
                last_seq=int(batch[-1]["seq"]),
                now=docs.timestamp(self._now()),
            )
            move: tuple[Any, ...] = (
                ("create", (body,))
                if etag is None
                else ("replace", (docs.HEAD_ID, body), {"if_match_etag": etag})
            )
            results = container.execute_item_batch(
                [move, *(("create", (item,)) for item in batch)], partition_key=partition
            )
            etag = str(results[0]["eTag"])
            stored.update((item["id"], docs.turn_from_doc(item)) for item in batch)

    def list_turns(
        self,
        user_id: str,
        thread_id: str,
        *,
        after: int = 0,
        limit: int | None = None,
        latest: bool = False,
    ) -> list[Turn]:
        """Turns of a thread with ``seq > after`` in order; ``latest`` keeps the last ``limit``."""
        query = queries.list_turns(user_id, thread_id, after=after, limit=limit, latest=latest)
        with guarded(self.charges, "list_turns", user_id):
            container = self._container(TURNS_CONTAINER)
            rows = self._query(container, query, [user_id, thread_id])
        turns = [docs.turn_from_doc(r) for r in rows]
        return turns[::-1] if latest else turns

    def list_threads(self, user_id: str) -> list[str]:
        """Ids of the user's threads that have turns, oldest first."""
        with guarded(self.charges, "list_threads", user_id):
            container = self._container(TURNS_CONTAINER)
            rows = self._query(container, queries.thread_heads(user_id), [user_id])
        starts = {r["thread_id"]: int(r["first_seq"]) for r in rows}
        return sorted(starts, key=lambda thread: (starts[thread], thread))
