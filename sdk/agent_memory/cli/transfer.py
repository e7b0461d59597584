"""Moving a user's data in and out as JSON Lines (``agent-memory import`` / ``export``).

Export writes everything of a user, one record per line, its type in ``record``: ``turn``,
``memory`` (superseded ones included), ``summary`` and ``usage``.

Import reads such a file or a plain conversation (lines without ``record`` are turns: ``role``
and ``content`` and, optionally, ``id``, ``created_at``, ``metadata``, ``user_id`` and
``thread_id``, else ``--user`` / ``--thread``). The whole file is validated before anything
is written: an unknown key or ``record`` value rejects it (``InvalidInputError``).

What comes back: turns (a known id is kept, not copied; ``seq`` is reassigned by the store),
memories through ``add_memory`` (same deterministic id; ``created_at``/``updated_at`` and
``prompt_version`` are set anew; a superseded one is superseded again by the same memory and
reason), and thread and user summaries as given (``covers_up_to`` kept). Usage records are
not restored: the ledger counts model calls made by this store.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from agent_memory.cli.output import Progress, jsonable
from agent_memory.client._sync.client import MemoryClient
from agent_memory.core.errors import InvalidInputError
from agent_memory.core.inputs import build_turns, check_limit, check_tags, check_turn_ids
from agent_memory.core.models import (
    Memory,
    Summary,
    Turn,
    UsageRecord,
    content_hash,
    memory_id,
    parse,
)
from agent_memory.core.validation import check_content

#: Turns written per ``add_turns`` call (each call is atomic).
CHUNK = 100

_TURN_KEYS = frozenset(Turn.model_fields) | {"record"}
_RECORDS = ("turn", "memory", "summary", "usage")


@dataclass
class ImportFile:
    """A validated import file: turns grouped by (user, thread) in file order, and the rest."""

    turns: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    memories: list[Memory] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)
    usage: int = 0


@dataclass
class Written:
    """What an import wrote so far (read after an interruption too)."""

    turns_created: int = 0
    turns_present: int = 0
    memories: int = 0
    summaries: int = 0


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Lines with their numbers; a leading BOM is dropped, undecodable text rejected."""
    iterator = iter(lines)
    number = 0
    while True:
        number += 1
        try:
            line = next(iterator)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise InvalidInputError(f"not UTF-8 text (at or after line {number})") from None
        yield number, line.removeprefix("\ufeff") if number == 1 else line


def read_import(
    lines: Iterable[str], user_id: str | None, thread_id: str | None, *, max_chars: int
) -> ImportFile:
    """Validate every line; raises ``InvalidInputError`` naming the line of the first problem."""
    found = ImportFile()
    for number, line in _numbered(lines):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict):
            raise InvalidInputError(f"line {number}: expected a JSON object")
        kind = item.get("record", "turn")
        if kind not in _RECORDS:
            raise InvalidInputError(
                f"line {number}: unknown record {kind!r} (expected one of {', '.join(_RECORDS)})"
            )
        try:
            _read_line(found, kind, item, user_id, thread_id, max_chars, number)
        except InvalidInputError as exc:
            raise InvalidInputError(f"line {number}: {exc}") from None
    return found


def _read_line(
    found: ImportFile,
    kind: str,
    item: dict[str, Any],
    user_id: str | None,
    thread_id: str | None,
    max_chars: int,
    number: int,
) -> None:
    user = _scope(item, "user_id", user_id, number)
    fields = {k: v for k, v in item.items() if k != "record"}
    if kind == "turn":
        unknown = sorted(set(item) - _TURN_KEYS)
        if unknown:
            raise InvalidInputError(f"unknown key(s) in a turn: {', '.join(unknown)}")
        thread = _scope(item, "thread_id", thread_id, number)
        turn: dict[str, Any] = {
            k: item[k] for k in ("id", "role", "content", "metadata", "created_at") if k in item
        }
        build_turns(user, thread, [turn], max_chars=max_chars)
        found.turns.setdefault((user, thread), []).append(turn)
    elif kind == "memory":
        fields["user_id"] = user
        memory = parse(Memory, **fields)
        if memory.id != memory_id(user, memory.type, content_hash(memory.content)):
            raise InvalidInputError(f"memory {memory.id}: not the id its content gives")
        check_content(memory.content, max_chars=max_chars)  # what add_memory checks
        check_tags(memory.tags or None)
        check_turn_ids(memory.source_turn_ids or None)
        check_limit(memory.ttl, "ttl")
        found.memories.append(memory)
    elif kind == "summary":
        fields["user_id"] = user
        found.summaries.append(parse(Summary, **fields))
    else:
        fields["user_id"] = user
        parse(UsageRecord, **fields)
        found.usage += 1


def _scope(item: dict[str, Any], key: str, given: str | None, number: int) -> str:
    value = item.get(key)
    if value is None:
        if given is None:
            option = "--user" if key == "user_id" else "--thread"
            raise InvalidInputError(f"no {key}: give it in the line or {option}")
        return given
    if given is not None and value != given:
        raise InvalidInputError(f"{key} {value!r} is not {given!r}")
    if not isinstance(value, str):
        raise InvalidInputError(f"{key} must be a string")
    return value


def import_records(client: MemoryClient, found: ImportFile, written: Written) -> None:
    """Write the turns, then memories, then summaries; ``written`` counts as it goes."""
    total = sum(len(t) for t in found.turns.values()) + len(found.memories)
    progress = Progress("importing", total + len(found.summaries))
    try:
        for (user, thread), turns in found.turns.items():
            for start in range(0, len(turns), CHUNK):
                chunk = turns[start : start + CHUNK]
                with _uninterrupted():
                    appended = client.append_turns(user, thread, chunk)
                    written.turns_created += appended.created
                    written.turns_present += len(chunk) - appended.created
                progress.advance(len(chunk))
        for memory in found.memories:
            with _uninterrupted():
                _restore_memory(client, memory)
                written.memories += 1
            progress.advance()
        for memory in found.memories:  # after all exist, so ``by`` names a stored memory
            if memory.superseded_by is not None and memory.supersede_reason is not None:
                client.store.supersede(
                    memory.user_id,
                    memory.id,
                    by=memory.superseded_by,
                    reason=memory.supersede_reason,
                )
        if found.summaries:
            client._prepare()  # the store knows the embedding model before a vector arrives
        for summary in found.summaries:
            vectors = client.embedder.embed([summary.content]) if summary.content else [None]
            client.store.put_summary(summary, vectors[0])
            written.summaries += 1
            progress.advance()
    finally:
        progress.finish()


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """Hold Ctrl-C until the block is done, so the counts name exactly what was written.

    Where signals cannot be blocked (Windows), Ctrl-C arrives at once.
    """
    block = getattr(signal, "pthread_sigmask", None)
    if block is None:
        yield
        return
    previous = block(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, previous)


def _restore_memory(client: MemoryClient, memory: Memory) -> None:
    client.add_memory(
        memory.user_id,
        memory.thread_id,
        memory.content,
        type=memory.type,
        confidence=memory.confidence,
        tags=memory.tags or None,
        source_turn_ids=memory.source_turn_ids or None,
        situation=memory.situation,
        action=memory.action,
        outcome=memory.outcome,
        ttl=memory.ttl,
    )


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
