"""Versioned prompts. Each module has ``PROMPT_ID``, ``VERSION``, its output model and builder.

The version is stamped on every memory and summary a prompt produces; bump it with any change
to the wording or the output model.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PromptRef:
    """Identity of a prompt: what a usage record and a written memory carry."""

    id: str
    version: str

    @property
    def tag(self) -> str:
        """``id@version``, the value of ``prompt_version`` on what it writes."""
        return f"{self.id}@{self.version}"
