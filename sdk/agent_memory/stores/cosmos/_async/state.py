"""Summaries, usage ledger, counters, watermarks (async source; the sync one is generated)."""

from __future__ import annotations

import uuid
from typing import Any

from azure.core import MatchConditions
from azure.cosmos.exceptions import CosmosHttpResponseError

from agent_memory.core.errors import ConflictError
from agent_memory.core.models import (
    COUNTERS_CONTAINER,
    SUMMARIES_CONTAINER,
    CounterIncrement,
    Summary,
    SummaryKind,
    UsageRecord,
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


class AsyncCosmosState(AsyncCosmosConnection):
    """Per-user and per-thread state: summaries, the usage ledger, counters and watermarks."""

    async def get_summary(
        self, user_id: str, kind: SummaryKind, thread_id: str | None = None
    ) -> Summary | None:
        """The thread summary (``kind='thread'``) or user profile (``kind='user'``)."""
        check_identifier(user_id, "user_id")
        if kind == "thread" and thread_id is None:
            return None
        partition = docs.thread_partition(user_id, thread_id if kind == "thread" else None)
        with guarded(self.charges, "get_summary", user_id):
            container = await self._container(SUMMARIES_CONTAINER)
            found = await self._read(container, docs.summary_id(kind), partition)
        return None if found is None else docs.summary_from_doc(found)

    async def put_summary(
        self, summary: Summary, embedding: Vector | None, *, epoch: str | None = None
    ) -> None:
        """Create or replace a summary, unless the stored one covers more turns.

        A stored summary with a higher ``covers_up_to`` is kept (a late or repeated step
        never rolls a summary back); otherwise the new one replaces it, conditioned on the
        ETag read (a concurrent writer makes the comparison start over).
        """
        docs.check_vector(embedding, self.dimensions)
        await self._check_epoch(summary.user_id, epoch)
        body = docs.summary_doc(summary, embedding)
        query = queries.summary_state(summary.user_id, body["thread_id"], body["id"])
        partition = [summary.user_id, body["thread_id"]]
        with guarded(self.charges, "put_summary", summary.user_id):
            container = await self._container(SUMMARIES_CONTAINER)
            for _ in range(WRITE_ATTEMPTS):
                found = await self._query(container, query, partition)
                if not found:
                    if await self._create(container, body):
                        return
                    continue
                if int(found[0].get("covers_up_to") or 0) > summary.covers_up_to:
                    return
                try:
                    await container.replace_item(
                        body["id"],
                        body,
                        etag=found[0]["_etag"],
                        match_condition=MatchConditions.IfNotModified,
                    )
                    return
                except CosmosHttpResponseError as exc:
                    if not is_status(exc, NOT_FOUND, PRECONDITION_FAILED):
                        raise
        raise ConflictError(f"the {summary.kind} summary of {summary.user_id!r} kept conflicting")

    async def list_summaries(self, user_id: str, kind: SummaryKind) -> list[Summary]:
        """Every summary of a kind for the user, most recently updated first."""
        with guarded(self.charges, "list_summaries", user_id):
            container = await self._container(SUMMARIES_CONTAINER)
            rows = await self._query(container, queries.list_summaries(user_id, kind), [user_id])
        summaries = [docs.summary_from_doc(r) for r in rows]
        return sorted(summaries, key=lambda s: (s.updated_at, s.thread_id or ""), reverse=True)

    # -- usage ledger --------------------------------------------------------------------

    async def record_usage(self, record: UsageRecord, *, epoch: str | None = None) -> None:
        """Append one model call to the ledger, with the store's RU for the user since the last."""
        await self._check_epoch(record.user_id, epoch)
        body = docs.usage_doc(
            record,
            item_id=f"usage-{uuid.uuid4().hex}",
            seq=self._seq.reserve(1),
            charges=self.charges.take(record.user_id),
        )
        with guarded(self.charges, "record_usage", record.user_id):
            container = await self._container(COUNTERS_CONTAINER)
            await container.create_item(body)

    async def list_usage(self, user_id: str) -> list[UsageRecord]:
        """The user's usage ledger, oldest first."""
        return [docs.usage_from_doc(r) for r in await self._ledger(user_id, charges=False)]

    async def ledgered_request_charges(self, user_id: str) -> dict[str, float]:
        """Request units the ledger attributes to the user's store operations, per operation."""
        totals: dict[str, float] = {}
        for row in await self._ledger(user_id, charges=True):
            for name, value in (row.get("request_charges") or {}).items():
                totals[name] = totals.get(name, 0.0) + float(value)
        return totals

    async def _ledger(self, user_id: str, *, charges: bool) -> list[dict[str, Any]]:
        with guarded(self.charges, "list_usage", user_id):
            container = await self._container(COUNTERS_CONTAINER)
            query = queries.list_usage(user_id, charges=charges)
            return await self._query(container, query, docs.user_partition(user_id))

    # -- counters and watermarks ---------------------------------------------------------

    async def increment_counter(
        self,
        user_id: str,
        name: str,
        *,
        thread_id: str | None = None,
        by: int = 1,
        owner: str | None = None,
        epoch: str | None = None,
    ) -> CounterIncrement:
        """Atomically add ``by`` (a patch ``incr``); return the values before and after.

        ``epoch=`` is read just before the write (see :meth:`user_epoch`).
        """
        check_identifier(user_id, "user_id")
        await self._check_epoch(user_id, epoch)
        item_id = docs.counter_id(name)
        partition = docs.thread_partition(user_id, thread_id)
        now = docs.timestamp(self._now())
        operations = docs.counter_operations(by, owner, now)
        with guarded(self.charges, "increment_counter", user_id):
            container = await self._container(COUNTERS_CONTAINER)
            if by == 0 and owner is None:
                found = await self._read(container, item_id, partition) or {}
                total = int(found.get("total", 0))
                return CounterIncrement(
                    before=total, after=total, previous_owner=found.get("last_owner")
                )
            for _ in range(WRITE_ATTEMPTS):
                patched = await self._patch(container, item_id, partition, operations)
                if patched is not None:
                    after = int(patched["total"])
                    previous = patched.get("previous_owner" if owner else "last_owner")
                    return CounterIncrement(before=after - by, after=after, previous_owner=previous)
                body = docs.counter_doc(item_id, partition, name, by, owner, now)
                if await self._create(container, body):
                    return CounterIncrement(before=0, after=by, previous_owner=None)
        raise ConflictError(f"counter {name!r} of {user_id!r} kept conflicting")

    async def get_watermark(self, user_id: str, thread_id: str, step: str) -> int:
        """The turn ``seq`` a step has processed up to in a thread (0 when none)."""
        check_identifier(user_id, "user_id")
        with guarded(self.charges, "get_watermark", user_id):
            container = await self._container(COUNTERS_CONTAINER)
            found = await self._read(container, docs.watermark_id(step), [user_id, thread_id])
        return 0 if found is None else int(found["seq"])

    async def advance_watermark(
        self, user_id: str, thread_id: str, step: str, value: int, *, epoch: str | None = None
    ) -> int:
        """Move a watermark forward (a patch conditioned on ``seq < value``); return it."""
        check_identifier(user_id, "user_id")
        await self._check_epoch(user_id, epoch)
        item_id = docs.watermark_id(step)
        partition = [user_id, thread_id]
        target = int(value)
        now = docs.timestamp(self._now())
        operations = docs.watermark_operations(target, now)
        with guarded(self.charges, "advance_watermark", user_id):
            container = await self._container(COUNTERS_CONTAINER)
            for _ in range(WRITE_ATTEMPTS):
                condition = queries.watermark_below(target)
                patched = await self._patch(container, item_id, partition, operations, condition)
                if patched is not None:
                    return int(patched["seq"])
                found = await self._read(container, item_id, partition)
                if found is not None:
                    if int(found["seq"]) >= target:
                        return int(found["seq"])
                    continue
                body = docs.watermark_doc(item_id, partition, step, target, now)
                if await self._create(container, body):
                    return target
        raise ConflictError(f"watermark {step!r} of {user_id!r} kept conflicting")

    async def compare_and_set_watermark(
        self,
        user_id: str,
        thread_id: str,
        step: str,
        *,
        expected: int,
        value: int,
        epoch: str | None = None,
    ) -> bool:
        """Move a watermark from ``expected`` (0: none stored) to ``value``; True when moved.

        From 0 the item is created (a conflict means it exists: then patched as below);
        otherwise a patch conditioned on ``seq = expected``, so of two runs that read the same
        watermark exactly one moves it. False (nothing written) when the condition fails or
        ``value`` is not above ``expected``.
        """
        check_identifier(user_id, "user_id")
        await self._check_epoch(user_id, epoch)
        expected, target = int(expected), int(value)
        if target <= expected:
            return False
        item_id = docs.watermark_id(step)
        partition = [user_id, thread_id]
        now = docs.timestamp(self._now())
        operations = docs.watermark_operations(target, now)
        with guarded(self.charges, "compare_and_set_watermark", user_id):
            container = await self._container(COUNTERS_CONTAINER)
            if expected == 0:
                body = docs.watermark_doc(item_id, partition, step, target, now)
                if await self._create(container, body):
                    return True
            condition = queries.watermark_at(expected)
            patched = await self._patch(container, item_id, partition, operations, condition)
        return patched is not None
