"""Packing turns into token-bounded batches: every turn lands in exactly one batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from agent_memory.core.models import Turn

#: Transcript tokens per model call; well inside every supported model's context.
DEFAULT_BATCH_TOKENS: Final = 6_000
_OVERHEAD_TOKENS: Final = 24  # the JSON envelope of one turn


def estimate_tokens(text: str) -> int:
    """A conservative token estimate (about four characters a token) with no tokenizer."""
    return len(text) // 3 + 1


def pack_turns(turns: Sequence[Turn], budget: int = DEFAULT_BATCH_TOKENS) -> list[list[Turn]]:
    """Consecutive batches under ``budget``; a turn larger than the budget goes alone."""
    batches: list[list[Turn]] = []
    current: list[Turn] = []
    used = 0
    for turn in turns:
        cost = estimate_tokens(turn.content) + _OVERHEAD_TOKENS
        if current and used + cost > budget:
            batches.append(current)
            current, used = [], 0
        current.append(turn)
        used += cost
    if current:
        batches.append(current)
    return batches
