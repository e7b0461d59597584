"""How the in-process pipeline runs due steps: inline (sync) or as tracked tasks (async)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger("agent_memory.pipeline")


class BackgroundRunner:
    """Sync clients run due steps inline, so by the time ``submit`` sees them they are done."""

    pending = 0

    def submit(self, done: object) -> None:
        """Nothing left to run."""

    def drain(self) -> None:
        """Nothing is ever in flight."""


class AsyncBackgroundRunner:
    """Async clients run due steps as tasks that are kept, counted and awaited on close."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def pending(self) -> int:
        """Tasks not finished yet."""
        return sum(1 for t in self._tasks if not t.done())

    async def submit(self, work: Coroutine[Any, Any, Any]) -> None:
        """Start ``work`` in the background; it must record its own failures."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for every task started so far (and any they start)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
