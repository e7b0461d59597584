"""The local default embedder: wordllama static embeddings, weights shipped in its wheel."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from agent_memory.core.errors import ConfigurationError

DEFAULT_CONFIG: Final = "l2_supercat"
DEFAULT_DIMENSIONS: Final = 256

_models: dict[tuple[str, int], Any] = {}
_lock = threading.Lock()


@contextmanager
def _root_logger_kept() -> Iterator[None]:
    """Put the root logger's level and handlers back as they were after the block.

    A library is a guest: a dependency's import-time ``logging.basicConfig(level=INFO)``
    would add a stderr handler to the application's root logger and turn on every library's
    INFO lines (each HTTP request, for one). Whatever the block adds is removed again.
    """
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)


def _load(config: str, dimensions: int) -> Any:
    """Load (once per process) a wordllama model from the installed package, never a hub."""
    with _lock:
        model = _models.get((config, dimensions))
        if model is None:
            try:
                with _root_logger_kept():  # wordllama calls logging.basicConfig at import
                    import wordllama
            except ImportError as exc:  # pragma: no cover - a declared dependency
                raise ConfigurationError(
                    "the local embedder needs the 'wordllama' package"
                ) from exc
            WordLlama = wordllama.WordLlama
            package_dir = Path(wordllama.__file__).parent
            try:
                model = WordLlama.load(
                    config=config, cache_dir=package_dir, dim=dimensions, disable_download=True
                )
            except Exception as exc:
                raise ConfigurationError(
                    f"wordllama model {config!r} ({dimensions} dims) is not bundled: {exc}"
                ) from exc
            _models[(config, dimensions)] = model
        return model


class LocalEmbedder:
    """CPU embeddings with no network: 256-dimension wordllama vectors, L2-normalised.

    The model loads on the first ``embed`` (once per process), so clients that only read
    start fast.
    """

    def __init__(self, config: str = DEFAULT_CONFIG, dimensions: int = DEFAULT_DIMENSIONS) -> None:
        self.model = f"wordllama/{config}"
        self.dimensions = dimensions
        self._config = config

    @property
    def _wl(self) -> Any:
        return _load(self._config, self.dimensions)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One row per text."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = self._wl.embed(list(texts), norm=True)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimensions)

    def close(self) -> None:
        """Nothing to release; the model stays cached for the process."""


class AsyncLocalEmbedder(LocalEmbedder):
    """Async face of :class:`LocalEmbedder`: embedding is CPU-bound (tokenizing and pooling
    long texts takes tens to hundreds of milliseconds), so it runs in a worker thread and the
    event loop stays free."""

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:  # type: ignore[override]
        """One row per text, computed in a worker thread (``asyncio.to_thread``)."""
        if not texts:
            return LocalEmbedder.embed(self, texts)
        return await asyncio.to_thread(LocalEmbedder.embed, self, list(texts))

    async def close(self) -> None:  # type: ignore[override]
        """Nothing to release."""
