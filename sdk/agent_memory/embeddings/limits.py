"""Keeping embedding inputs within a hosted model's limits; the content itself is stored whole.

OpenAI and Azure OpenAI embedding models (``text-embedding-3-small``/``-large``, ``ada-002``)
accept at most 8,191 tokens per input and refuse a longer one with HTTP 400. Their tokenizers
are byte-level BPE, so a token covers at least one UTF-8 byte: an input of at most 8,191 bytes
is within the limit whatever its language, with no tokenizer needed. A longer text is cut into
such chunks (at whitespace where one is near), each chunk is embedded, and the text's vector
is the mean of its chunks' vectors weighted by their length, normalised to unit length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

#: Tokens per input the OpenAI / Azure OpenAI embedding models accept.
MAX_INPUT_TOKENS: Final = 8191
#: Inputs, and UTF-8 bytes, sent in one embeddings request (the service allows 2,048 inputs
#: and 300,000 tokens per request).
MAX_REQUEST_INPUTS: Final = 2048
MAX_REQUEST_BYTES: Final = 250_000
#: How far back from a chunk's end a whitespace may be to end the chunk there instead.
_BACKTRACK: Final = 0.2


def chunk_text(text: str, max_bytes: int = MAX_INPUT_TOKENS) -> list[str]:
    """``text`` cut into pieces of at most ``max_bytes`` UTF-8 bytes (one piece if it fits)."""
    if len(text.encode("utf-8")) <= max_bytes:
        return [text]
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end, size = start, 0
        while end < len(text):
            width = len(text[end].encode("utf-8", "surrogatepass"))
            if size + width > max_bytes:
                break
            size += width
            end += 1
        if end < len(text):
            cut = text.rfind(" ", start, end)
            if cut > start and end - cut <= (end - start) * _BACKTRACK:
                end = cut + 1
        pieces.append(text[start:end])
        start = end
    return pieces


def request_batches(pieces: Sequence[str], max_inputs: int) -> list[tuple[int, int]]:
    """``(start, stop)`` ranges of ``pieces`` that each fit one embeddings request."""
    ranges: list[tuple[int, int]] = []
    start, size = 0, 0
    for index, piece in enumerate(pieces):
        width = len(piece.encode("utf-8", "surrogatepass"))
        if index > start and (index - start >= max_inputs or size + width > MAX_REQUEST_BYTES):
            ranges.append((start, index))
            start, size = index, 0
        size += width
    if start < len(pieces):
        ranges.append((start, len(pieces)))
    return ranges


def combine(
    vectors: npt.NDArray[np.float32], owners: Sequence[int], weights: Sequence[int], count: int
) -> npt.NDArray[np.float32]:
    """One unit vector per text: its chunks' vectors averaged by ``weights``, normalised."""
    out = np.zeros((count, vectors.shape[1]), dtype=np.float32)
    np.add.at(out, np.asarray(owners), vectors * np.asarray(weights, dtype=np.float32)[:, None])
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    combined: npt.NDArray[np.float32] = (out / norms).astype(np.float32)
    return combined
