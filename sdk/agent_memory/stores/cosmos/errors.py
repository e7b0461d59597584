"""Cosmos DB and Azure failures as the SDK's typed errors.

Status 403 means two different things: substatus 1014 is a full logical partition
(:class:`~agent_memory.core.errors.PartitionFullError`, a :class:`StoreError`); any other 403 is an
identity without the data-plane role it needs, or a key that is not accepted
(:class:`~agent_memory.core.errors.ConfigurationError`).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosHttpResponseError

from agent_memory.core.errors import (
    AgentMemoryError,
    ConfigurationError,
    ConflictError,
    PartitionFullError,
    StoreError,
)
from agent_memory.stores.cosmos.charges import RequestCharges

NOT_FOUND: Final = 404
CONFLICT: Final = 409
PRECONDITION_FAILED: Final = 412
THROTTLED: Final = 429
FORBIDDEN: Final = 403
#: Substatus of a 403 when a logical partition reached its size limit.
PARTITION_FULL: Final = 1014


#: Attempts of a write that lost to a concurrent writer (an append to a busy thread).
CONFLICT_ATTEMPTS: Final = 10
#: Attempts of a create-or-replace (or patch-or-create) whose item keeps changing or going
#: between the read and the conditional write (memories, summaries, counters, watermarks).
WRITE_ATTEMPTS: Final = 5


def conflict_backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (0-based) of a write that lost a race.

    10 ms doubling up to 0.5 s, ±50 % jitter so racing writers spread out: at most about
    3 s over :data:`CONFLICT_ATTEMPTS` attempts.
    """
    return min(0.5, 0.01 * 2.0**attempt) * random.uniform(0.5, 1.5)


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a Cosmos error (of the failing operation, for a batch)."""
    if isinstance(exc, CosmosHttpResponseError | CosmosBatchOperationError):
        return exc.status_code
    return None


def sub_status_of(exc: BaseException) -> int | None:
    """The substatus of a Cosmos error (of the failing operation, for a batch), if any."""
    if isinstance(exc, CosmosBatchOperationError):
        responses = exc.operation_responses or []
        if 0 <= exc.error_index < len(responses):
            found = responses[exc.error_index].get("subStatusCode")
            if found is not None:
                return int(found)
    found = getattr(exc, "sub_status", None)
    return None if found is None else int(found)


def is_status(exc: BaseException, *statuses: int) -> bool:
    """True when ``exc`` is a Cosmos error with one of ``statuses``."""
    return status_of(exc) in statuses


def translate(exc: AzureError, operation: str) -> AgentMemoryError:
    """The typed error for a Cosmos / Azure failure of ``operation``."""
    status = status_of(exc)
    detail = _message(exc)
    if status == FORBIDDEN and sub_status_of(exc) == PARTITION_FULL:
        return PartitionFullError(
            f"Cosmos DB refused {operation}: the logical partition is full (403, substatus "
            f"1014, 20 GB): {detail}. Forget old threads or set a turns TTL"
        )
    if isinstance(exc, ClientAuthenticationError) or status in (401, FORBIDDEN):
        return ConfigurationError(
            f"Cosmos DB refused {operation} ({status or 'authentication'}): {detail}. Check "
            "COSMOS_DB_KEY, or the identity's Cosmos DB data-plane role assignment (an Entra "
            "ID identity cannot create databases or containers: deploy infra/ first)"
        )
    if status in (CONFLICT, PRECONDITION_FAILED):
        return ConflictError(f"Cosmos DB {operation} lost to a concurrent write: {detail}")
    if status == THROTTLED:
        return StoreError(
            f"Cosmos DB {operation} was still throttled (429) after the SDK's retries: {detail}"
        )
    if status is None:
        return StoreError(f"Cosmos DB {operation} failed: {type(exc).__name__}: {detail}")
    return StoreError(f"Cosmos DB {operation} failed with status {status}: {detail}")


@contextmanager
def mapped(operation: str) -> Iterator[None]:
    """Raise every Azure error of the block as the SDK's typed error."""
    try:
        yield
    except AzureError as exc:
        raise translate(exc, operation) from exc


@contextmanager
def guarded(charges: RequestCharges, operation: str, user_id: str | None) -> Iterator[None]:
    """Book the block's request charges to ``operation`` and map its Azure errors."""
    with charges.operation(operation, user_id), mapped(operation):
        yield


def _message(exc: AzureError) -> str:
    text = str(getattr(exc, "http_error_message", None) or exc.message or exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:300]
