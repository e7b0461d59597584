"""The typed search request every store accepts, and shared ranking helpers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from agent_memory.core.models import MemoryType, SearchMode

Vector = npt.NDArray[np.float32]

#: Reciprocal-rank-fusion constant. Smaller than the usual 60, so that the top of each ranking
#: counts clearly more than its tail (measured on LoCoMo's dev split, ``bench/locomo.py``).
RRF_K: Final = 10
#: Weight of the full-text ranking in hybrid fusion.
TEXT_WEIGHT: Final = 1.0
#: Weight of the vector ranking in hybrid fusion: the bundled static embedder ranks raw
#: conversation turns well below BM25, so its ranking counts half as much.
VECTOR_WEIGHT: Final = 0.5

#: Cosine similarity below which an item that contains no query term is not returned: search
#: returns what matches instead of filling ``top`` with unrelated items. Measured with the
#: bundled embedder: unrelated texts mostly score -0.1 to 0.1 against a query (a few up to 0.19),
#: while on LoCoMo
#: the 10 nearest items of a real question score 0.33 and up in 90% of cases.
MIN_SIMILARITY: Final = 0.2

_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS: Final = frozenset(
    (
        "a an and are as at be been but by can could did do does for from had has have he her "
        "hers him his how i if in into is it its me my no not of on or our ours she so than that "
        "the their them then there these they this those to too was we were what when where "
        "which who whom why will with would you your yours am any about"
    ).split()
)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What to look for and where; every store applies the same filters."""

    text: str
    vector: Vector | None
    top: int = 5
    memory_types: tuple[MemoryType, ...] | None = None
    thread_id: str | None = None
    tags: tuple[str, ...] | None = None
    min_confidence: float | None = None
    include_turns: bool = False
    include_superseded: bool = False
    mode: SearchMode = "hybrid"
    #: Items containing no query term need at least this cosine similarity (``vector`` mode:
    #: every item); 0 or less keeps every vector candidate.
    min_similarity: float = MIN_SIMILARITY

    @property
    def pool(self) -> int:
        """How many candidates each ranker contributes before fusion."""
        return max(50, self.top * 5)


def query_terms(text: str) -> list[str]:
    """Distinct lower-cased words of ``text`` minus stopwords, in order of appearance.

    Single letters are dropped too (the ``s`` of ``Alice's``, the ``t`` of ``don't``); single
    digits and every longer number are kept.
    """
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.casefold()):
        if word in STOPWORDS or word in seen or (len(word) == 1 and not word.isdigit()):
            continue
        seen[word] = None
    return list(seen)


def rrf(
    rankings: Iterable[Sequence[int]],
    *,
    weights: Sequence[float] | None = None,
    k: int = RRF_K,
) -> dict[int, float]:
    """Weighted reciprocal-rank fusion: list ``i`` adds ``weights[i] / (k + rank)`` per key."""
    scores: dict[int, float] = {}
    for index, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[index]
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    return scores


def normalize_rows(matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """L2-normalise each row (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalized: npt.NDArray[np.float32] = (matrix / norms).astype(np.float32, copy=False)
    return normalized
