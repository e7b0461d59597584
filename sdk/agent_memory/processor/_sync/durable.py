# Generated from agent_memory/processor/_async/durable.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""The processor of the durable owner: the Function app runs the pipeline (sync, generated).

With ``MEMORY_PROCESSOR_OWNER=durable`` the change feed brings new turns to the Durable Functions
app, so a client runs no step itself: ``on_turns_added`` and ``process_now`` do nothing here
(``process_now`` returns an empty report). ``process_now_and_wait`` polls the store until the
thread's extraction watermark covers its latest turn. ``reconcile`` stays an explicit,
on-demand call and runs here when a model is configured.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from agent_memory.core.clock import Clock
from agent_memory.core.due import Thresholds
from agent_memory.core.requests import ReconcileResult
from agent_memory.core.status import ProcessReport
from agent_memory.processor._sync.backlog import backlog_error, extraction_backlog
from agent_memory.processor._sync.inprocess import reconcile_now
from agent_memory.processor.status import PipelineStatus, WarnOnce
from agent_memory.stores._sync.protocol import MemoryStore

if TYPE_CHECKING:
    from agent_memory.model._sync.client import ModelClient

logger = logging.getLogger("agent_memory.pipeline")

MAX_POLL_INTERVAL = 2.0


class DurableFunctionProcessor:
    """Marks that the Durable Functions app owns the pipeline; ``process_*`` run nothing here."""

    def __init__(
        self,
        store: MemoryStore,
        ai: ModelClient | None,
        thresholds: Thresholds,
        *,
        poll_interval: float = 0.25,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.ai = ai
        self.thresholds = thresholds
        self.status = PipelineStatus()
        self._poll_interval = poll_interval
        self._clock = clock or Clock()
        self._warn_once = WarnOnce(logger)

    def on_turns_added(self, user_id: str, thread_id: str, count: int) -> None:
        """Nothing to do: the change feed brings the turns to the Function app."""
        self._warn_once(
            "owner",
            "MEMORY_PROCESSOR_OWNER=durable: the Durable Functions app processes new turns; "
            "this client only stores them",
        )

    def process_now(self, user_id: str, thread_id: str | None = None) -> ProcessReport:
        """A no-op with the durable owner: an empty report (see ``process_now_and_wait``)."""
        self._warn_once(
            "process_now",
            "process_now runs nothing when the Durable Functions app owns the pipeline; "
            "use process_now_and_wait to wait for it",
        )
        return ProcessReport()

    def process_now_and_wait(self, user_id: str, thread_id: str, *, timeout: float = 30.0) -> None:
        """Poll until the thread's extraction watermark covers its latest turn."""
        deadline = self._clock.monotonic() + timeout
        delay = self._poll_interval
        while True:
            watermark, latest = extraction_backlog(self.store, user_id, thread_id)
            if watermark >= latest:
                return
            remaining = deadline - self._clock.monotonic()
            if remaining <= 0:
                every = self.thresholds.fact_extraction_every_n
                raise backlog_error(
                    self.store,
                    user_id,
                    thread_id,
                    timeout,
                    f"The Durable Functions app extracts every {every} turn(s) of a thread "
                    "(FACT_EXTRACTION_EVERY_N, 0 = never); check that it runs with "
                    "MEMORY_PROCESSOR_OWNER=durable against the same store.",
                )
            self._clock.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_POLL_INTERVAL)

    def reconcile(self, user_id: str, n: int | None = None) -> ReconcileResult:
        """Run reconcile now, here (an explicit request, not a pipeline step)."""
        return reconcile_now(self.store, self.ai, self.thresholds, user_id, n)

    def drain(self) -> None:
        """Nothing runs in the background here."""
