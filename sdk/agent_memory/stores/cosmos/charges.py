"""Request units (RU) per store operation: logged, totalled, and carried into the usage ledger.

The store runs each operation inside :meth:`RequestCharges.operation`; a raw-response hook on
the Cosmos client reads ``x-ms-request-charge`` from every HTTP response (retries, query
pages and metadata reads included) and books it to that operation and user.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

logger = logging.getLogger("agent_memory.cosmos")

CHARGE_HEADER: Final = "x-ms-request-charge"
#: Operation name booked for requests made outside any store operation.
UNSCOPED: Final = "client"

_CURRENT: ContextVar[tuple[str, str | None] | None] = ContextVar(
    "agent_memory_cosmos_operation", default=None
)


@dataclass
class OperationCharge:
    """HTTP requests made and request units spent by one kind of store operation."""

    requests: int = 0
    request_units: float = 0.0


class RequestCharges:
    """Totals per operation for the process, and per user until written to the ledger."""

    def __init__(self, *, max_pending_users: int = 10_000) -> None:
        self._totals: dict[str, OperationCharge] = {}
        self._pending: OrderedDict[str, dict[str, float]] = OrderedDict()
        self._max_pending_users = max_pending_users
        self._lock = threading.Lock()

    @contextmanager
    def operation(self, name: str, user_id: str | None) -> Iterator[None]:
        """Book the requests made inside the block to ``name`` and ``user_id``."""
        token = _CURRENT.set((name, user_id))
        try:
            yield
        finally:
            _CURRENT.reset(token)

    def on_response(self, response: Any) -> None:
        """azure-core ``raw_response_hook``: book one HTTP response's request charge."""
        http = response.http_response
        try:
            charge = float(http.headers.get(CHARGE_HEADER) or 0.0)
        except ValueError:
            charge = 0.0
        name, user_id = _CURRENT.get() or (UNSCOPED, None)
        logger.debug(
            "cosmos %s: %s %s -> %s, %.2f RU",
            name,
            http.request.method,
            http.request.url,
            http.status_code,
            charge,
        )
        self.add(name, user_id, charge)

    def add(self, name: str, user_id: str | None, charge: float) -> None:
        """Book ``charge`` RU of one request."""
        with self._lock:
            total = self._totals.setdefault(name, OperationCharge())
            total.requests += 1
            total.request_units += charge
            if user_id is None or charge == 0.0:
                return
            pending = self._pending.setdefault(user_id, {})
            self._pending.move_to_end(user_id)
            pending[name] = pending.get(name, 0.0) + charge
            while len(self._pending) > self._max_pending_users:
                _, charges = self._pending.popitem(last=False)
                logger.debug("cosmos: RU of %d operations not ledgered", len(charges))

    def totals(self) -> dict[str, OperationCharge]:
        """A copy of the per-operation totals of this process."""
        with self._lock:
            return {
                k: OperationCharge(v.requests, v.request_units) for k, v in self._totals.items()
            }

    def take(self, user_id: str) -> dict[str, float]:
        """RU booked to ``user_id`` since the last call, per operation (then forgotten)."""
        with self._lock:
            return {k: round(v, 4) for k, v in self._pending.pop(user_id, {}).items()}
