"""What a store indexes with a turn besides its own words: speaker, date and thread neighbours.

A conversation turn is rarely self-contained: "What concert was it?" is answered by the next
turn, which may not repeat a single word of the question, and questions name the speaker and
the time ("When did Alice go camping in June?") that the turn itself never states. So the
full-text index of a turn holds, in separate columns:

- ``content``: the turn's text;
- ``about``: the speaker's name (``metadata["name"]``, as in OpenAI chat messages) and the
  words of its date (``8 May 2023 Monday``);
- ``before`` / ``after``: the text of the previous and next turn of the same thread.

Full-text-only search (``mode="text"``) ranks a turn by ``content`` and ``about``; hybrid
search also weighs its neighbours, in the text ranking (``before`` / ``after``) and in the
vector ranking (the neighbours' cosine similarity is added to the turn's).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

#: The metadata key holding a turn's speaker (OpenAI chat messages call it ``name``).
SPEAKER_KEY: Final = "name"
#: Longest speaker name indexed.
SPEAKER_CHARS: Final = 100
#: Characters of a neighbouring turn indexed with a turn.
NEIGHBOUR_CHARS: Final = 2_000

#: BM25 column weights (FTS5 ``bm25()``), relative to the turn's own text.
ABOUT_WEIGHT: Final = 1.0
BEFORE_WEIGHT: Final = 0.5
AFTER_WEIGHT: Final = 0.3
#: Share of each neighbour's cosine similarity added to a turn's in hybrid search.
NEIGHBOUR_SIMILARITY: Final = 0.7

_MONTHS: Final = (
    "January February March April May June July August September October November December"
).split()
_WEEKDAYS: Final = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


def date_words(when: datetime) -> str:
    """``'8 May 2023 Monday'``: the date of ``when`` as words (English, locale-independent)."""
    return f"{when.day} {_MONTHS[when.month - 1]} {when.year} {_WEEKDAYS[when.weekday()]}"


def speaker(metadata: dict[str, Any]) -> str:
    """The speaker's name from a turn's metadata, or ``''``."""
    value = metadata.get(SPEAKER_KEY)
    return value.strip()[:SPEAKER_CHARS] if isinstance(value, str) else ""


def about(metadata: dict[str, Any], created_at: datetime) -> str:
    """What the ``about`` column holds for a turn: its speaker and the words of its date."""
    return f"{speaker(metadata)} {date_words(created_at)}".strip()


def neighbour_text(content: str) -> str:
    """What the ``before`` / ``after`` columns hold of a neighbouring turn."""
    return content[:NEIGHBOUR_CHARS]
