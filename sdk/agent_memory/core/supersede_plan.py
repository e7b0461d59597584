"""Turn a model's duplicate groups and contradictions into a consistent supersede forest.

A model can answer with inconsistent groups (``m1`` kept in one group and listed as a duplicate
of ``m2`` in another) or contradiction cycles (``m1 < m2 < m3 < m1``). Applied as given, such an
answer supersedes every member and leaves nothing active. :func:`plan_supersedes` reads the
proposals in order and keeps only those that leave a forest:

- a memory is superseded at most once per pass (its first proposal wins);
- a proposal that would close a cycle is dropped, so every group keeps one active member;
- every loser points at the *root* of its tree, so no memory is superseded by a memory that is
  itself superseded in the same pass (a winner that loses later hands its losers on).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class SupersedePlan(Generic[R]):
    """What to write: ``(loser, winner, reason)`` with every winner a root; what was dropped."""

    supersedes: list[tuple[str, str, R]] = field(default_factory=list)
    unknown: int = 0
    conflicting: int = 0


def plan_supersedes(
    proposals: Iterable[tuple[str, str, R]], known: Iterable[str]
) -> SupersedePlan[R]:
    """Resolve ``(loser, winner, reason)`` proposals over the ids in ``known`` into a forest.

    Proposals naming an id outside ``known`` count as ``unknown``; self-supersedes, repeated
    losers and cycle-closing proposals count as ``conflicting``. Order of the result: losers
    in the order first accepted.
    """
    valid = set(known)
    parent: dict[str, str] = {}
    reasons: dict[str, R] = {}
    unknown = conflicting = 0

    def root(node: str) -> str:
        while node in parent:
            node = parent[node]
        return node

    for loser, winner, reason in proposals:
        if loser not in valid or winner not in valid:
            unknown += 1
            continue
        if loser == winner or loser in parent or root(winner) == loser:
            conflicting += 1
            continue
        parent[loser] = winner
        reasons[loser] = reason
    supersedes = [(loser, root(loser), reasons[loser]) for loser in parent]
    return SupersedePlan(supersedes=supersedes, unknown=unknown, conflicting=conflicting)
