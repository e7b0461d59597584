"""Moving a user's data in and out as JSON Lines (``agent-memory import`` / ``export``).

Import reads a conversation: one JSON object per line with ``role`` and ``content`` and,
optionally, ``id``, ``created_at``, ``metadata``, ``user_id`` and ``thread_id`` (else
``--user`` / ``--thread``). Lines whose ``record`` is not ``turn`` (an export's memories,
summaries and usage) are skipped. Every line is validated before anything is written.

Export writes everything of a user, one record per line, its type in ``record``: ``turn``,
``memory`` (superseded ones included), ``summary`` and ``usage``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from agent_memory._sync.client import MemoryClient
from agent_memory.cli.output import Progress, jsonable
from agent_memory.errors import InvalidInputError
from agent_memory.inputs import build_turns

#: Turns written per ``add_turns`` call (each call is atomic).
CHUNK = 100


def read_conversation(
    lines: Iterable[str], user_id: str | None, thread_id: str | None, *, max_chars: int
) -> tuple[dict[tuple[str, str], list[dict[str, Any]]], int]:
    """Turns grouped by (user, thread) in file order, and how many lines were skipped.

    Raises ``InvalidInputError`` naming the line of the first problem.
    """
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    skipped = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict):
            raise InvalidInputError(f"line {number}: expected a JSON object")
        if item.get("record", "turn") != "turn":
            skipped += 1
            continue
        user = _scope(item, "user_id", user_id, number)
        thread = _scope(item, "thread_id", thread_id, number)
        turn = {
            k: item[k] for k in ("id", "role", "content", "metadata", "created_at") if k in item
        }
        try:
            build_turns(user, thread, [turn], max_chars=max_chars)
        except InvalidInputError as exc:
            raise InvalidInputError(f"line {number}: {exc}") from None
        grouped.setdefault((user, thread), []).append(turn)
    return grouped, skipped


def _scope(item: dict[str, Any], key: str, given: str | None, number: int) -> str:
    value = item.get(key)
    if value is None:
        if given is None:
            option = "--user" if key == "user_id" else "--thread"
            raise InvalidInputError(f"line {number}: no {key}: give it in the line or {option}")
        return given
    if given is not None and value != given:
        raise InvalidInputError(f"line {number}: {key} {value!r} is not {given!r}")
    if not isinstance(value, str):
        raise InvalidInputError(f"line {number}: {key} must be a string")
    return value


def import_turns(
    client: MemoryClient, grouped: dict[tuple[str, str], list[dict[str, Any]]]
) -> dict[str, int]:
    """Add the turns (known ids are not duplicated); counts of turns given and threads."""
    total = sum(len(turns) for turns in grouped.values())
    progress = Progress("importing", total)
    added = 0
    try:
        for (user, thread), turns in grouped.items():
            for start in range(0, len(turns), CHUNK):
                chunk = turns[start : start + CHUNK]
                added += len(client.add_turns(user, thread, chunk))
                progress.advance(len(chunk))
    finally:
        progress.finish()
    return {"turns": added, "threads": len(grouped)}


def export_user(client: MemoryClient, user_id: str, out: IO[str]) -> dict[str, int]:
    """Write every record of the user as JSON Lines; counts per kind."""
    counts = {"turn": 0, "memory": 0, "summary": 0, "usage": 0}
    threads = client.get_threads(user_id)
    progress = Progress("exporting", len(threads) + 2)

    def write(kind: str, record: Any) -> None:
        out.write(json.dumps({"record": kind, **jsonable(record)}, ensure_ascii=False) + "\n")
        counts[kind] += 1

    try:
        for thread in threads:
            for turn in client.get_turns(user_id, thread):
                write("turn", turn)
            summary = client.get_thread_summary(user_id, thread)
            if summary is not None:
                write("summary", summary)
            progress.advance()
        for memory in reversed(client.get_memories(user_id, include_superseded=True)):
            write("memory", memory)
        profile = client.get_user_summary(user_id)
        if profile is not None:
            write("summary", profile)
        progress.advance()
        for record in client.usage(user_id).records:
            write("usage", record)
        progress.advance()
    finally:
        progress.finish()
    return counts
