"""Time budgets of the Function app, derived from one another so they cannot drift apart.

``host.json``'s ``functionTimeout`` bounds one activity attempt; the orchestrator's retry
options bound the attempts of a step; a round runs at most three phases one after another
(extractions, then reconcile and thread summaries, then the user summary). A claim on a step
must outlive the worst case of the round that holds it, or a second orchestration could take
the step while the first is still running it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

#: ``functionTimeout`` in host.json (a test keeps them equal).
FUNCTION_TIMEOUT: Final = timedelta(minutes=10)
#: Activity retries: 5 s, 10 s, 20 s between four attempts (backoff capped at one minute).
FIRST_RETRY_INTERVAL_MS: Final = 5_000
MAX_ATTEMPTS: Final = 4
BACKOFF_COEFFICIENT: Final = 2.0
MAX_RETRY_INTERVAL_MS: Final = 60_000
#: Phases of a round, run one after another.
PHASES: Final = 3


def retry_backoff() -> timedelta:
    """The total wait between the attempts of one step."""
    total = sum(
        min(FIRST_RETRY_INTERVAL_MS * BACKOFF_COEFFICIENT**i, MAX_RETRY_INTERVAL_MS)
        for i in range(MAX_ATTEMPTS - 1)
    )
    return timedelta(milliseconds=total)


#: The longest one step can take: every attempt running to ``functionTimeout``, plus backoff.
STEP_WORST_CASE: Final = MAX_ATTEMPTS * FUNCTION_TIMEOUT + retry_backoff()
#: A claim older than this is presumed lost (its orchestration died) and its step re-queued:
#: a whole round at its worst, plus a quarter for queueing delays in the task hub.
CLAIM_TIMEOUT: Final = PHASES * STEP_WORST_CASE * 5 / 4
#: A thread quiet for this long has received every batch that was in flight for it, so its
#: counted ranges fold into its floor (only a dead-lettered batch replayed later can be older).
SETTLE_AFTER: Final = timedelta(hours=1)
#: A thread with no work that has been quiet this long is dropped from the entity's state.
IDLE_AFTER: Final = timedelta(days=7)
#: Hold-off after a step's n-th failed round: ``HOLD_OFF * 2**(n-1)``, at most ``MAX_HOLD_OFF``.
HOLD_OFF: Final = timedelta(minutes=1)
MAX_HOLD_OFF: Final = timedelta(hours=1)
#: Failed rounds after which a step is quarantined (not handed out until released).
QUARANTINE_AFTER: Final = 5
#: Completed, failed and terminated instances older than this are purged by the sweeper.
HISTORY_RETENTION: Final = timedelta(days=7)
