"""Activity bodies for the Function app: small JSON in, the SDK's activity, small JSON out."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from agent_memory.core.errors import ForgottenError
from agent_memory.core.requests import (
    ExtractResult,
    ReconcileRequest,
    ThreadRequest,
    UserRequest,
)
from agent_memory.core.status import OWNER_DURABLE, OWNER_INPROCESS
from agent_memory.durable.host.worker import get_worker
from agent_memory.pipeline._async import activities
from agent_memory.processor._async.inprocess import TURNS_COUNTER

logger = logging.getLogger("agent_memory.durable")


async def extract_memories(request: Mapping[str, Any]) -> dict[str, Any]:
    """Extract memories from the thread's pending turns; marks the thread's counter as durable.

    The mark lets an in-process client on the same data warn that two owners are running, and
    lets this app warn when the counter was last written by an in-process client. It is a write
    of the user's like the step's own: checked against the user's epoch, so a user forgotten
    before the activity runs gets no counter back (the result says ``forgotten``).
    """
    parsed = ThreadRequest.model_validate(request)
    worker = await get_worker()
    epoch = await worker.store.user_epoch(parsed.user_id)
    if not epoch:  # no data of the user: forgotten since the turns were written
        return ExtractResult(forgotten=True).model_dump(mode="json")
    try:
        mark = await worker.store.increment_counter(
            parsed.user_id,
            TURNS_COUNTER,
            thread_id=parsed.thread_id,
            by=0,
            owner=OWNER_DURABLE,
            epoch=epoch,
        )
    except ForgottenError:
        return ExtractResult(forgotten=True).model_dump(mode="json")
    if mark.previous_owner == OWNER_INPROCESS:
        logger.warning(
            "thread %r of user %r was last counted in-process; run one owner per deployment "
            "(MEMORY_PROCESSOR_OWNER)",
            parsed.thread_id,
            parsed.user_id,
        )
    result = await activities.extract_memories(worker.store, worker.model(), parsed)
    return result.model_dump(mode="json")


async def reconcile(request: Mapping[str, Any]) -> dict[str, Any]:
    """Supersede duplicates and contradictions among the user's recent facts."""
    worker = await get_worker()
    result = await activities.reconcile(
        worker.store, worker.model(), ReconcileRequest.model_validate(request)
    )
    return result.model_dump(mode="json")


async def summarize_thread(request: Mapping[str, Any]) -> dict[str, Any]:
    """Fold the thread's new turns into its summary."""
    worker = await get_worker()
    result = await activities.summarize_thread(
        worker.store, worker.model(), ThreadRequest.model_validate(request)
    )
    return result.model_dump(mode="json")


async def summarize_user(request: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite the user profile."""
    worker = await get_worker()
    result = await activities.summarize_user(
        worker.store, worker.model(), UserRequest.model_validate(request)
    )
    return result.model_dump(mode="json")
