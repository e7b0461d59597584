"""Size bounds on everything a model returns: declared in the schema, enforced on the way in.

Lists carry ``maxItems`` in the JSON schema the model is given (OpenAI structured outputs
support it); strings carry their bound in the field description, because strict schemas do
not accept ``maxLength``. Whatever comes back longer is clipped while it is parsed, with a
warning on the ``agent_memory.model`` logger, so one over-long item never fails an answer
(and never blocks a thread's extraction) and nothing the model writes grows without bound.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field

logger = logging.getLogger("agent_memory.model")


#: One memory: a self-contained sentence or two.
MEMORY_CHARS: Final = 1_000
#: Situation, action or outcome of an episode; a reconcile explanation.
DETAIL_CHARS: Final = 1_000
#: A topic tag, and how many a memory carries.
TAG_CHARS: Final = 40
MAX_TAGS: Final = 8
#: An id the model copies back (turn id, short fact id), and how many per item.
ID_CHARS: Final = 255
MAX_IDS: Final = 64
#: Memories one extraction answer may propose.
MAX_ITEMS: Final = 50
#: Duplicate groups or contradictions one reconcile answer may list (the pool is at most 500).
MAX_PAIRS: Final = 500
#: A summary's overview, one of its points, and how many points each list holds.
OVERVIEW_CHARS: Final = 1_500
POINT_CHARS: Final = 300
MAX_POINTS: Final = 12
#: The most characters a thread summary or profile can hold: overview plus five lists.
SUMMARY_BUDGET_CHARS: Final = OVERVIEW_CHARS + 5 * MAX_POINTS * (POINT_CHARS + 3)


def _cutter(kind: type[str] | type[list[Any]], unit: str, limit: int) -> Callable[[Any], Any]:
    """A before-validator keeping the first ``limit`` of a ``kind`` value (with a warning)."""

    def cut(value: Any) -> Any:
        if isinstance(value, kind) and len(value) > limit:
            logger.warning("model output: %d %s were cut to the first %d", len(value), unit, limit)
            return value[:limit]
        return value

    return cut


def clip_text(max_chars: int) -> Callable[[Any], Any]:
    """A before-validator cutting a string to ``max_chars`` (with a warning)."""
    return _cutter(str, "characters", max_chars)


def clip_list(max_items: int) -> Callable[[Any], Any]:
    """A before-validator keeping the first ``max_items`` of a list (with a warning)."""
    return _cutter(list, "list items", max_items)


MemoryText = Annotated[str, BeforeValidator(clip_text(MEMORY_CHARS))]
DetailText = Annotated[str, BeforeValidator(clip_text(DETAIL_CHARS))]
TagText = Annotated[str, BeforeValidator(clip_text(TAG_CHARS))]
IdText = Annotated[str, BeforeValidator(clip_text(ID_CHARS))]
OverviewText = Annotated[str, BeforeValidator(clip_text(OVERVIEW_CHARS))]
PointText = Annotated[str, BeforeValidator(clip_text(POINT_CHARS))]
Tags = Annotated[list[TagText], BeforeValidator(clip_list(MAX_TAGS)), Field(max_length=MAX_TAGS)]
Ids = Annotated[list[IdText], BeforeValidator(clip_list(MAX_IDS)), Field(max_length=MAX_IDS)]
Points = Annotated[
    list[PointText], BeforeValidator(clip_list(MAX_POINTS)), Field(max_length=MAX_POINTS)
]
