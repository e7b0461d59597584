"""Who runs the pipeline, and the shapes of what it reports: a failed step, a ``process_now``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from agent_memory.core.requests import ExtractResult, ReconcileResult, SummaryResult

OWNER_INPROCESS = "inprocess"
OWNER_DURABLE = "durable"


class StepFailure(BaseModel):
    """One step that raised; its turns stay pending for the next run."""

    user_id: str
    thread_id: str | None
    step: str
    error: str
    at: datetime


class ProcessReport(BaseModel):
    """What ``process_now`` ran."""

    extracted: dict[str, ExtractResult] = Field(default_factory=dict)
    thread_summaries: dict[str, SummaryResult] = Field(default_factory=dict)
    reconciled: ReconcileResult | None = None
    user_summary: SummaryResult | None = None
