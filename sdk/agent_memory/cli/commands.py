"""What each ``agent-memory`` command does, over the public client (loaded after parsing)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from agent_memory.cli import transfer
from agent_memory.client._sync.client import MemoryClient
from agent_memory.core.errors import InvalidInputError
from agent_memory.core.models import Memory, SearchHit, Summary, Turn

#: A handler's result when it printed its output itself (nothing more to print as JSON).
NOTHING: Any = object()


Handler = Callable[[MemoryClient, argparse.Namespace, bool], Any]


def _say(quiet: bool) -> Callable[[str], None]:
    return (lambda _: None) if quiet else print


def _say_each(quiet: bool, lines: list[str], empty: str) -> None:
    """Print one line per item, or ``empty`` when there is none (nothing when quiet)."""
    say = _say(quiet)
    for line in lines or [empty]:
        say(line)


def _json_object(text: str | None, option: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{option} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInputError(f"{option} must be a JSON object")
    return value


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"--created-at is not an ISO 8601 time: {text!r}") from None


def _memory_line(m: Memory) -> str:
    gone = f"  (superseded by {m.superseded_by})" if m.superseded_by else ""
    return f"{m.id}  {m.type:<10} {m.confidence:.2f}  {m.content}{gone}"


def _turn_line(t: Turn) -> str:
    return f"{t.created_at:%Y-%m-%d %H:%M}  {t.role:<9} {t.content}"


def _summary_text(summary: Summary | None, say: Callable[[str], None], what: str) -> None:
    if summary is None:
        say(f"no {what} yet")
    else:
        say(summary.content)


def demo(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    from agent_memory.demo import run_demo

    return run_demo(client, _say(quiet), user_id=args.user)


def add(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    item: dict[str, Any] = {
        "role": args.role,
        "content": args.content,
        "metadata": _json_object(args.metadata, "--metadata"),
    }
    created_at = _when(args.created_at)
    if created_at is not None:
        item["created_at"] = created_at
    if args.turn_id is not None:
        item["id"] = args.turn_id
    appended = client.append_turns(args.user_id, args.thread_id, [item])
    turn = appended.turns[0]
    where = f"{args.user_id}/{args.thread_id}"
    if appended.created:
        _say(quiet)(f"added {turn.id} (seq {turn.seq}) to {where}")
    else:
        _say(quiet)(f"{turn.id} already exists in {where} (seq {turn.seq}), unchanged")
    return turn


def turns_list(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    turns = client.get_turns(args.user_id, args.thread_id, limit=args.limit)
    _say_each(quiet, [_turn_line(t) for t in turns], "no turns")
    return turns


def memories_add(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    memory = client.add_memory(
        args.user_id,
        args.thread_id,
        args.content,
        type=args.type,
        confidence=args.confidence,
        tags=args.tags,
        source_turn_ids=args.source_turn_ids,
        situation=args.situation,
        action=args.action,
        outcome=args.outcome,
    )
    _say(quiet)(f"stored {memory.id}")
    return memory


def memories_list(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    memories = client.get_memories(
        args.user_id,
        memory_types=args.types,
        thread_id=args.thread_id,
        min_confidence=args.min_confidence,
        include_superseded=args.superseded,
        limit=args.limit,
    )
    _say_each(quiet, [_memory_line(m) for m in memories], "no memories")
    return memories


def memories_show(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    memory = client.get_memory(args.user_id, args.memory_id)
    history = client.get_memory_history(args.user_id, args.memory_id)
    say = _say(quiet)
    say(_memory_line(memory))
    say(f"  thread {memory.thread_id}, created {memory.created_at:%Y-%m-%d %H:%M}")
    if memory.tags:
        say(f"  tags: {', '.join(memory.tags)}")
    if memory.source_turn_ids:
        say(f"  from turns: {', '.join(memory.source_turn_ids)}")
    if len(history) > 1:
        say("history (oldest first):")
        for item in history:
            say(f"  {_memory_line(item)}")
    return {"memory": memory, "history": history}


def search(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    hits: list[SearchHit] = client.search(
        args.user_id,
        args.query,
        top=args.top,
        memory_types=args.types,
        thread_id=args.thread_id,
        tags=args.tags,
        min_confidence=args.min_confidence,
        include_turns=args.turns,
        include_superseded=args.superseded,
        mode=args.mode,
    )
    _say_each(quiet, [f"{h.score:.4f}  [{h.kind}] {h.content}" for h in hits], "no results")
    return hits


def process(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    report = client.process_now(args.user_id, args.thread_id)
    say = _say(quiet)
    for thread, result in report.extracted.items():
        say(f"{thread}: {result.turns} turns extracted, {result.created} memories created")
    for thread, summary in report.thread_summaries.items():
        say(f"{thread}: summary {'updated' if summary.updated else 'unchanged'}")
    if report.reconciled is not None:
        say(f"reconcile: {len(report.reconciled.superseded)} superseded")
    if report.user_summary is not None:
        say(f"user profile: {'updated' if report.user_summary.updated else 'unchanged'}")
    return report


def reconcile(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    result = client.reconcile(args.user_id, args.n)
    _say(quiet)(f"{result.considered} facts considered, {len(result.superseded)} superseded")
    return result


def summary_thread(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    summary = client.get_thread_summary(args.user_id, args.thread_id)
    _summary_text(summary, _say(quiet), "thread summary")
    return summary


def summary_user(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    summary = client.get_user_summary(args.user_id)
    _summary_text(summary, _say(quiet), "user profile")
    return summary


def usage(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    report = client.usage(args.user_id)
    say = _say(quiet)
    say(f"{report.calls} model calls, {report.input_tokens} in / {report.output_tokens} out tokens")
    for step, calls in sorted(report.calls_by_step.items()):
        say(f"  {step}: {calls}")
    return report


def status(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    settings = client.settings
    store = getattr(client.store, "path", None) or getattr(client.store, "endpoint", "?")
    model = {"azure": settings.chat_deployment, "openai": settings.openai_chat_model}
    backend = settings.chat_backend
    info: dict[str, Any] = {
        "store": f"{type(client.store).__name__} {store}",
        "embedder": f"{client.embedder.model} ({client.embedder.dimensions} dimensions)",
        "model": f"{backend}: {model[backend]}" if backend else None,
        "processor_owner": settings.processor_owner,
        "thresholds": settings.thresholds.model_dump(),
    }
    if args.user_id is not None:
        pending = client.pending_turns(args.user_id)
        info["user"] = {
            "threads": pending,
            "memories": len(client.get_memories(args.user_id)),
            "user_summary": client.get_user_summary(args.user_id) is not None,
        }
    say = _say(quiet)
    say(f"store:      {info['store']}")
    say(f"embedder:   {info['embedder']}")
    say(f"model:      {info['model'] or 'none (set AI_FOUNDRY_ENDPOINT or OPENAI_API_KEY)'}")
    say(f"pipeline:   {settings.processor_owner}")
    if "user" in info:
        user = info["user"]
        say(f"user {args.user_id}: {user['memories']} memories, {len(pending)} threads")
        for thread, count in pending.items():
            say(f"  {thread}: {count} turns pending extraction")
    return info


def forget(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    counts = client.forget(args.user_id, thread_id=args.thread_id)
    say = _say(quiet)
    for container, count in counts.items():
        say(f"{container}: {count} deleted")
    return counts


def import_file(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    max_chars = client.settings.max_content_chars
    if args.file == "-":
        found = transfer.read_import(sys.stdin, args.user_id, args.thread_id, max_chars=max_chars)
    else:
        with _open(args.file, "r") as handle:
            found = transfer.read_import(handle, args.user_id, args.thread_id, max_chars=max_chars)
    written = transfer.Written()
    try:
        transfer.import_records(client, found, written)
    except KeyboardInterrupt:
        print(
            f"interrupted: {written.turns_created} turns and {written.memories} memories "
            "written; re-running is safe only for lines with ids (exported files have them)",
            file=sys.stderr,
        )
        raise
    say = _say(quiet)
    say(
        f"imported {written.turns_created} new turns ({written.turns_present} already present)"
        f" into {len(found.turns)} threads, {written.memories} memories,"
        f" {written.summaries} summaries"
    )
    if found.usage:
        say(f"{found.usage} usage records skipped: the ledger counts this store's model calls")
    return {
        "turns": written.turns_created,
        "turns_present": written.turns_present,
        "threads": len(found.turns),
        "memories": written.memories,
        "summaries": written.summaries,
        "skipped_usage": found.usage,
    }


def export(client: MemoryClient, args: argparse.Namespace, quiet: bool) -> Any:
    if args.output is None:  # the records are the output
        transfer.export_user(client, args.user_id, sys.stdout)
        return NOTHING
    target = Path(args.output)
    store_file = getattr(client.store, "path", None)
    if isinstance(store_file, Path) and _same_or_beside(target, store_file):
        raise InvalidInputError(f"{args.output} is the store's own file: export elsewhere")
    # Written beside the target and moved over it only when complete: a rejected or
    # interrupted export leaves an existing file as it was.
    partial = target.with_name(f".{target.name}.partial")
    try:
        with _open(str(partial), "w") as handle:
            counts = transfer.export_user(client, args.user_id, handle)
        partial.replace(target)
    except OSError as exc:
        raise InvalidInputError(f"cannot write {args.output}: {exc.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)
    _say(quiet)(", ".join(f"{n} {kind} records" for kind, n in counts.items()))
    return counts


def _same_or_beside(target: Path, store_file: Path) -> bool:
    """True when ``target`` is the store's file or one of its companions (WAL, vectors)."""
    try:
        target, store_file = target.resolve(), store_file.resolve()
    except OSError:
        return False
    same_folder = target.parent == store_file.parent
    return same_folder and (
        target.name == store_file.name or target.name.startswith(f"{store_file.name}-")
    )


def _open(name: str, mode: str) -> IO[str]:
    try:
        return Path(name).open(mode, encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot open {name}: {exc.strerror}") from None


HANDLERS: dict[str, Handler] = {
    "demo": demo,
    "add": add,
    "turns list": turns_list,
    "memories add": memories_add,
    "memories list": memories_list,
    "memories show": memories_show,
    "search": search,
    "process": process,
    "reconcile": reconcile,
    "summary thread": summary_thread,
    "summary user": summary_user,
    "usage": usage,
    "status": status,
    "forget": forget,
    "import": import_file,
    "export": export,
}
