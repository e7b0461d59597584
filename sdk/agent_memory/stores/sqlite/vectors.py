"""Per-user in-memory vector index over the rows of one table, refreshed incrementally."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from agent_memory.core.models import MEMORY_TYPES
from agent_memory.core.query import normalize_rows

TYPE_CODES = {name: code for code, name in enumerate(MEMORY_TYPES)}


@dataclass(frozen=True, slots=True)
class Rows:
    """An immutable view of a user's vectors with the columns search filters on."""

    seq: npt.NDArray[np.int64]
    matrix: npt.NDArray[np.float32]
    thread: npt.NDArray[np.object_]
    type_code: npt.NDArray[np.int8]
    confidence: npt.NDArray[np.float32]
    expires: npt.NDArray[np.float64]
    active: npt.NDArray[np.bool_]
    #: Row index of the previous / next row of the same thread (-1: none). Only tracked when
    #: the cache was built with ``neighbours=True``; an index past ``len(self)`` (a row appended
    #: after this view was taken) also means none.
    prev: npt.NDArray[np.int64]
    next: npt.NDArray[np.int64]
    #: Earliest expiry among the rows and how many are superseded, so search can skip the
    #: masks that would remove nothing.
    soonest_expiry: float = math.inf
    inactive: int = 0

    def __len__(self) -> int:
        return int(self.seq.shape[0])


class _Growable:
    """Column buffers that double in capacity, so appends are amortised O(1)."""

    def __init__(self, dims: int, *, neighbours: bool = False) -> None:
        self.size = 0
        self.max_seq = 0
        self.soonest_expiry = math.inf
        self.inactive = 0
        self._cols = _empty(dims, 16)
        self._neighbours = neighbours
        self._last_of_thread: dict[str, int] = {}

    @classmethod
    def seeded(
        cls, dims: int, columns: dict[str, np.ndarray[Any, Any]], *, neighbours: bool = False
    ) -> _Growable:
        """An index over whole ``columns`` (for example read-only mapped ones, which are copied
        only when rows are appended)."""
        index = cls(dims, neighbours=neighbours)
        n = int(columns["seq"].shape[0])
        index._cols = {key: columns[key] for key in index._cols}
        index.size = n
        if n:
            index.max_seq = int(columns["seq"][-1])
            index.soonest_expiry = float(columns["expires"].min())
            index.inactive = int(n - np.count_nonzero(columns["active"]))
            if neighbours:  # each thread's last row, for the rows appended later
                threads = columns["thread"][::-1]
                names, first = np.unique(threads.astype(str), return_index=True)
                index._last_of_thread = {
                    str(name): n - 1 - int(at) for name, at in zip(names, first, strict=True)
                }
        return index

    def extend(self, batch: dict[str, np.ndarray[Any, Any]]) -> None:
        n = batch["seq"].shape[0]
        if n == 0:
            return
        need = self.size + n
        if need > self._cols["seq"].shape[0]:
            grown = _empty(self._cols["matrix"].shape[1], max(need, 2 * self._cols["seq"].shape[0]))
            for key, col in self._cols.items():
                grown[key][: self.size] = col[: self.size]
            self._cols = grown
        for key, col in self._cols.items():
            if key in batch:
                col[self.size : need] = batch[key]
        if self._neighbours:
            self._link(batch["thread"], self.size)
        self.soonest_expiry = min(self.soonest_expiry, float(batch["expires"].min()))
        self.inactive += int(n - np.count_nonzero(batch["active"]))
        self.size = need
        self.max_seq = int(batch["seq"][-1])

    def _link(self, threads: np.ndarray[Any, Any], start: int) -> None:
        """Chain the new rows ``start..`` to the previous row of their thread."""
        prev, nxt, last = self._cols["prev"], self._cols["next"], self._last_of_thread
        for offset, thread in enumerate(threads.tolist()):
            index = start + offset
            before = last.get(thread, -1)
            prev[index] = before
            if before >= 0:
                nxt[before] = index
            last[thread] = index

    def view(self) -> Rows:
        n = self.size
        c = self._cols
        return Rows(
            seq=c["seq"][:n],
            matrix=c["matrix"][:n],
            thread=c["thread"][:n],
            type_code=c["type_code"][:n],
            confidence=c["confidence"][:n],
            expires=c["expires"][:n],
            active=c["active"][:n],
            prev=c["prev"][:n],
            next=c["next"][:n],
            soonest_expiry=self.soonest_expiry,
            inactive=self.inactive,
        )


def _empty(dims: int, capacity: int) -> dict[str, np.ndarray[Any, Any]]:
    return {
        "seq": np.zeros(capacity, dtype=np.int64),
        "matrix": np.zeros((capacity, dims), dtype=np.float32),
        "thread": np.empty(capacity, dtype=object),
        "type_code": np.zeros(capacity, dtype=np.int8),
        "confidence": np.zeros(capacity, dtype=np.float32),
        "expires": np.zeros(capacity, dtype=np.float64),
        "active": np.zeros(capacity, dtype=bool),
        "prev": np.full(capacity, -1, dtype=np.int64),
        "next": np.full(capacity, -1, dtype=np.int64),
    }


def batch_from_rows(rows: list[tuple[Any, ...]], dims: int) -> dict[str, np.ndarray[Any, Any]]:
    """Columns from ``(seq, thread_id, type, confidence, expires_at, superseded_by, blob)`` rows."""
    n = len(rows)
    width = dims * 4
    blob = b"".join(r[6] if r[6] is not None else bytes(width) for r in rows)
    matrix = np.frombuffer(blob, dtype=np.float32).reshape(n, dims)
    return {
        "matrix": normalize_rows(matrix),
        "seq": np.fromiter((r[0] for r in rows), dtype=np.int64, count=n),
        "thread": np.array([r[1] for r in rows] or [], dtype=object),
        "type_code": np.fromiter((TYPE_CODES.get(r[2], -1) for r in rows), np.int8, count=n),
        "confidence": np.fromiter((r[3] for r in rows), dtype=np.float32, count=n),
        "expires": np.fromiter(
            (math.inf if r[4] is None else r[4] for r in rows), dtype=np.float64, count=n
        ),
        "active": np.fromiter((r[5] is None for r in rows), dtype=bool, count=n),
    }


class VectorCache:
    """LRU of per-(user, table) indexes, validated against the store's per-user mutation count.

    Appends only add rows with a larger ``seq``, so a cached index catches up by loading just
    the rows past its ``max_seq``; any other change (supersede, delete, purge) bumps the user's
    mutation count in the same transaction and forces a full reload. With ``neighbours=True``
    each row also knows the previous and next row of its thread (for turns: the neighbouring
    turns of the conversation).
    """

    def __init__(self, dims: int, *, max_users: int = 256, neighbours: bool = False) -> None:
        self.dims = dims
        self.max_users = max_users
        self.neighbours = neighbours
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[int, _Growable]] = OrderedDict()

    def get(
        self,
        key: tuple[str, str],
        mutations: int,
        load: Any,
    ) -> Rows:
        """Return the index for ``key``; ``load(after_seq)`` fetches rows past a seq."""
        return self.load(key, mutations, load)[0]

    def load(
        self,
        key: tuple[str, str],
        mutations: int,
        load: Any,
        seed: Callable[[], dict[str, np.ndarray[Any, Any]] | None] | None = None,
    ) -> tuple[Rows, int | None]:
        """The index for ``key`` and, when it was built now, how many of its rows came from
        ``seed()`` (whole columns, or None) — 0 when all were read with ``load``; None when
        the cached index was current or caught up."""
        with self._lock:
            entry = self._entries.get(key)
            built: int | None = None
            if entry is None or entry[0] != mutations:
                columns = seed() if seed is not None else None
                if columns is None:
                    index = _Growable(self.dims, neighbours=self.neighbours)
                    built = 0
                else:
                    index = _Growable.seeded(self.dims, columns, neighbours=self.neighbours)
                    built = index.size
                entry = (mutations, index)
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_users:
                self._entries.popitem(last=False)
            index = entry[1]
            index.extend(batch_from_rows(load(index.max_seq), self.dims))
            return index.view(), built

    def mark_superseded(self, key: tuple[str, str], seq: int, before: int, after: int) -> None:
        """Apply one supersede in place when the cached index is exactly one mutation behind.

        Anything else (another writer's change in between, or no cached index) leaves the
        index to be reloaded on next use.
        """
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != before:
                return
            index = entry[1]
            rows = index.view()
            at = int(np.searchsorted(rows.seq, seq))
            if at < len(rows) and int(rows.seq[at]) == seq and rows.active[at]:
                rows.active[at] = False
                index.inactive += 1
            self._entries[key] = (after, index)

    def drop(self, user_id: str) -> None:
        """Forget every index of a user."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == user_id]:
                del self._entries[key]
