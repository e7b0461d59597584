"""What a step logs when the user was forgotten while it ran (it then writes nothing more)."""

from __future__ import annotations

import logging

logger = logging.getLogger("agent_memory.pipeline")


def log_forgotten(step: str) -> None:
    """Log, at INFO, that ``step`` stopped because its user was forgotten meanwhile."""
    logger.info("%s: the user was forgotten while the step ran; it wrote nothing since", step)
