"""Rendering turns as a delimited transcript the model treats as data."""

from __future__ import annotations

import json
from collections.abc import Sequence

from agent_memory.core.models import Turn


def render_turns(turns: Sequence[Turn]) -> str:
    """One JSON object per line: id, time, role, text. JSON escaping keeps turns inert."""
    lines = []
    for turn in turns:
        record = {
            "turn_id": turn.id,
            "time": turn.created_at.strftime("%Y-%m-%d %H:%M %Z (%A)"),
            "role": turn.role,
            "text": turn.content,
        }
        speaker = turn.metadata.get("name")  # the speaker's name, as in OpenAI chat messages
        if isinstance(speaker, str):
            record["speaker"] = speaker
        lines.append(json.dumps(record, ensure_ascii=False))
    return "<transcript>\n" + "\n".join(lines) + "\n</transcript>"
