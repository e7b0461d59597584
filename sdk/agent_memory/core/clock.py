"""Waiting for the Durable Functions app: a clock that sleeps, blocking or on the event loop."""

from __future__ import annotations

import asyncio
import time


class Clock:
    """Monotonic time and a blocking sleep (sync clients)."""

    def monotonic(self) -> float:
        """Seconds on a monotonic clock."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        time.sleep(seconds)


class AsyncClock:
    """Monotonic time and a sleep that yields to the event loop (async clients)."""

    def monotonic(self) -> float:
        """Seconds on a monotonic clock."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` without blocking the loop."""
        await asyncio.sleep(seconds)
