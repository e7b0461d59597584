"""The embedder interface and the OpenAI / Azure OpenAI embedder (async source)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from agent_memory.core.errors import ModelError
from agent_memory.embeddings.limits import (
    MAX_INPUT_TOKENS,
    MAX_REQUEST_INPUTS,
    chunk_text,
    combine,
    request_batches,
)

if TYPE_CHECKING:  # openai loads only when a model is configured
    from openai import AsyncAzureOpenAI, AsyncOpenAI


@runtime_checkable
class AsyncEmbedder(Protocol):
    """Turns texts into vectors; ``model`` and ``dimensions`` are recorded by the store."""

    model: str
    dimensions: int

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One row per text."""
        ...

    async def close(self) -> None:
        """Release network resources."""
        ...


class AsyncOpenAIEmbedder:
    """Embeddings from Azure OpenAI / AI Foundry (``model`` = deployment) or any OpenAI API.

    Inputs are kept within the model's limit of ``max_input_tokens`` per input: a longer text
    is embedded in chunks of at most that many UTF-8 bytes and their vectors averaged (see
    :mod:`agent_memory.embeddings.limits`); the text itself is stored whole.
    """

    def __init__(
        self,
        client: AsyncOpenAI | AsyncAzureOpenAI,
        *,
        model: str,
        dimensions: int = 1536,
        batch_size: int = 256,
        max_input_tokens: int = MAX_INPUT_TOKENS,
    ) -> None:
        self.model = model
        self.dimensions = dimensions
        self._client = client
        self._batch_size = min(batch_size, MAX_REQUEST_INPUTS)
        self._max_input_bytes = max_input_tokens

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One unit row per text; long texts as the weighted mean of their chunks."""
        pieces: list[str] = []
        owners: list[int] = []
        for index, text in enumerate(texts):
            for piece in chunk_text(text, self._max_input_bytes):
                pieces.append(piece)
                owners.append(index)
        if len(pieces) == len(texts):
            return await self._embed_pieces(pieces)
        vectors = await self._embed_pieces(pieces)
        return combine(vectors, owners, [len(p) for p in pieces], len(texts))

    async def _embed_pieces(self, pieces: Sequence[str]) -> npt.NDArray[np.float32]:
        from openai import OpenAIError

        out = np.zeros((len(pieces), self.dimensions), dtype=np.float32)
        for start, stop in request_batches(pieces, self._batch_size):
            try:
                response = await self._client.embeddings.create(
                    model=self.model, input=list(pieces[start:stop]), dimensions=self.dimensions
                )
            except OpenAIError as exc:
                raise ModelError(f"embedding request failed: {exc}") from exc
            for item in response.data:
                out[start + item.index] = np.asarray(item.embedding, dtype=np.float32)
        return out

    async def close(self) -> None:
        """Close the underlying HTTP client."""
        await self._client.close()
