"""agent-memory: long-term memory for AI agents, from the command line.

Exit codes: 0 done; 1 an error (one line on standard error); 2 rejected input or a wrong
command line (nothing written); 130 interrupted (Ctrl-C); 141 standard output was closed
(e.g. piped into ``head``). Read commands never create a store. Only the standard library
loads before the command line is parsed, so ``--help`` starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_memory.cli.parser import UsageError, build

if TYPE_CHECKING:
    import argparse

    from agent_memory.client._sync.client import MemoryClient

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141


class _Failure(Exception):
    """A one-line error with its exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``agent-memory`` console script."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = build().parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _show_warnings()
    try:
        result = _run(args)
    except _Failure as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    if args.json and result is not _nothing():
        from agent_memory.cli.output import print_json

        print_json(result)
    sys.stdout.flush()  # a closed pipe surfaces here, inside main
    return 0


def _show_warnings() -> None:
    """The command is an application: the SDK's warnings go to stderr, one line each."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    logger = logging.getLogger("agent_memory")
    logger.addHandler(handler)
    logger.propagate = False
    # Other libraries' diagnostics (azure-identity lists every credential it tried, over many
    # lines) would reach stderr through logging's last-resort handler: the command's own
    # one-line error already says what failed.
    logging.getLogger().addHandler(logging.NullHandler())


def _nothing() -> Any:
    from agent_memory.cli.commands import NOTHING

    return NOTHING


def _run(args: argparse.Namespace) -> Any:
    """Open the store the command needs, run the command, close; errors as ``_Failure``."""
    from agent_memory.core.errors import AgentMemoryError, InvalidInputError

    if args.command == "forget" and not args.yes:
        raise _Failure("forget deletes data permanently: pass --yes to confirm", EXIT_USAGE)
    try:
        from agent_memory.cli.parser import WRITES

        client, created = _open(args, args.command in WRITES)
        from agent_memory.cli.commands import HANDLERS

        try:
            result = HANDLERS[args.command](client, args, args.json)
        except KeyboardInterrupt:
            raise  # the turns are stored; queued steps stay pending for the next run
        except BaseException:
            client.close()
            if created is not None:
                _remove_store(created)
            raise
        client.close()
        return result
    except InvalidInputError as exc:
        raise _Failure(str(exc), EXIT_USAGE) from None
    except AgentMemoryError as exc:
        raise _Failure(f"{type(exc).__name__}: {exc}") from None
    except (KeyboardInterrupt, BrokenPipeError, _Failure):
        raise
    except Exception as exc:  # never a traceback: one line that names the failure
        raise _Failure(f"{type(exc).__name__}: {exc}") from None


def _open(args: argparse.Namespace, writes: bool) -> tuple[MemoryClient, Path | None]:
    """The client, and the store file when this call creates it (removed again on failure).

    A read command on a store that does not exist fails instead of creating it.
    """
    from agent_memory.settings import Settings
    from agent_memory.stores.sqlite.store import DEFAULT_PATH

    settings = Settings.from_env()
    path: Path | None = None
    if args.path is not None or not settings.cosmos_endpoint:
        path = Path(args.path or settings.store_path or DEFAULT_PATH)
        if path.is_dir():
            raise _Failure(f"{path} is a directory, not a store file")
        if not path.exists() or (not writes and path.stat().st_size == 0):
            if not writes:
                raise _Failure(f"no store at {path} (nothing has been added there yet)")
        else:
            path = None
    created = None if path is None else _first_missing(path)
    from agent_memory.client._sync.client import MemoryClient

    client = MemoryClient(path=args.path, settings=settings)
    return client, created


def _first_missing(path: Path) -> Path:
    """The outermost part of ``path`` that does not exist yet (the file or a directory)."""
    missing = path
    while not missing.parent.exists():
        missing = missing.parent
    return missing


def _remove_store(created: Path) -> None:
    """Delete a store file (and the directories) this command created before it failed."""
    import shutil

    if created.is_dir():
        shutil.rmtree(created, ignore_errors=True)
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{created}{suffix}").unlink(missing_ok=True)


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the exit flush stays quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


if __name__ == "__main__":
    raise SystemExit(main())
