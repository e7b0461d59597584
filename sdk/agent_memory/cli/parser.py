"""The ``agent-memory`` command line: commands and options (standard library only, so
``--help`` starts fast)."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

#: Commands that write; every other command only reads and needs an existing store.
WRITES = frozenset({"demo", "add", "memories add", "import"})


class UsageError(Exception):
    """The command line itself is wrong (exit code 2)."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, raised instead of printed."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _common(parser: argparse.ArgumentParser, path: Any, as_json: Any) -> None:
    """Options accepted before or after the command (the command's copy never resets them)."""
    parser.add_argument(
        "--path",
        default=path,
        help="embedded store file (default: $AGENT_MEMORY_PATH or ./.agent_memory/memory.db)",
    )
    parser.add_argument("--json", action="store_true", default=as_json, help="print JSON")


def build() -> Parser:
    """The full parser; each command sets ``command`` (e.g. ``"memories list"``)."""
    parser = Parser(
        prog="agent-memory",
        description="Long-term memory for AI agents, from the command line.",
        epilog=(
            "Exit codes: 0 done, 1 error, 2 rejected input (nothing written), 130 interrupted, "
            "141 output pipe closed."
        ),
    )
    _common(parser, None, False)
    common = Parser(add_help=False)
    _common(common, argparse.SUPPRESS, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        group: Any, name: str, help: str, full: str | None = None
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(
            name, parents=[common], help=help, description=help
        )
        sub.set_defaults(command=full or name)
        return sub

    def nested(name: str, help: str) -> Any:
        sub = commands.add_parser(name, help=help, description=help)
        return sub.add_subparsers(dest="action", required=True, metavar="ACTION")

    demo = command(commands, "demo", "add a scripted conversation and search it")
    demo.add_argument("--user", default="demo-user", help="user id to use (its data is reset)")

    _turn_options(command(commands, "add", "append one turn to a thread (= turns add)", "add"))
    turns = nested("turns", "a thread's raw turns")
    _turn_options(command(turns, "add", "append one turn to a thread", "add"))
    listing = command(turns, "list", "a thread's turns, oldest first", "turns list")
    listing.add_argument("user_id")
    listing.add_argument("thread_id")
    listing.add_argument("--limit", type=int, help="only the most recent N")

    memories = nested("memories", "facts, procedural rules and episodic experiences")
    add = command(memories, "add", "store a memory directly (no model call)", "memories add")
    add.add_argument("user_id")
    add.add_argument("thread_id")
    add.add_argument("content")
    add.add_argument("--type", default="fact", help="fact (default), procedural or episodic")
    add.add_argument("--confidence", type=float, default=1.0, help="0-1 (default 1)")
    add.add_argument("--tag", action="append", dest="tags", help="a tag (repeatable)")
    add.add_argument("--source-turn", action="append", dest="source_turn_ids", help="a turn id")
    add.add_argument("--situation", help="episodic: the situation")
    add.add_argument("--action", help="episodic: what was done")
    add.add_argument("--outcome", help="episodic: what came of it")
    listed = command(memories, "list", "a user's memories, newest first", "memories list")
    listed.add_argument("user_id")
    _memory_filters(listed)
    listed.add_argument("--limit", type=int, help="at most N")
    show = command(memories, "show", "one memory and its supersede history", "memories show")
    show.add_argument("user_id")
    show.add_argument("memory_id")

    search = command(commands, "search", "hybrid search over a user's memories")
    search.add_argument("user_id")
    search.add_argument("query")
    search.add_argument("--top", type=int, default=5, help="at most N hits (default 5)")
    _memory_filters(search)
    search.add_argument("--tag", action="append", dest="tags", help="with any of these tags")
    search.add_argument("--turns", action="store_true", help="also search raw turns")
    search.add_argument("--mode", default="hybrid", help="hybrid (default), text or vector")

    process = command(commands, "process", "run every pipeline step over pending turns now")
    process.add_argument("user_id")
    process.add_argument("--thread", dest="thread_id", help="only this thread")
    reconcile = command(commands, "reconcile", "supersede duplicate and contradicted facts")
    reconcile.add_argument("user_id")
    reconcile.add_argument("-n", type=int, default=50, help="the N most recent facts (≤ 500)")

    summary = nested("summary", "thread summaries and the user profile")
    thread = command(summary, "thread", "a thread's summary", "summary thread")
    thread.add_argument("user_id")
    thread.add_argument("thread_id")
    user = command(summary, "user", "the user's cross-thread profile", "summary user")
    user.add_argument("user_id")

    usage = command(commands, "usage", "model calls and tokens spent on a user")
    usage.add_argument("user_id")
    status = command(commands, "status", "configuration, and a user's threads and backlog")
    status.add_argument("user_id", nargs="?")

    forget = command(commands, "forget", "delete everything of a user (or one thread)")
    forget.add_argument("user_id")
    forget.add_argument("--thread", dest="thread_id")
    forget.add_argument("--yes", action="store_true", help="confirm the deletion")

    imported = command(commands, "import", "add a conversation from a JSON Lines file")
    imported.add_argument("file", help="JSON Lines, one turn per line; - reads stdin")
    imported.add_argument("--user", dest="user_id", help="user of lines that name none")
    imported.add_argument("--thread", dest="thread_id", help="thread of lines that name none")
    exported = command(commands, "export", "write everything of a user as JSON Lines")
    exported.add_argument("user_id")
    exported.add_argument("--output", "-o", help="file to write (default: standard output)")
    return parser


def _turn_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("user_id")
    parser.add_argument("thread_id")
    parser.add_argument("role", help="user, assistant, system or tool")
    parser.add_argument("content")
    parser.add_argument("--turn-id", help="the turn's id: re-adding it writes nothing")
    parser.add_argument("--metadata", help="JSON object stored with the turn")
    parser.add_argument("--created-at", help="ISO 8601 time (default: now; naive = UTC)")


def _memory_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--type", action="append", dest="types", help="fact, procedural or episodic (repeatable)"
    )
    parser.add_argument(
        "--thread",
        dest="thread_id",
        help="this thread's facts and the user's procedural and episodic memories",
    )
    parser.add_argument("--min-confidence", type=float)
    parser.add_argument("--superseded", action="store_true", help="include superseded memories")
