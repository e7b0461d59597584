"""The per-user vector cache catches up in place and reloads when it cannot."""

from __future__ import annotations

import math

import numpy as np

from agent_memory.stores.sqlite.vectors import VectorCache


def rows(*seqs: int) -> list[tuple[object, ...]]:
    vector = np.ones(4, dtype=np.float32).tobytes()
    return [(s, "t1", "fact", 1.0, None, None, vector) for s in seqs]


def test_appends_are_loaded_incrementally_and_supersedes_apply_in_place() -> None:
    cache = VectorCache(4)
    loads: list[int] = []

    def load(after: int) -> list[tuple[object, ...]]:
        loads.append(after)
        return [r for r in rows(1, 2, 3) if int(r[0]) > after]  # type: ignore[call-overload]

    first = cache.get(("alice", "memories"), 0, load)
    assert list(first.seq) == [1, 2, 3] and first.inactive == 0
    assert first.soonest_expiry == math.inf
    cache.mark_superseded(("alice", "memories"), 2, before=0, after=1)
    again = cache.get(("alice", "memories"), 1, load)
    assert loads == [0, 3]  # no full reload: only rows past seq 3 were asked for
    assert list(again.active) == [True, False, True] and again.inactive == 1


def test_a_supersede_out_of_order_forces_a_reload() -> None:
    cache = VectorCache(4)
    loads: list[int] = []

    def load(after: int) -> list[tuple[object, ...]]:
        loads.append(after)
        return [r for r in rows(1, 2) if int(r[0]) > after]  # type: ignore[call-overload]

    cache.get(("alice", "memories"), 0, load)
    cache.mark_superseded(("alice", "memories"), 1, before=3, after=4)  # another writer was first
    reloaded = cache.get(("alice", "memories"), 4, load)
    assert loads == [0, 0]
    assert list(reloaded.active) == [True, True]
