"""Shared fixtures: a controllable clock, stores for the contract suite, clients."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from agent_memory import LocalEmbedder, MemoryClient, MemoryStore, SqliteStore
from tests.support.openai_server import openai_server  # noqa: F401  (fixture)


class FakeClock:
    """A clock tests move by hand, for TTL and timestamps."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()


class Embed:
    """Embeds one text with the local model (what clients do before calling a store)."""

    def __init__(self, embedder: LocalEmbedder) -> None:
        self.embedder = embedder

    def __call__(self, text: str) -> npt.NDArray[np.float32]:
        return self.embedder.embed([text])[0]

    def many(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return self.embedder.embed(texts)


@pytest.fixture
def embed(embedder: LocalEmbedder) -> Embed:
    return Embed(embedder)


def _store_kinds() -> list[object]:
    kinds: list[object] = ["sqlite"]
    kinds.append(
        pytest.param(
            "cosmos",
            marks=pytest.mark.skip(
                reason="CosmosStore is not part of this build"
                if os.environ.get("COSMOS_DB_ENDPOINT")
                else "COSMOS_DB_ENDPOINT is not set: no Cosmos DB account to test against"
            ),
        )
    )
    return kinds


@pytest.fixture(params=_store_kinds())
def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, embedder: LocalEmbedder
) -> Iterator[MemoryStore]:
    """Every store implementation, ready for the contract suite."""
    created = SqliteStore(tmp_path / "contract.db", clock=clock)
    created.ensure_embedding_model(embedder.model, embedder.dimensions)
    yield created
    created.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "memory.db"


@pytest.fixture
def client(db_path: Path) -> Iterator[MemoryClient]:
    with MemoryClient(path=db_path) as opened:
        yield opened
