"""Cosmos DB and Azure failures as the SDK's typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosHttpResponseError

from agent_memory.errors import (
    AgentMemoryError,
    ConfigurationError,
    ConflictError,
    StoreError,
)
from agent_memory.stores.cosmos.charges import RequestCharges

NOT_FOUND: Final = 404
CONFLICT: Final = 409
PRECONDITION_FAILED: Final = 412
THROTTLED: Final = 429


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a Cosmos error (of the failing operation, for a batch)."""
    if isinstance(exc, CosmosHttpResponseError | CosmosBatchOperationError):
        return exc.status_code
    return None


def is_status(exc: BaseException, *statuses: int) -> bool:
    """True when ``exc`` is a Cosmos error with one of ``statuses``."""
    return status_of(exc) in statuses


def translate(exc: AzureError, operation: str) -> AgentMemoryError:
    """The typed error for a Cosmos / Azure failure of ``operation``."""
    status = status_of(exc)
    detail = _message(exc)
    if isinstance(exc, ClientAuthenticationError) or status in (401, 403):
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
