"""Full-text segmentation for scripts written without spaces between words.

FTS5's ``unicode61`` tokenizer splits on spaces and punctuation, so a run of Chinese,
Japanese, Korean, Thai, Lao, Khmer or Myanmar text is one token and a word inside it
(``東京`` in ``東京会議``) is never found. The embedded store indexes such runs as overlapping
character bigrams (``東京 京会 会議``) and cuts queries the same way, so any word of two or more
characters inside a run matches; text in other scripts is indexed as before. A run of one
character stays as it is.
"""

from __future__ import annotations

import re
from typing import Final

#: Runs of characters from scripts written without spaces between words.
UNSPACED_RUN: Final = re.compile(
    "["
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1100-\u11ff"  # Hangul Jamo
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30fa\u30fc-\u30ff"  # Hiragana, Katakana (not the middle dot)
    "\u3130-\u318f"  # Hangul compatibility Jamo
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9f"  # halfwidth Katakana
    "\U00020000-\U0003134f"  # CJK extensions B-H
    "]{2,}"
)


def _bigrams(match: re.Match[str]) -> str:
    run = match.group()
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "


def segment(text: str) -> str:
    """``text`` with every unspaced run replaced by its overlapping bigrams, space-separated."""
    return UNSPACED_RUN.sub(_bigrams, text)
