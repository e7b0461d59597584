"""What the in-process pipeline has done and what failed, readable by the caller."""

from __future__ import annotations

import logging
import threading

from agent_memory.core.models import utcnow
from agent_memory.core.status import StepFailure


class WarnOnce:
    """Logs each keyed warning the first time only."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._seen: set[str] = set()

    def __call__(self, key: str, message: str, *args: object) -> None:
        if key not in self._seen:
            self._seen.add(key)
            self._logger.warning(message, *args)


class PipelineStatus:
    """Counts of runs and a bounded list of recent failures (thread-safe)."""

    def __init__(self, keep: int = 100) -> None:
        self._lock = threading.Lock()
        self._keep = keep
        self.completed = 0
        self.failures: list[StepFailure] = []

    def succeeded(self) -> None:
        """Count one step that completed."""
        with self._lock:
            self.completed += 1

    def failed(self, user_id: str, thread_id: str | None, step: str, error: BaseException) -> None:
        """Keep a failure (the oldest are dropped past ``keep``)."""
        with self._lock:
            self.failures.append(
                StepFailure(
                    user_id=user_id,
                    thread_id=thread_id,
                    step=step,
                    error=f"{type(error).__name__}: {error}",
                    at=utcnow(),
                )
            )
            del self.failures[: -self._keep]
