"""What the command line prints: JSON, short text lines and a progress bar on a terminal."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


def jsonable(value: Any) -> Any:
    """Pydantic models, dicts and lists as plain JSON values (embeddings are never included)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    """``value`` as indented JSON on standard output."""
    print(json.dumps(jsonable(value), indent=2, ensure_ascii=False))


class Progress:
    """``label done/total`` redrawn on one line of standard error, only on a terminal."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream or sys.stderr
        self._shown = self.total > 0 and self._stream.isatty()

    def advance(self, by: int = 1) -> None:
        """Count ``by`` more items done and redraw."""
        self.done += by
        if self._shown:
            width = 30
            filled = width * self.done // self.total
            bar = "#" * filled + "-" * (width - filled)
            self._stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
            self._stream.flush()

    def finish(self) -> None:
        """End the progress line."""
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()
