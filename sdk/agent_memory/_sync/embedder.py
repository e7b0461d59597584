# Generated from agent_memory/_async/embedder.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""The embedder interface and the OpenAI / Azure OpenAI embedder (sync, generated)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from agent_memory.errors import ModelError

if TYPE_CHECKING:  # openai loads only when a model is configured
    from openai import AzureOpenAI, OpenAI


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors; ``model`` and ``dimensions`` are recorded by the store."""

    model: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One row per text."""
        ...

    def close(self) -> None:
        """Release network resources."""
        ...


class OpenAIEmbedder:
    """Embeddings from Azure OpenAI / AI Foundry (``model`` = deployment) or any OpenAI API."""

    def __init__(
        self,
        client: OpenAI | AzureOpenAI,
        *,
        model: str,
        dimensions: int = 1536,
        batch_size: int = 256,
    ) -> None:
        self.model = model
        self.dimensions = dimensions
        self._client = client
        self._batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One row per text, requested in batches of ``batch_size``."""
        from openai import OpenAIError

        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), self._batch_size):
            chunk = list(texts[start : start + self._batch_size])
            try:
                response = self._client.embeddings.create(
                    model=self.model, input=chunk, dimensions=self.dimensions
                )
            except OpenAIError as exc:
                raise ModelError(f"embedding request failed: {exc}") from exc
            for item in response.data:
                out[start + item.index] = np.asarray(item.embedding, dtype=np.float32)
        return out

    def close(self) -> None:
        """Close the underlying HTTP client."""
        self._client.close()
