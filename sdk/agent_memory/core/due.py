"""Which pipeline steps are due: one pure function, shared by every driver."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Final

from pydantic import BaseModel, ConfigDict, Field

from agent_memory.core.envconfig import ConfigModel, model_from_env

MAX_DEDUP_POOL: Final = 500

#: Field name -> environment variable (the names the Function app settings use too).
THRESHOLD_ENV: Final[dict[str, str]] = {
    "fact_extraction_every_n": "FACT_EXTRACTION_EVERY_N",
    "dedup_every_n": "DEDUP_EVERY_N",
    "dedup_pool_size": "DEDUP_POOL_SIZE",
    "thread_summary_every_n": "THREAD_SUMMARY_EVERY_N",
    "user_summary_every_n": "USER_SUMMARY_EVERY_N",
}


class Thresholds(ConfigModel):
    """How often each step runs; 0 disables a step."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    env_names: ClassVar[Mapping[str, str]] = THRESHOLD_ENV

    fact_extraction_every_n: int = Field(default=1, ge=0, description="turns of a thread")
    dedup_every_n: int = Field(default=5, ge=0, description="extractions of a user")
    dedup_pool_size: int = Field(default=50, ge=2, le=MAX_DEDUP_POOL)
    thread_summary_every_n: int = Field(default=10, ge=0, description="turns of a thread")
    user_summary_every_n: int = Field(default=20, ge=0, description="turns of a user")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Thresholds:
        """Read :data:`THRESHOLD_ENV`; a bad value raises ``ConfigurationError``."""
        return model_from_env(cls, THRESHOLD_ENV, environ)


#: The recommended profile for high-volume agents: about 20 model calls per 100 turns.
HIGH_VOLUME: Final = Thresholds(
    fact_extraction_every_n=10,
    dedup_every_n=5,
    thread_summary_every_n=25,
    user_summary_every_n=50,
)


class Counts(BaseModel):
    """Counter values around one batch of turns."""

    model_config = ConfigDict(frozen=True)

    thread_turns: int = Field(ge=0)
    user_turns: int = Field(ge=0)
    extractions: int = Field(default=0, ge=0, description="extraction runs before this batch")


class DueSteps(BaseModel):
    """What to run for one thread after a batch, and the extraction count afterwards."""

    model_config = ConfigDict(frozen=True)

    extract: bool = False
    reconcile: bool = False
    thread_summary: bool = False
    user_summary: bool = False
    extractions: int = 0

    @property
    def any(self) -> bool:
        """True when at least one step is due."""
        return self.extract or self.reconcile or self.thread_summary or self.user_summary


def crossed(before: int, after: int, every: int) -> bool:
    """True when ``(before, after]`` contains a multiple of ``every`` (0 = never)."""
    return every > 0 and after // every > before // every


def due_steps(before: Counts, after: Counts, thresholds: Thresholds) -> DueSteps:
    """Decide which steps a batch that moved the counters from ``before`` to ``after`` fires.

    Each step fires at most once per batch, however many multiples the batch crosses.
    Reconcile counts extraction runs: it fires with every ``dedup_every_n``-th extraction.
    """
    extract = crossed(before.thread_turns, after.thread_turns, thresholds.fact_extraction_every_n)
    extractions = before.extractions + (1 if extract else 0)
    return DueSteps(
        extract=extract,
        reconcile=extract and crossed(before.extractions, extractions, thresholds.dedup_every_n),
        thread_summary=crossed(
            before.thread_turns, after.thread_turns, thresholds.thread_summary_every_n
        ),
        user_summary=crossed(before.user_turns, after.user_turns, thresholds.user_summary_every_n),
        extractions=extractions,
    )
