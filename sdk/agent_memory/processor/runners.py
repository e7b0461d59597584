"""How the in-process pipeline runs due steps off the caller's path: a bounded worker thread
(sync clients) or tracked tasks (async clients). Either way ``add`` returns once turns are
stored; the steps record their own failures in ``pipeline_status``."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Final

logger = logging.getLogger("agent_memory.pipeline")

#: Most jobs a sync client queues; past it ``submit`` waits for the worker to take one.
MAX_QUEUED_JOBS: Final = 1000
#: Seconds a worker thread with nothing to do waits before it exits (the next job restarts it).
IDLE_SECONDS: Final = 2.0


class BackgroundRunner:
    """One daemon worker thread running submitted jobs in order, started on demand.

    The thread exits after :data:`IDLE_SECONDS` without work, so an idle or closed client
    keeps no thread. Work queued when the process exits without ``close()`` is not run, but
    nothing is lost: its turns stay pending in the store for the next run.

    The queue holds at most ``max_queued`` jobs; a ``submit`` beyond that blocks until the
    worker takes one (back-pressure instead of unbounded memory). A job that raises is logged;
    the pipeline's jobs record their failures themselves and never raise.
    """

    def __init__(self, max_queued: int = MAX_QUEUED_JOBS) -> None:
        self._queue: queue.Queue[Callable[[], object]] = queue.Queue(maxsize=max_queued)
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    @property
    def pending(self) -> int:
        """Jobs submitted and not finished yet."""
        return self._queue.unfinished_tasks

    def submit(self, work: Callable[[], object]) -> None:
        """Queue ``work`` for the worker thread and return at once (unless the queue is full)."""
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name="agent-memory-pipeline", daemon=True
                )
                self._worker.start()
            self._queue.put(work)

    def _run(self) -> None:
        while True:
            try:
                work = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            try:
                work()
            except Exception:
                logger.exception("a background pipeline job failed")
            finally:
                self._queue.task_done()

    def drain(self) -> None:
        """Wait until every job submitted so far (and any they submit) has finished."""
        if threading.current_thread() is self._worker:
            return  # a job waiting for its own queue would never return
        self._queue.join()


class AsyncBackgroundRunner:
    """Async clients run due steps as tasks that are kept, counted and awaited on close."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def pending(self) -> int:
        """Tasks not finished yet."""
        return sum(1 for t in self._tasks if not t.done())

    async def submit(self, work: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Start ``work()`` in the background; it must record its own failures."""
        task = asyncio.get_running_loop().create_task(work())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for every task started so far (and any they start)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
