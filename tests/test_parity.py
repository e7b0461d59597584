"""Sync and async surfaces are one implementation with identical signatures."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import agent_memory
import agent_memory.aio
from agent_memory import MemoryClient, MemoryStore
from agent_memory.aio import MemoryClient as AsyncMemoryClient
from agent_memory.aio import MemoryStore as AsyncMemoryStore
from agent_memory.aio import SqliteStore as AsyncSqliteStore

ROOT = Path(__file__).resolve().parent.parent


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_") or name in ("__enter__", "__aenter__", "__exit__", "__aexit__")
    }


def normalized(sig: inspect.Signature) -> list[tuple[str, object, object, str]]:
    return [
        (p.name, p.kind, p.default, str(p.annotation).replace("Async", ""))
        for p in sig.parameters.values()
    ]


def test_clients_expose_the_same_methods_with_the_same_signatures() -> None:
    sync = public_methods(MemoryClient)
    asynchronous = public_methods(AsyncMemoryClient)
    rename = {"__aenter__": "__enter__", "__aexit__": "__exit__"}
    assert {rename.get(n, n) for n in asynchronous} == set(sync)
    for name, sig in asynchronous.items():
        assert normalized(sig) == normalized(sync[rename.get(name, name)]), name
        if name == "from_env":  # a constructor: sync on both
            continue
        assert inspect.iscoroutinefunction(getattr(AsyncMemoryClient, name)), name
        assert not inspect.iscoroutinefunction(getattr(MemoryClient, rename.get(name, name))), name
    expected = {
        "add",
        "add_turns",
        "get_turns",
        "search",
        "get_memories",
        "get_memory",
        "add_memory",
        "get_thread_summary",
        "get_user_summary",
        "forget",
        "close",
        "from_env",
    }
    assert expected <= set(sync)


def test_stores_share_the_contract() -> None:
    protocol = {n for n in dir(MemoryStore) if not n.startswith("_")}
    assert protocol == {n for n in dir(AsyncMemoryStore) if not n.startswith("_")}
    for name in protocol:
        assert normalized(inspect.signature(getattr(MemoryStore, name))) == normalized(
            inspect.signature(getattr(AsyncMemoryStore, name))
        ), name
        assert inspect.iscoroutinefunction(getattr(AsyncSqliteStore, name)), name
    assert isinstance(AsyncSqliteStore.__new__(AsyncSqliteStore), AsyncMemoryStore)
    assert isinstance(agent_memory.SqliteStore.__new__(agent_memory.SqliteStore), MemoryStore)


def test_aio_exports_mirror_the_sync_exports() -> None:
    for name in (
        "MemoryClient",
        "MemoryStore",
        "SqliteStore",
        "CosmosStore",
        "Embedder",
        "OpenAIEmbedder",
        "LocalEmbedder",
    ):
        assert hasattr(agent_memory, name) and hasattr(agent_memory.aio, name), name


def test_generated_sync_code_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/unasync.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_sdk_imports_without_azure_functions() -> None:
    code = (
        "import sys\n"
        "sys.modules['azure.functions'] = None\n"
        "sys.modules['azure.durable_functions'] = None\n"
        "import agent_memory, agent_memory.aio, agent_memory.cli\n"
        "print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr
