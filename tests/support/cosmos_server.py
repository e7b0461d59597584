"""Cosmos DB endpoints for tests: the npm ``@vercel/cosmosdb-server`` on 127.0.0.1, or an account.

``cosmos_server`` (session fixture) starts that server's CLI on a free port of 127.0.0.1 when
``node`` and the package are installed (``npm install --prefix .ci/node
@vercel/cosmosdb-server@1.0.1``) and skips otherwise. It is started through
``cosmosdb_server.js`` beside this module, which adapts one protocol detail: the Python SDK
names a transactional batch's partition key in a header only, the server reads it from each
operation, so the launcher copies the header into operations that name none.

That server speaks the REST protocol for CRUD, patch, transactional batch and simple queries.
A batch runs its operations in order and stops at the first failure (the rest answer 424), but
it does not roll back the operations before a failed one: the store puts the only operation
that can fail under concurrency (the thread head's ETag-conditioned replacement) first, and the
rollback itself is proved against an account only. The server lacks prefix (hierarchical)
partition-key queries, ``RRF`` / ``VectorDistance`` / ``FullTextScore``, TTL and 404 on missing
reads, so those paths are checked by the requests the store sends (:class:`RequestLog`).

``account_skip_reason`` / ``account_store`` serve the contract suite against a real account
(or the official emulator) named by ``COSMOS_DB_ENDPOINT`` — see ``Docs/azure_testing.md``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / ".ci" / "node"
LIB = NODE_DIR / "node_modules" / "@vercel" / "cosmosdb-server" / "lib"
CLI = LIB / "cli.js"
#: Starts the server with the batch partition-key adaptation (see the module docstring).
LAUNCHER = Path(__file__).resolve().with_name("cosmosdb_server.js")
#: Any base64 text is a valid key for the npm server.
SERVER_KEY = "dGVzdC1rZXk="


@dataclass(frozen=True)
class CosmosServer:
    """A running npm Cosmos DB server."""

    endpoint: str
    key: str = SERVER_KEY


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"cosmosdb-server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"cosmosdb-server did not listen on port {port} within {timeout} s")


@pytest.fixture(scope="session")
def cosmos_server() -> Iterator[CosmosServer]:
    """The npm Cosmos DB server on a free port of 127.0.0.1 for this test session."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: cannot run @vercel/cosmosdb-server")
    if not CLI.exists():
        pytest.skip(
            f"@vercel/cosmosdb-server is not installed under {NODE_DIR}: run "
            "`npm install --prefix .ci/node @vercel/cosmosdb-server@1.0.1`"
        )
    port = _free_port()
    process = subprocess.Popen(
        [node, str(LAUNCHER), str(LIB), "-p", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(port, process, timeout=15.0)
        yield CosmosServer(endpoint=f"https://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def unique_database() -> str:
    """A fresh database name, so tests sharing a server never see each other's items."""
    return f"test-{uuid.uuid4().hex[:12]}"


@dataclass
class RecordedRequest:
    """One HTTP request the Cosmos client sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def partition_key(self) -> Any:
        """The full partition key the request targets (parsed), or None."""
        raw = self.headers.get("x-ms-documentdb-partitionkey")
        return None if raw is None else json.loads(raw)

    @property
    def is_query(self) -> bool:
        return isinstance(self.body, dict) and "query" in self.body

    @property
    def is_prefix_scoped(self) -> bool:
        """True when the request targets a partition-key prefix (an EPK range)."""
        return "x-ms-start-epk" in self.headers and "x-ms-end-epk" in self.headers

    @property
    def is_cross_partition(self) -> bool:
        value = self.headers.get("x-ms-documentdb-query-enablecrosspartition", "")
        return value.lower() == "true"


@dataclass
class RequestLog:
    """An azure-core ``raw_request_hook`` that keeps every request the client sends."""

    requests: list[RecordedRequest] = field(default_factory=list)

    def __call__(self, pipeline_request: Any) -> None:
        request = pipeline_request.http_request
        body = request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        if isinstance(body, str) and body:
            body = json.loads(body)
        path = request.url.split("://", 1)[-1].split("/", 1)[-1]
        headers = {k.lower(): str(v) for k, v in request.headers.items()}
        self.requests.append(RecordedRequest(request.method, "/" + path, headers, body))

    def mark(self) -> int:
        """The current position, to look at what was sent after it."""
        return len(self.requests)

    def since(self, mark: int) -> list[RecordedRequest]:
        return self.requests[mark:]

    def queries(self, mark: int = 0, container: str | None = None) -> list[RecordedRequest]:
        """Query requests (optionally to one container) sent after ``mark``."""
        return [
            r
            for r in self.since(mark)
            if r.is_query and (container is None or f"/colls/{container}/" in r.path)
        ]

    def created_containers(self) -> list[dict[str, Any]]:
        """Bodies of the container-creation requests."""
        return [
            r.body
            for r in self.requests
            if r.method == "POST" and r.path.rstrip("/").endswith("/colls")
        ]


# -- a real account (or the official emulator) -----------------------------------------------


def account_skip_reason() -> str | None:
    """Why the contract suite cannot run against Cosmos DB here, or None when it can."""
    if not os.environ.get("COSMOS_DB_ENDPOINT", "").strip():
        return "COSMOS_DB_ENDPOINT is not set: no Cosmos DB account to test against"
    return None


def account_options(dimensions: int) -> dict[str, Any]:
    """Store arguments for the configured account, in a database of its own."""
    from agent_memory.settings import Settings

    settings = Settings.from_env()
    database = os.environ.get("COSMOS_DB_TEST_DATABASE", "").strip() or unique_database()
    return {
        "endpoint": settings.cosmos_endpoint,
        "key": settings.cosmos_key,
        "client_id": settings.azure_client_id,
        "database": database,
        "dimensions": dimensions,
        "vector_index": settings.cosmos_vector_index,
        "verify_tls": settings.cosmos_verify_tls,
    }


def drop_database(options: dict[str, Any]) -> None:
    """Delete a test database created by :func:`account_options` (not a named one)."""
    if os.environ.get("COSMOS_DB_TEST_DATABASE", "").strip():
        return
    from azure.cosmos import CosmosClient
    from azure.identity import DefaultAzureCredential

    credential: Any = options["key"] or DefaultAzureCredential(
        managed_identity_client_id=options["client_id"]
    )
    extra = {} if options["verify_tls"] else {"connection_verify": False}
    with CosmosClient(options["endpoint"], credential, **extra) as client:
        client.delete_database(options["database"])
