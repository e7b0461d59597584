"""Shared fixtures: a controllable clock, stores for the contract suite, clients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from agent_memory import LocalEmbedder, MemoryClient, MemoryStore, SqliteStore
from agent_memory.stores.cosmos._sync.store import CosmosStore
from tests.support.cosmos_server import (
    account_options,
    account_skip_reason,
    cosmos_server,  # noqa: F401  (fixture)
    drop_database,
)
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
    reason = account_skip_reason()
    cosmos = "cosmos" if reason is None else pytest.param("cosmos", marks=pytest.mark.skip(reason))
    return ["sqlite", cosmos]


#: Users the contract suite writes; a Cosmos test database is cleared of them after each test.
CONTRACT_USERS = ("alice", "bob", "carol")


@pytest.fixture(scope="session")
def cosmos_account(embedder: LocalEmbedder) -> Iterator[dict[str, Any]]:
    """Store options for the Cosmos DB account under test, in a database of its own."""
    options = account_options(embedder.dimensions)
    yield options
    drop_database(options)


@pytest.fixture(params=_store_kinds())
def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, embedder: LocalEmbedder
) -> Iterator[MemoryStore]:
    """Every store implementation, ready for the contract suite."""
    created: MemoryStore
    if request.param == "cosmos":
        options = request.getfixturevalue("cosmos_account")
        created = CosmosStore(**options, clock=clock)
    else:
        created = SqliteStore(tmp_path / "contract.db", clock=clock)
    created.ensure_embedding_model(embedder.model, embedder.dimensions)
    shared = request.param == "cosmos"  # one database per session: start and end empty
    for user in CONTRACT_USERS if shared else ():
        created.forget(user)
    yield created
    for user in CONTRACT_USERS if shared else ():
        created.forget(user)
    created.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "memory.db"


@pytest.fixture
def client(db_path: Path) -> Iterator[MemoryClient]:
    with MemoryClient(path=db_path) as opened:
        yield opened
