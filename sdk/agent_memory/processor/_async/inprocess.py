"""The in-process driver: counts turns in the store and runs due activities (async source)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from agent_memory.core import steps
from agent_memory.core.due import Counts, DueSteps, Thresholds, due_steps
from agent_memory.core.errors import ConfigurationError, ForgottenError
from agent_memory.core.requests import (
    ExtractResult,
    ReconcileRequest,
    ReconcileResult,
    SummaryResult,
    ThreadRequest,
    UserRequest,
)
from agent_memory.core.status import OWNER_DURABLE, OWNER_INPROCESS, ProcessReport
from agent_memory.pipeline._async import activities
from agent_memory.processor._async.backlog import backlog_error, extraction_backlog
from agent_memory.processor.runners import AsyncBackgroundRunner
from agent_memory.processor.status import PipelineStatus, WarnOnce
from agent_memory.stores._async.protocol import AsyncMemoryStore

if TYPE_CHECKING:
    from agent_memory.model._async.client import AsyncModelClient

logger = logging.getLogger("agent_memory.pipeline")

TURNS_COUNTER = "turns"
EXTRACTIONS_COUNTER = "extractions"


class AsyncInProcessProcessor:
    """Runs the pipeline inside the SDK (``MEMORY_PROCESSOR_OWNER`` unset or ``inprocess``)."""

    def __init__(
        self, store: AsyncMemoryStore, ai: AsyncModelClient | None, thresholds: Thresholds
    ) -> None:
        self.store = store
        self.ai = ai
        self.thresholds = thresholds
        self.status = PipelineStatus()
        self._runner = AsyncBackgroundRunner()
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._warn_once = WarnOnce(logger)

    async def on_turns_added(self, user_id: str, thread_id: str, count: int) -> None:
        """Count ``count`` new turns and start whatever steps they make due in the background.

        Returns without waiting on the model: the sync client queues the steps on its worker
        thread, the async client starts a task. Counting is a write of the user's like any
        other: when the user is forgotten after the turns were appended, nothing is counted
        and no counter of theirs is written (the user's epoch is checked on every write).
        """
        if count <= 0 or self.ai is None:
            return
        epoch = await self.store.user_epoch(user_id)
        if not epoch:  # the appended turns were forgotten already: nothing left to count
            _log_forgotten_count(user_id)
            return
        try:
            due = await self._count(user_id, thread_id, count, epoch)
        except ForgottenError:
            _log_forgotten_count(user_id)
            return
        if due.any:
            await self._runner.submit(lambda: self._run_due(user_id, thread_id, due))

    async def _count(self, user_id: str, thread_id: str, count: int, epoch: str) -> DueSteps:
        """Add ``count`` turns to the thread's and the user's counters; the steps now due."""
        thread = await self.store.increment_counter(
            user_id,
            TURNS_COUNTER,
            thread_id=thread_id,
            by=count,
            owner=OWNER_INPROCESS,
            epoch=epoch,
        )
        user = await self.store.increment_counter(
            user_id, TURNS_COUNTER, by=count, owner=OWNER_INPROCESS, epoch=epoch
        )
        if OWNER_DURABLE in (thread.previous_owner, user.previous_owner):
            self._warn_once(
                f"owner:{user_id}",
                "counters of user %r were last written by the durable pipeline; "
                "run one owner per deployment (MEMORY_PROCESSOR_OWNER)",
                user_id,
            )
        extractions = (
            await self.store.increment_counter(user_id, EXTRACTIONS_COUNTER, by=0, epoch=epoch)
        ).after
        due = due_steps(
            Counts(thread_turns=thread.before, user_turns=user.before, extractions=extractions),
            Counts(thread_turns=thread.after, user_turns=user.after, extractions=extractions),
            self.thresholds,
        )
        if due.extract:
            await self.store.increment_counter(user_id, EXTRACTIONS_COUNTER, by=1, epoch=epoch)
        return due

    async def _run_due(self, user_id: str, thread_id: str, due: DueSteps) -> int:
        """Run due steps in order, each failure recorded and logged, never raised; failures."""
        failures = len(self.status.failures)
        extracted = not due.extract or await self._attempt(
            user_id, thread_id, steps.EXTRACT_STEP, lambda: self._extract(user_id, thread_id)
        )
        if due.reconcile and extracted:
            await self._attempt(
                user_id, None, steps.RECONCILE_STEP, lambda: self.reconcile(user_id)
            )
        if due.thread_summary:
            await self._attempt(
                user_id,
                thread_id,
                steps.THREAD_SUMMARY_STEP,
                lambda: self._summarize_thread(user_id, thread_id),
            )
        if due.user_summary:
            await self._attempt(
                user_id, None, steps.USER_SUMMARY_STEP, lambda: self._summarize_user(user_id)
            )
        return len(self.status.failures) - failures

    async def _attempt(
        self, user_id: str, thread_id: str | None, step: str, work: Callable[[], Awaitable[object]]
    ) -> bool:
        try:
            await work()
        except Exception as exc:
            logger.warning("%s failed for user %r: %s (turns stay pending)", step, user_id, exc)
            self.status.failed(user_id, thread_id, step, exc)
            return False
        self.status.succeeded()
        return True

    def _model(self) -> AsyncModelClient:
        return require_model(self.ai, "to run the pipeline")

    def _lock(self, user_id: str, thread_id: str) -> asyncio.Lock:
        return self._locks.setdefault((user_id, thread_id), asyncio.Lock())

    async def _extract(self, user_id: str, thread_id: str) -> ExtractResult:
        async with self._lock(user_id, thread_id):
            return await activities.extract_memories(
                self.store, self._model(), ThreadRequest(user_id=user_id, thread_id=thread_id)
            )

    async def _summarize_thread(self, user_id: str, thread_id: str) -> SummaryResult:
        async with self._lock(user_id, f"summary:{thread_id}"):
            return await activities.summarize_thread(
                self.store, self._model(), ThreadRequest(user_id=user_id, thread_id=thread_id)
            )

    async def _summarize_user(self, user_id: str) -> SummaryResult:
        return await activities.summarize_user(
            self.store, self._model(), UserRequest(user_id=user_id)
        )

    async def reconcile(self, user_id: str, n: int | None = None) -> ReconcileResult:
        """Run reconcile now over the ``n`` most recent facts (default: the pool size)."""
        return await reconcile_now(self.store, self.ai, self.thresholds, user_id, n)

    async def process_now(self, user_id: str, thread_id: str | None = None) -> ProcessReport:
        """Run every step over all pending work of the user (or one thread), thresholds aside."""
        await self._runner.drain()
        threads = [thread_id] if thread_id else await self.store.list_threads(user_id)
        report = ProcessReport()
        for thread in threads:
            report.extracted[thread] = await self._extract(user_id, thread)
            report.thread_summaries[thread] = await self._summarize_thread(user_id, thread)
        report.reconciled = await self.reconcile(user_id)
        report.user_summary = await self._summarize_user(user_id)
        return report

    async def process_now_and_wait(
        self, user_id: str, thread_id: str, *, timeout: float = 30.0
    ) -> None:
        """Run the thread's pending steps now; extract again while turns keep arriving."""
        deadline = time.monotonic() + timeout
        await self.process_now(user_id, thread_id)
        while True:
            watermark, latest = await extraction_backlog(self.store, user_id, thread_id)
            if watermark >= latest:
                return
            if time.monotonic() >= deadline:
                raise await backlog_error(
                    self.store, user_id, thread_id, timeout, "Turns are still being added."
                )
            await self._extract(user_id, thread_id)

    async def drain(self) -> None:
        """Wait for the background steps started so far."""
        await self._runner.drain()


def _log_forgotten_count(user_id: str) -> None:
    logger.info("user %r was forgotten after their turns were added; nothing counted", user_id)


def require_model(ai: AsyncModelClient | None, purpose: str) -> AsyncModelClient:
    """``ai``, or a ``ConfigurationError`` naming the variables that configure a model."""
    if ai is None:
        raise ConfigurationError(
            "no model is configured: set AI_FOUNDRY_ENDPOINT (Azure OpenAI / AI Foundry) "
            f"or OPENAI_API_KEY / OPENAI_BASE_URL {purpose}"
        )
    return ai


async def reconcile_now(
    store: AsyncMemoryStore,
    ai: AsyncModelClient | None,
    thresholds: Thresholds,
    user_id: str,
    n: int | None = None,
) -> ReconcileResult:
    """Reconcile the ``n`` most recent facts now (default: the configured pool size)."""
    pool = n if n is not None else thresholds.dedup_pool_size
    return await activities.reconcile(
        store, require_model(ai, "to reconcile"), ReconcileRequest(user_id=user_id, n=pool)
    )
