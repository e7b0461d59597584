"""agent-memory: long-term memory for AI agents, from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from agent_memory._sync.client import MemoryClient
from agent_memory.demo import DEMO_USER, run_demo
from agent_memory.errors import AgentMemoryError, InvalidInputError
from agent_memory.models import MEMORY_TYPES
from agent_memory.settings import Settings


def _add_common(parser: argparse.ArgumentParser, path: Any, as_json: Any) -> None:
    """Options accepted before or after the command (the command's copy never resets them)."""
    parser.add_argument(
        "--path",
        default=path,
        help="embedded store file (default: $AGENT_MEMORY_PATH or ./.agent_memory/memory.db)",
    )
    parser.add_argument("--json", action="store_true", default=as_json, help="print JSON")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agent-memory", description=__doc__)
    _add_common(parser, None, False)
    common = argparse.ArgumentParser(add_help=False)
    _add_common(common, argparse.SUPPRESS, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", parents=[common], help="add a scripted conversation and search it"
    )
    demo.add_argument("--user", default=DEMO_USER, help="user id to use (its data is reset)")

    add = commands.add_parser("add", parents=[common], help="append one turn to a thread")
    add.add_argument("user_id")
    add.add_argument("thread_id")
    add.add_argument("role", choices=["user", "assistant", "system", "tool"])
    add.add_argument("content")
    add.add_argument("--metadata", help="JSON object stored with the turn")

    search = commands.add_parser(
        "search", parents=[common], help="hybrid search over a user's memories"
    )
    search.add_argument("user_id")
    search.add_argument("query")
    search.add_argument("--top", type=int, default=5)
    search.add_argument("--type", action="append", choices=MEMORY_TYPES, dest="types")
    search.add_argument("--thread", dest="thread_id")
    search.add_argument("--tag", action="append", dest="tags")
    search.add_argument("--min-confidence", type=float)
    search.add_argument("--turns", action="store_true", help="also search raw turns")
    search.add_argument("--superseded", action="store_true", help="include superseded memories")
    search.add_argument("--mode", choices=["hybrid", "text", "vector"], default="hybrid")

    turns = commands.add_parser("turns", parents=[common], help="list a thread's turns")
    turns.add_argument("user_id")
    turns.add_argument("thread_id")
    turns.add_argument("--limit", type=int, help="only the most recent N")

    forget = commands.add_parser(
        "forget", parents=[common], help="delete everything of a user (or one thread)"
    )
    forget.add_argument("user_id")
    forget.add_argument("--thread", dest="thread_id")
    forget.add_argument("--yes", action="store_true", help="confirm the deletion")
    return parser


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _client(args: argparse.Namespace) -> MemoryClient:
    return MemoryClient(path=args.path, settings=Settings.from_env())


def _run(args: argparse.Namespace) -> Any:
    quiet = args.json
    with _client(args) as client:
        if args.command == "demo":
            say = (lambda _: None) if quiet else print
            return run_demo(client, say, user_id=args.user)
        if args.command == "add":
            try:
                metadata = json.loads(args.metadata) if args.metadata else None
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"--metadata is not valid JSON: {exc}") from None
            if metadata is not None and not isinstance(metadata, dict):
                raise InvalidInputError("--metadata must be a JSON object")
            turn = client.add(
                args.user_id, args.thread_id, args.role, args.content, metadata=metadata
            )
            if not quiet:
                print(f"added {turn.id} (seq {turn.seq}) to {args.user_id}/{args.thread_id}")
            return turn
        if args.command == "search":
            hits = client.search(
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
            if not quiet:
                for hit in hits:
                    print(f"{hit.score:.4f}  [{hit.kind}] {hit.content}")
                if not hits:
                    print("no results")
            return hits
        if args.command == "turns":
            turns = client.get_turns(args.user_id, args.thread_id, limit=args.limit)
            if not quiet:
                for turn in turns:
                    print(f"{turn.created_at:%Y-%m-%d %H:%M}  {turn.role:<9} {turn.content}")
            return turns
        if not args.yes:
            raise InvalidInputError("forget deletes data permanently: pass --yes to confirm")
        counts = client.forget(args.user_id, thread_id=args.thread_id)
        if not quiet:
            for container, count in counts.items():
                print(f"{container}: {count} deleted")
        return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``agent-memory`` console script."""
    args = _parser().parse_args(argv)
    try:
        result = _run(args)
    except InvalidInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except AgentMemoryError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        try:
            print(json.dumps(_jsonable(result), indent=2, ensure_ascii=False))
        except BrokenPipeError:  # e.g. piped into `head`
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
