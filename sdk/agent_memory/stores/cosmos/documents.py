"""How records are laid out as Cosmos DB items, and back.

Every container is partitioned by ``(user_id, thread_id)``. Records that belong to a user
rather than to one thread — memories (their id derives from user, type and content), the user
profile, user-level counters and the usage ledger — live in the user's partition
``(user_id, "#user")``; a memory keeps the thread it came from in ``origin_thread_id``. ``#``
is never valid in an id, so these partitions cannot collide with a real thread, and the
store's own metadata sits in ``("#store", "#store")``, apart from every user.

Each thread's partition of the turns container also holds one **head** item (id
:data:`HEAD_ID`, ``kind`` ``"thread-head"``, no ``seq`` and no ``role``, so turn queries and the
change-feed trigger never take it for a turn). It records the thread's first and last ``seq``
and is replaced, conditioned on its ETag, in the same transactional batch as the turns it
numbers: appends to a thread commit one at a time, in ``seq`` order. It is also the thread
registry ``list_threads`` reads, and it expires with the thread's last turn under a turns TTL.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import numpy as np

from agent_memory.core.errors import ConfigurationError
from agent_memory.core.models import (
    Memory,
    Summary,
    SummaryKind,
    SupersedeReason,
    Turn,
    UsageRecord,
)
from agent_memory.core.query import Vector
from agent_memory.core.validation import check_identifier

#: Thread component of the partition holding a user's user-level records.
USER_SCOPE: Final = "#user"
#: Partition of the store's own metadata (the embedding model).
STORE_PARTITION: Final = ["#store", "#store"]
META_ID: Final = "embedding-model"

T = TypeVar("T")

#: Id of a thread's head item in the turns container (a turn may not use it).
HEAD_ID: Final = "agent-memory-thread-head"
KIND_HEAD: Final = "thread-head"
KIND_COUNTER: Final = "counter"
KIND_WATERMARK: Final = "watermark"
KIND_EPOCH: Final = "epoch"
#: Id of the item holding a user's forget epoch (in the user's partition of the counters).
EPOCH_ID: Final = "user-epoch"
KIND_USAGE: Final = "usage"

TURN_FIELDS: Final = tuple(Turn.model_fields)
MEMORY_FIELDS: Final = (*(f for f in Memory.model_fields if f != "thread_id"), "origin_thread_id")
SUMMARY_FIELDS: Final = tuple(Summary.model_fields)
USAGE_FIELDS: Final = tuple(UsageRecord.model_fields)


def timestamp(value: datetime) -> str:
    """Fixed-width UTC ISO 8601 (microseconds, ``Z``), so string order is time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def key_part(value: str, name: str) -> str:
    """``value`` if it can be part of an item id (counter names, step names)."""
    return check_identifier(value, name)


def user_partition(user_id: str) -> list[str]:
    """The partition of the user's user-level records."""
    return [user_id, USER_SCOPE]


def thread_partition(user_id: str, thread_id: str | None) -> list[str]:
    """The partition of a thread's records (the user's partition when ``thread_id`` is None)."""
    return [user_id, USER_SCOPE if thread_id is None else thread_id]


class SeqClock:
    """Turn sequence numbers: microseconds since the epoch, strictly increasing per process.

    A thread's next ``seq`` is ``max(its last seq + 1, now)``, so it only grows within the
    thread, even after every turn of it expired, and threads sort by when they began.
    """

    def __init__(self, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._clock_ns = clock_ns
        self._last = 0
        self._lock = threading.Lock()

    def reserve(self, count: int, *, after: int = 0) -> int:
        """The first of ``count`` consecutive values above ``after`` and above any handed out."""
        with self._lock:
            start = max(self._last + 1, after + 1, self._clock_ns() // 1000)
            self._last = start + count - 1
        return start


def _vector(vector: Vector) -> list[float]:
    values: list[float] = np.asarray(vector, dtype=np.float32).reshape(-1).astype(float).tolist()
    return values


def turn_doc(turn: Turn, seq: int, vector: Vector | None) -> dict[str, Any]:
    """The item of a turn."""
    doc = turn.model_dump(mode="json")
    doc.update(seq=seq, created_at=timestamp(turn.created_at))
    if vector is not None:
        doc["embedding"] = _vector(vector)
    return doc


def head_doc(
    user_id: str, thread_id: str, *, first_seq: int, last_seq: int, now: str
) -> dict[str, Any]:
    """A thread's head item: the first and last ``seq`` of its turns."""
    return {
        "id": HEAD_ID,
        "user_id": user_id,
        "thread_id": thread_id,
        "kind": KIND_HEAD,
        "first_seq": first_seq,
        "last_seq": last_seq,
        "updated_at": now,
    }


def is_head(doc: Mapping[str, Any]) -> bool:
    """True for a thread's head item (not a turn)."""
    return doc.get("kind") == KIND_HEAD and doc.get("id") == HEAD_ID


def turn_from_doc(doc: Mapping[str, Any]) -> Turn:
    """A turn from its item."""
    return Turn.model_validate({k: doc[k] for k in TURN_FIELDS if k in doc})


def memory_doc(memory: Memory, vector: Vector | None, now: datetime) -> dict[str, Any]:
    """The item of a memory: in the user's partition, ``ttl`` (Cosmos expiry) only when set.

    ``expires_at`` (epoch seconds, from ``now``) makes reads exact before Cosmos purges it.
    """
    doc = memory.model_dump(mode="json")
    doc.update(
        thread_id=USER_SCOPE,
        origin_thread_id=memory.thread_id,
        created_at=timestamp(memory.created_at),
        updated_at=timestamp(memory.updated_at),
        superseded_at=None if memory.superseded_at is None else timestamp(memory.superseded_at),
        expires_at=None if memory.ttl is None else now.timestamp() + memory.ttl,
    )
    if memory.ttl is None:
        del doc["ttl"]
    if vector is not None:
        doc["embedding"] = _vector(vector)
    return doc


def memory_from_doc(doc: Mapping[str, Any]) -> Memory:
    """A memory from its item."""
    data = {k: doc[k] for k in MEMORY_FIELDS if k in doc}
    data["thread_id"] = data.pop("origin_thread_id")
    return Memory.model_validate(data)


def summary_id(kind: SummaryKind) -> str:
    """Id of the thread summary (in the thread's partition) or the profile (user's partition)."""
    return f"summary-{kind}"


def summary_doc(summary: Summary, vector: Vector | None) -> dict[str, Any]:
    """The item of a summary."""
    doc = summary.model_dump(mode="json")
    doc.update(
        id=summary_id(summary.kind),
        thread_id=thread_partition(summary.user_id, summary.thread_id)[1],
        updated_at=timestamp(summary.updated_at),
    )
    if vector is not None:
        doc["embedding"] = _vector(vector)
    return doc


def summary_from_doc(doc: Mapping[str, Any]) -> Summary:
    """A summary from its item."""
    data = {k: doc[k] for k in SUMMARY_FIELDS if k in doc}
    if data.get("kind") == "user":
        data["thread_id"] = None
    return Summary.model_validate(data)


def usage_doc(
    record: UsageRecord, *, item_id: str, seq: int, charges: Mapping[str, float]
) -> dict[str, Any]:
    """A usage-ledger item; ``request_charges`` holds the store's RU for the user since the last."""
    doc = record.model_dump(mode="json")
    doc.update(
        id=item_id,
        thread_id=USER_SCOPE,
        kind=KIND_USAGE,
        seq=seq,
        at=timestamp(record.at),
        request_charges=dict(charges),
    )
    return doc


def usage_from_doc(doc: Mapping[str, Any]) -> UsageRecord:
    """A usage record from its item."""
    return UsageRecord.model_validate({k: doc[k] for k in USAGE_FIELDS if k in doc})


def counter_id(name: str) -> str:
    """Id of a counter item (its partition says whether it counts a thread or the user)."""
    return f"counter-{key_part(name, 'counter name')}"


def watermark_id(step: str) -> str:
    """Id of a step's watermark item in a thread's partition."""
    return f"watermark-{key_part(step, 'step')}"


def meta_doc(model: str, dimensions: int) -> dict[str, Any]:
    """The item recording the store's embedding model (in :data:`STORE_PARTITION`)."""
    partition = STORE_PARTITION
    return {
        "id": META_ID,
        "user_id": partition[0],
        "thread_id": partition[1],
        "kind": "meta",
        "model": model,
        "dimensions": dimensions,
        "ttl": -1,  # never expires, whatever the counters container's TTL
    }


def check_vector(vector: Vector | None, dimensions: int) -> None:
    """Refuse a vector of the wrong length before anything is written."""
    size = None if vector is None else int(np.asarray(vector).size)
    if size is not None and size != dimensions:
        raise ConfigurationError(
            f"embedding has {size} dimensions; the Cosmos DB containers index {dimensions}-"
            "dimension vectors (EMBEDDING_DIMENSIONS)"
        )


#: Kinds of counters-container items that ``forget`` reports (the ledger is deleted silently).
COUNTED: Final = frozenset((KIND_COUNTER, KIND_WATERMARK))
#: Transactional batch limits: 100 operations, 2 MB of request body (kept well under).
BATCH_ITEMS: Final = 100
BATCH_BYTES: Final = 1_500_000

_FORBIDDEN_ID_CHARS: Final = frozenset("/\\?#")


def has_forbidden(item_id: str) -> bool:
    """True when ``item_id`` cannot be a Cosmos item id (so no such item exists)."""
    return any(ch in _FORBIDDEN_ID_CHARS or ord(ch) < 32 for ch in item_id)


def expired(doc: Mapping[str, Any], now: datetime) -> bool:
    """True when the item's ``expires_at`` has passed (before Cosmos has purged it)."""
    expires = doc.get("expires_at")
    return isinstance(expires, int | float) and expires <= now.timestamp()


def remaining_ttl(doc: Mapping[str, Any], now: datetime) -> int | None:
    """Whole seconds (at least 1) until an expiring item's ``expires_at``; None if it has none.

    The ``ttl`` to set when rewriting an item, since every write restarts its TTL.
    """
    expires = doc.get("expires_at")
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        return None
    return max(1, math.ceil(expires - now.timestamp()))


def batches(items: list[T], *, reserve: int = 0) -> Iterator[list[T]]:
    """``items`` cut into transactional batches (at most 100 and about 1.5 MB each), leaving
    room for ``reserve`` more operations in each (a thread head's replacement)."""
    batch: list[T] = []
    size = 0
    for item in items:
        length = len(json.dumps(item, separators=(",", ":"))) + 32
        if batch and (len(batch) + reserve >= BATCH_ITEMS or size + length > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += length
    if batch:
        yield batch


def by_partition(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Rows grouped by the thread component of their partition, in first-seen order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["thread_id"], []).append(row)
    return list(groups.items())


def counter_doc(
    item_id: str, partition: list[str], name: str, total: int, owner: str | None, now: str
) -> dict[str, Any]:
    """A new counter item."""
    return {
        "id": item_id,
        "user_id": partition[0],
        "thread_id": partition[1],
        "kind": KIND_COUNTER,
        "name": name,
        "total": total,
        "last_owner": owner,
        "previous_owner": None,
        "updated_at": now,
    }


def watermark_doc(
    item_id: str, partition: list[str], step: str, seq: int, now: str
) -> dict[str, Any]:
    """A new watermark item."""
    return {
        "id": item_id,
        "user_id": partition[0],
        "thread_id": partition[1],
        "kind": KIND_WATERMARK,
        "step": step,
        "seq": seq,
        "updated_at": now,
    }


def epoch_doc(user_id: str, epoch: str) -> dict[str, Any]:
    """The item holding the user's forget epoch (deleted with the user's other items)."""
    partition = user_partition(user_id)
    return {
        "id": EPOCH_ID,
        "user_id": partition[0],
        "thread_id": partition[1],
        "kind": KIND_EPOCH,
        "epoch": epoch,
    }


def supersede_operations(by: str, reason: SupersedeReason, now: str) -> list[dict[str, Any]]:
    """The patch marking a memory superseded by ``by``."""
    return [
        {"op": "set", "path": "/superseded_by", "value": by},
        {"op": "set", "path": "/supersede_reason", "value": reason},
        {"op": "set", "path": "/superseded_at", "value": now},
        {"op": "set", "path": "/updated_at", "value": now},
    ]


def counter_operations(by: int, owner: str | None, now: str) -> list[dict[str, Any]]:
    """The patch adding ``by`` to a counter; with an ``owner``, the last owner moves to
    ``previous_owner`` and ``owner`` becomes the last."""
    operations: list[dict[str, Any]] = [{"op": "incr", "path": "/total", "value": by}]
    if owner is not None:
        operations += [
            {"op": "move", "from": "/last_owner", "path": "/previous_owner"},
            {"op": "set", "path": "/last_owner", "value": owner},
        ]
    operations.append({"op": "set", "path": "/updated_at", "value": now})
    return operations


def watermark_operations(seq: int, now: str) -> list[dict[str, Any]]:
    """The patch setting a watermark to ``seq``."""
    return [
        {"op": "set", "path": "/seq", "value": seq},
        {"op": "set", "path": "/updated_at", "value": now},
    ]
